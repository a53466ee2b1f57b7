"""Open Badges 3.0 for earned credit: signing VC-JWTs, the issuer's keys, and verifying badges.

Convention (OB 3.0 §8.2, "JSON Web Token Proof Format", with VC Data Model 2.0):
- JOSE header: only `alg` (RS256), `kid` (a URL dereferencing to the public JWK) and `typ` "JWT"
  (OB 3.0 says `typ`, if present, MUST be "JWT"; VC-JOSE-COSE's "vc+jwt" is not used).
- JWT payload: the OpenBadgeCredential itself (no `vc` wrapper) plus `iss` = issuer.id,
  `jti` = id, `sub` = credentialSubject.id, `nbf` = validFrom, and `iat` (when it was signed).
- One badge per standing (unreversed) credit record; the learner is `urn:bedside:learner:<id>`,
  the opaque ledger id, never a name or e-mail.
- The Achievement id is the xAPI activity IRI (it names the activity type: a case and a
  point-of-care cycle on one module version are two achievements) and `#<credit type>`.

Badges (and their status lists) are signed RS256 with an RSA issuer key of RSA_KEY_BITS bits,
made once per instance (badge_issuer_rsa_key.json, mode 0600, never overwritten). OB 3.0 §8.2
says "alg: The signing algorithm MUST be "RS256" as a minimum", and RS256 is the JWT proof the
1EdTech conformance suite checks. 3072 bits gives about 128-bit security (NIST SP 800-57), as the
P-256 key it replaces did, and stays acceptable past 2030 for badges verified years later.

Badges issued before the move were signed ES256 with a P-256 key (badge_issuer_key.json). That
file is read, never made or changed: while it exists its public key stays published next to the
RSA key, so those badges keep verifying. The public keys are published as a JWKS: written next
to each badge export (`issuer-jwks.json`) and served at /ledger/badges/jwks.json. Each key's
`kid` is a URL that dereferences to the public JWK (/ledger/badges/keys/<RFC 7638 thumbprint>),
as Open Badges 3.0 asks of a `kid`, and each JWK names its own `alg` (RS256 or ES256).

Verifying checks, in order (the first failing group stops the rest, so an unverified payload is
never trusted): the compact form and JOSE header (alg RS256 or ES256, typ "JWT" or absent, no
other parameters than alg/kid/typ); the key (the header's kid in the given JWKS); the signature;
then iss = issuer.id, jti = id, sub = credentialSubject.id, nbf = validFrom and not in the
future, exp/validUntil not passed, and the OB 3.0 fields the spec requires.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from app.fhir_json import dicts_in, is_number
from app.ledger.chain import CreditRecord, canonical_json, from_hundredths, parse_timestamp
from app.ledger.outputs import records as shared
from app.ledger.outputs.xapi import activity_id

CONTEXTS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
BADGE_NAMESPACE = uuid.UUID("0d6c1f44-8a0e-5a53-b1d2-7c4e9e2a6f30")
ISSUER_PATH = "/ledger/badges/issuer"
CRITERIA = {
    "case": "Pass the case's assessment at or above its pass mark of {pass_mark}%, which is "
    "shown to the learner before the case starts.",
    "poc": "Complete an internet point-of-care learning cycle: record the clinical question, "
    "the sources consulted and the application to practice.",
    "journal-club": "Take part in a journal club: post a structured reflection (what would "
    "change in your practice, and the barriers) while its discussion window is open.",
}

KEY_FILE = "badge_issuer_rsa_key.json"
LEGACY_KEY_FILE = "badge_issuer_key.json"  # the P-256 key of badges signed before RS256
JWKS_FILE = "issuer-jwks.json"
KEYS_PATH = "/ledger/badges/keys/"
JWKS_PATH = "/ledger/badges/jwks.json"
RSA_KEY_BITS = 3072
KEY_ALGORITHMS = {"RSA": "RS256", "EC": "ES256"}

ALLOWED_ALGORITHMS = tuple(KEY_ALGORITHMS.values())
HEADER_PARAMETERS = frozenset({"alg", "kid", "typ"})
CLOCK_SKEW_SECONDS = 60

READ_ATTEMPTS = 5  # a key file met half-written (no hard links) is read again this many times
READ_RETRY_SECONDS = 0.1

SigningKey = RSAKey | ECKey
KeyType = TypeVar("KeyType", RSAKey, ECKey)

log = logging.getLogger(__name__)

# Each key file's key, imported once per process and per version of the file: importing a private
# RSA key validates it (~150 ms), far too slow for every request to the public badge endpoints.
LOADED_KEYS: dict[tuple[Path, type], tuple[tuple[int, int, int], SigningKey]] = {}


@dataclass(frozen=True)
class Issuer:
    """The badge issuer's profile: a URL id and the provider's name."""

    id: str
    name: str

    def profile(self) -> dict:
        """Return the issuer as an OB 3.0 Profile."""
        return {"id": self.id, "type": ["Profile"], "name": self.name}


def jwks_url(issuer: str) -> str:
    """Return where a Bedside issuer (by its id) serves its current JWKS (just the path, if not)."""
    base = issuer.removesuffix(ISSUER_PATH)
    return base + JWKS_PATH if base != issuer else JWKS_PATH


def issuer_for(base_url: str, name: str) -> Issuer:
    """Return the issuer whose profile this Bedside instance serves."""
    return Issuer(id=base_url.rstrip("/") + ISSUER_PATH, name=name)


def learner_uri(learner_id: str) -> str:
    """Return the credential subject id of a learner (opaque)."""
    return f"urn:bedside:learner:{learner_id}"


def credential(
    record: CreditRecord,
    *,
    issuer: Issuer,
    base_url: str,
    library: Mapping[str, dict] | None = None,
    language: str = "en",
    status: Mapping[str, str] | None = None,
) -> dict:
    """Build the OpenBadgeCredential for one credit record (with its revocation entry, if any)."""
    modules = library or {}
    title = shared.title(modules, record, language)
    amount = float(from_hundredths(record.amount_hundredths))
    label = shared.credit_label(record.credit_type)
    made = {
        "@context": list(CONTEXTS),
        "id": f"urn:uuid:{uuid.uuid5(BADGE_NAMESPACE, record.record_hash)}",
        "type": list(CREDENTIAL_TYPES),
        "issuer": issuer.profile(),
        "validFrom": whole_seconds(parse_timestamp(record.earned_at)),
        "name": f"{title}: {shared.amount_text(from_hundredths(record.amount_hundredths))} {label}",
        "credentialSubject": {
            "id": learner_uri(record.learner_id),
            "type": ["AchievementSubject"],
            "achievement": achievement(record, title, modules, base_url, language),
            "creditsEarned": amount,
        },
    }
    if status is not None:
        made["credentialStatus"] = dict(status)
    return made


def achievement(
    record: CreditRecord, title: str, modules: Mapping[str, dict], base_url: str, language: str
) -> dict:
    """Describe the activity and the credit type as an OB 3.0 Achievement."""
    designated = from_hundredths(record.designated_hundredths)
    kind = shared.activity_label(record.activity_type, "en").lower()
    module = modules.get(record.module_id or "", {})
    narrative = CRITERIA[record.activity_type].format(
        pass_mark=module.get("pass_mark_percent", "the stated")
    )
    return {
        "id": f"{activity_id(record, base_url)}#{record.credit_type}",
        "type": ["Achievement"],
        "name": title,
        "description": f"Bedside {kind} activity designated for a maximum of "
        f"{shared.amount_text(designated)} {shared.credit_label(record.credit_type)}.",
        "criteria": {"narrative": narrative},
        "creditsAvailable": float(designated),
        "inLanguage": shared.pick_language(language),
    }


def whole_seconds(moment: datetime) -> str:
    """Format a moment as an XML Schema dateTime in UTC, to the second (nbf has no fraction)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jwt_claims(credential_: dict, issued_at: datetime) -> dict:
    """Return the JWT payload: the credential and the registered claims that mirror it."""
    valid_from = datetime.strptime(credential_["validFrom"], "%Y-%m-%dT%H:%M:%SZ")
    return {
        **credential_,
        "iss": issuer_id(credential_),
        "jti": credential_["id"],
        "sub": credential_["credentialSubject"]["id"],
        "nbf": int(valid_from.replace(tzinfo=UTC).timestamp()),
        "iat": int(issued_at.timestamp()),
    }


