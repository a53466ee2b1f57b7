"""Verify an Open Badges 3.0 VC-JWT: signature, header, registered claims and required fields.

Checks, in order (the first failing group stops the rest, so an unverified payload is never
trusted): the compact form and JOSE header (alg on the allow-list, typ "JWT" or absent, no other
parameters than alg/kid/typ); the key (the header's kid in the given JWKS); the signature; then
iss = issuer.id, jti = id, sub = credentialSubject.id, nbf = validFrom and not in the future,
exp/validUntil not passed, and the OB 3.0 fields the spec requires.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.ledger.outputs.badges import CONTEXTS

ALLOWED_ALGORITHMS = ("ES256", "RS256")
HEADER_PARAMETERS = frozenset({"alg", "kid", "typ"})
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class BadgeReport:
    """The outcome of verifying one badge."""

    ok: bool
    problems: tuple[str, ...] = ()
    credential: dict = field(default_factory=dict)

    def summary(self) -> str:
        """Say the outcome in one line."""
        if not self.ok:
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            return f"Invalid badge: {self.problems[0]}{more}"
        issuer = self.credential.get("issuer", {})
        return (
            f"Valid Open Badge {self.credential.get('name')!r}, issued by {issuer.get('name')} "
            f"({issuer.get('id')}) to {self.credential['credentialSubject'].get('id')}, "
            f"valid from {self.credential.get('validFrom')}."
        )


class Invalid(Exception):
    """A check failed; the message says which."""


def verify_badge(
    token: str,
    jwks: dict,
    *,
    now: datetime | None = None,
    algorithms: tuple[str, ...] = ALLOWED_ALGORITHMS,
    issuer: str | None = None,
) -> BadgeReport:
    """Verify a badge against the issuer's JWKS (and, if given, its expected issuer id)."""
    try:
        header = check_header(token.strip(), algorithms)
        claims = check_signature(token.strip(), header, jwks)
    except Invalid as error:
        return BadgeReport(False, (str(error),))
    problems = claim_problems(claims, now or datetime.now(UTC), issuer)
    return BadgeReport(not problems, tuple(problems), claims)


def check_header(token: str, algorithms: tuple[str, ...]) -> dict:
    """Decode and check the JOSE header."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Invalid("not a compact JWS (expected three dot-separated parts)")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError) as error:
        raise Invalid(f"the JOSE header cannot be read ({error})") from None
    if not isinstance(header, dict):
        raise Invalid("the JOSE header is not a JSON object")
    if header.get("alg") not in algorithms:
        raise Invalid(f"algorithm {header.get('alg')!r} is not allowed ({', '.join(algorithms)})")
    if header.get("typ", "JWT") != "JWT":
        raise Invalid(f"typ is {header.get('typ')!r}; Open Badges 3.0 requires 'JWT'")
    extra = sorted(set(header) - HEADER_PARAMETERS)
    if extra:
        raise Invalid(f"unexpected JOSE header parameters: {', '.join(extra)}")
    return header


def check_signature(token: str, header: dict, jwks: dict) -> dict:
    """Find the header's key in the JWKS, verify the signature and return the claims."""
    keys = [key for key in jwks.get("keys", []) if key.get("kid") == header.get("kid")]
    if not keys:
        raise Invalid(f"no key with kid {header.get('kid')!r} in the issuer's JWKS")
    try:
        key_set = KeySet.import_key_set({"keys": keys})
        verified = jws.deserialize_compact(token, key_set, algorithms=[header["alg"]])
    except JoseError as error:
        raise Invalid(f"the signature does not verify ({error.error})") from None
    except ValueError as error:
        raise Invalid(f"the signature cannot be checked ({error})") from None
    try:
        claims = json.loads(verified.payload)
    except ValueError:
        raise Invalid("the payload is not JSON") from None
    if not isinstance(claims, dict):
        raise Invalid("the payload is not a JSON object")
    return claims