def issuer_id(credential_: dict) -> str:
    """Return a credential's issuer id (a Profile object's id or a bare URL; '' when neither)."""
    issuer = credential_.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def sign(credential_: dict, key: SigningKey, kid: str, issued_at: datetime | None = None) -> str:
    """Sign a credential as a compact JWS with the key's algorithm (RS256 for the issuer key)."""
    algorithm = algorithm_for(key)
    header = {"alg": algorithm, "kid": kid, "typ": "JWT"}
    payload = canonical_json(jwt_claims(credential_, issued_at or datetime.now(UTC)))
    return jws.serialize_compact(header, payload.encode(), key, algorithms=[algorithm])


def algorithm_for(key: SigningKey) -> str:
    """Return the JWS algorithm a key signs with: RS256 for RSA, ES256 for P-256."""
    return KEY_ALGORITHMS[key.key_type]


def issue_badges(
    records: Iterable[CreditRecord],
    *,
    key: SigningKey,
    kid: str,
    issuer: Issuer,
    base_url: str,
    library: Mapping[str, dict] | None = None,
    language: str = "en",
    issued_at: datetime | None = None,
    statuses: Mapping[int, Mapping[str, str]] | None = None,
) -> Iterator[str]:
    """Sign one badge per credit record that no reversal among the records cancels.

    `statuses` gives each record's `credentialStatus` entry by sequence (status_list.entry).
    """
    for record in shared.standing_credits(list(records)):
        made = credential(
            record,
            issuer=issuer,
            base_url=base_url,
            library=library,
            language=language,
            status=(statuses or {}).get(record.sequence),
        )
        yield sign(made, key, kid, issued_at)