def claim_problems(claims: dict, now: datetime, issuer: str | None) -> list[str]:
    """Return every problem with the registered claims and the credential's required fields."""
    problems = field_problems(claims)
    if problems:
        return problems
    subject = claims["credentialSubject"]
    mirrors = (
        ("iss", claims["issuer"]["id"], "issuer.id"),
        ("jti", claims["id"], "id"),
        ("sub", subject.get("id"), "credentialSubject.id"),
    )
    for claim, expected, name in mirrors:
        if claims.get(claim) != expected:
            problems.append(f"{claim} {claims.get(claim)!r} does not match {name} {expected!r}")
    if issuer is not None and claims["issuer"]["id"] != issuer:
        problems.append(f"issued by {claims['issuer']['id']!r}, not the expected {issuer!r}")
    return problems + time_problems(claims, now)


def time_problems(claims: dict, now: datetime) -> list[str]:
    """Check nbf against validFrom and the clock, and exp/validUntil when present."""
    valid_from = parse_instant(claims["validFrom"])
    if valid_from is None:
        return [f"validFrom {claims['validFrom']!r} is not a date-time"]
    problems = []
    if claims.get("nbf") != int(valid_from.timestamp()):
        problems.append(f"nbf {claims.get('nbf')!r} does not match validFrom")
    if valid_from.timestamp() > now.timestamp() + CLOCK_SKEW_SECONDS:
        problems.append(f"not valid before {claims['validFrom']}")
    if "exp" in claims and claims["exp"] < now.timestamp() - CLOCK_SKEW_SECONDS:
        problems.append("the badge has expired")
    return problems


def field_problems(claims: dict) -> list[str]:
    """Check the OB 3.0 fields an OpenBadgeCredential must carry."""
    problems = []
    contexts = claims.get("@context") or []
    if list(contexts[:1]) != [CONTEXTS[0]] or not any(
        str(c).startswith("https://purl.imsglobal.org/spec/ob/v3p0/context") for c in contexts
    ):
        problems.append("@context must start with the VC 2.0 context and include the OB 3.0 one")
    types = as_list(claims.get("type"))
    if "VerifiableCredential" not in types or not {
        "OpenBadgeCredential",
        "AchievementCredential",
    } & set(types):
        problems.append("type must include VerifiableCredential and OpenBadgeCredential")
    for name in ("id", "name", "validFrom", "issuer", "credentialSubject"):
        if not claims.get(name):
            problems.append(f"{name} is missing")
    issuer, subject = claims.get("issuer"), claims.get("credentialSubject")
    if (
        not isinstance(issuer, dict)
        or not issuer.get("id")
        or "Profile" not in as_list(issuer.get("type"))
    ):
        problems.append("issuer must be a Profile with an id")
    if not isinstance(subject, dict) or "AchievementSubject" not in as_list(subject.get("type")):
        problems.append("credentialSubject must be an AchievementSubject")
    else:
        problems.extend(achievement_problems(subject.get("achievement")))
    return problems


def achievement_problems(achievement: object) -> list[str]:
    """Check the achievement's required fields."""
    if not isinstance(achievement, dict):
        return ["credentialSubject.achievement is missing"]
    problems = [
        f"achievement.{name} is missing"
        for name in ("id", "name", "description")
        if not achievement.get(name)
    ]
    if "Achievement" not in as_list(achievement.get("type")):
        problems.append("achievement.type must include Achievement")
    criteria = achievement.get("criteria")
    if not isinstance(criteria, dict) or not (criteria.get("narrative") or criteria.get("id")):
        problems.append("achievement.criteria needs a narrative or an id")
    return problems


def as_list(value: object) -> list:
    """Return a JSON-LD value that may be a single item or a list, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def parse_instant(text: object) -> datetime | None:
    """Parse an ISO 8601 date-time with a zone (Z or offset); None when it is not one."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