def issuer_key(instance_path: Path | str) -> RSAKey:
    """Load the issuer's RSA signing key, made on first use (mode 0600, never overwritten)."""
    return rsa_key_file(Path(instance_path) / KEY_FILE)


def legacy_issuer_key(instance_path: Path | str) -> ECKey | None:
    """Load the P-256 key of badges signed ES256 before RS256, if the instance has one."""
    path = Path(instance_path) / LEGACY_KEY_FILE
    return read_key(path, ECKey) if path.exists() else None


def issuer_keys(instance_path: Path | str) -> list[SigningKey]:
    """Return every key the issuer publishes: the RSA signing key, then the legacy P-256 key."""
    legacy = legacy_issuer_key(instance_path)
    return [issuer_key(instance_path), *([legacy] if legacy is not None else [])]


def issuer_jwks(instance_path: Path | str, base_url: str) -> dict:
    """Return the issuer's published JWKS: every key a badge of this instance may be signed with."""
    return {"keys": [public_jwk(key, key_id(base_url, key)) for key in issuer_keys(instance_path)]}


def published_key(instance_path: Path | str, thumbprint: str) -> SigningKey | None:
    """Return the published issuer key with this RFC 7638 thumbprint (None when there is none)."""
    return next((key for key in issuer_keys(instance_path) if key.thumbprint() == thumbprint), None)


def rsa_key_file(path: Path) -> RSAKey:
    """Load an RSA private key (RSA_KEY_BITS) from a JSON file, creating it on first use."""
    return key_file(path, RSAKey, lambda: RSAKey.generate_key(RSA_KEY_BITS, private=True))


def p256_key_file(path: Path) -> ECKey:
    """Load a P-256 private key from a JSON file, creating it on first use."""
    return key_file(path, ECKey, lambda: ECKey.generate_key("P-256", private=True))


def key_file(path: Path, key_class: type[KeyType], generate: Callable[[], KeyType]) -> KeyType:
    """Load a private JWK from a file, creating it on first use (mode 0600, never overwritten)."""
    if not path.exists():
        key = generate()
        if create_once(path, key.as_dict(private=True)):
            log.warning(
                "Made a new %s signing key at %s (thumbprint %s). Every host serving this "
                "instance needs this same key file: see the key steps in docs/deploy.md.",
                key.key_type,
                path,
                key.thumbprint(),
            )
    return read_key(path, key_class)


def create_once(path: Path, jwk: dict) -> bool:
    """Write a private JWK to a new file (mode 0600), whole, unless another process made it first.

    The JWK goes to a fresh draft (O_EXCL, synced), then is linked into place: linking fails when
    the file exists, so racing processes keep the first key and no one reads a half-written file.
    Where the file system has no hard links, the file itself is written (O_EXCL); a reader that
    meets it half-written retries (read_key). Returns whether this call made the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(jwk)
    draft = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    write_new(draft, text)
    try:
        made = link_new(draft, path)
    except OSError:  # no hard links here (vfat, some CIFS/FUSE mounts)
        made = write_new(path, text)
    finally:
        draft.unlink()
    if made:
        sync_folder(path.parent)
    return made


def link_new(source: Path, target: Path) -> bool:
    """Hard-link a file to a new name; False when the name is taken already."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    return True


def write_new(path: Path, text: str) -> bool:
    """Write and sync a new file (mode 0600); False when it exists already."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def sync_folder(folder: Path) -> None:
    """Sync a folder so a file just made in it survives a crash (best effort)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class UnreadableKey(ValueError):
    """A key file holds no usable key; the message says which file and what to do."""


def read_key(path: Path, key_class: type[KeyType]) -> KeyType:
    """Load a private JWK from its file, waiting briefly while another process still writes it."""
    for _ in range(READ_ATTEMPTS - 1):
        try:
            return loaded_key(path, key_class)
        except UnreadableKey:
            time.sleep(READ_RETRY_SECONDS)
    return loaded_key(path, key_class)


def loaded_key(path: Path, key_class: type[KeyType]) -> KeyType:
    """Return a key file's key, imported once per version of the file (inode, mtime, size)."""
    with path.open("rb") as handle:
        status = os.fstat(handle.fileno())
        version = (status.st_ino, status.st_mtime_ns, status.st_size)
        cached = LOADED_KEYS.get((path, key_class))
        if cached is not None and cached[0] == version:
            return cached[1]
        data = handle.read()
    key = parse_key(path, data, key_class)
    LOADED_KEYS[(path, key_class)] = (version, key)
    return key


def parse_key(path: Path, data: bytes, key_class: type[KeyType]) -> KeyType:
    """Import a private JWK from a key file's bytes; UnreadableKey when they hold none."""
    try:
        return key_class.import_key(json.loads(data))
    except (ValueError, TypeError, KeyError, JoseError) as error:
        raise UnreadableKey(
            f"The key file {path} holds no usable {key_class.key_type} key "
            f"({type(error).__name__}). If it is empty or cut short (a crash while it was first "
            "written), delete it and a new key is made; else restore it from your secret store."
        ) from None


def key_id(base_url: str, key: SigningKey) -> str:
    """Return the key's `kid`: the URL of its public JWK."""
    return f"{base_url.rstrip('/')}{KEYS_PATH}{key.thumbprint()}"


def public_jwk(key: SigningKey, kid: str) -> dict:
    """Return the public JWK (no private members) with its kid, its own algorithm and use."""
    return {**key.as_dict(private=False), "kid": kid, "alg": algorithm_for(key), "use": "sig"}


def public_jwks(key: SigningKey, kid: str) -> dict:
    """Return a JWKS of one key (the checkpoints' key, or one issuer key under its kid)."""
    return {"keys": [public_jwk(key, kid)]}


def write_jwks(path: Path, jwks: dict) -> Path:
    """Write a public JWKS to a file and return its path."""
    path.write_text(json.dumps(jwks, indent=2) + "\n", encoding="utf-8")
    return path


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


class UnknownKey(Invalid):
    """The token's kid names no key in the JWKS it was checked against."""


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
    except RecursionError:
        raise Invalid("the JOSE header cannot be read (nested too deeply)") from None
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
    keys = [key for key in dicts_in(jwks.get("keys")) if key.get("kid") == header.get("kid")]
    if not keys:
        raise UnknownKey(f"no key with kid {header.get('kid')!r} in the issuer's JWKS")
    try:
        key_set = KeySet.import_key_set({"keys": keys})
        verified = jws.deserialize_compact(token, key_set, algorithms=[header["alg"]])
    except JoseError as error:
        raise Invalid(f"the signature does not verify ({error.error})") from None
    except ValueError as error:
        raise Invalid(f"the signature cannot be checked ({error})") from None
    try:
        claims = json.loads(verified.payload)
    except (ValueError, RecursionError):
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
    expires = claims.get("exp")
    if "exp" in claims and not is_number(expires):
        problems.append(f"exp {expires!r} is not a number of seconds")
    elif "exp" in claims and expires < now.timestamp() - CLOCK_SKEW_SECONDS:
        problems.append("the badge has expired")
    return problems


def field_problems(claims: dict) -> list[str]:
    """Check the OB 3.0 fields an OpenBadgeCredential must carry."""
    problems = []
    contexts = as_list(claims.get("@context"))
    if list(contexts[:1]) != [CONTEXTS[0]] or not any(
        str(c).startswith("https://purl.imsglobal.org/spec/ob/v3p0/context") for c in contexts
    ):
        problems.append("@context must start with the VC 2.0 context and include the OB 3.0 one")
    types = [kind for kind in as_list(claims.get("type")) if isinstance(kind, str)]
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
