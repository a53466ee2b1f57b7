"""Open Badges 3.0 credentials for earned credit, signed with the OB 3.0 JSON Web Token proof.

Convention (OB 3.0 §8.2, "JSON Web Token Proof Format", with VC Data Model 2.0):
- JOSE header: only `alg` (ES256), `kid` (a URL dereferencing to the public JWK) and `typ` "JWT"
  (OB 3.0 says `typ`, if present, MUST be "JWT"; VC-JOSE-COSE's "vc+jwt" is not used).
- JWT payload: the OpenBadgeCredential itself (no `vc` wrapper) plus `iss` = issuer.id,
  `jti` = id, `sub` = credentialSubject.id, `nbf` = validFrom, and `iat` (when it was signed).
- One badge per standing (unreversed) credit record; the learner is `urn:bedside:learner:<id>`,
  the opaque ledger id, never a name or e-mail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from joserfc import jws
from joserfc.jwk import ECKey

from app.ledger.chain import CreditRecord, canonical_json, from_hundredths, parse_timestamp
from app.ledger.outputs import records as shared
from app.ledger.outputs.badge_keys import ALGORITHM
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
}


@dataclass(frozen=True)
class Issuer:
    """The badge issuer's profile: a URL id and the provider's name."""

    id: str
    name: str

    def profile(self) -> dict:
        """Return the issuer as an OB 3.0 Profile."""
        return {"id": self.id, "type": ["Profile"], "name": self.name}


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
) -> dict:
    """Build the OpenBadgeCredential for one credit record."""
    modules = library or {}
    title = shared.title(modules, record, language)
    amount = float(from_hundredths(record.amount_hundredths))
    label = shared.credit_label(record.credit_type)
    return {
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
        "iss": credential_["issuer"]["id"],
        "jti": credential_["id"],
        "sub": credential_["credentialSubject"]["id"],
        "nbf": int(valid_from.replace(tzinfo=UTC).timestamp()),
        "iat": int(issued_at.timestamp()),
    }


def sign(credential_: dict, key: ECKey, kid: str, issued_at: datetime | None = None) -> str:
    """Sign a credential as a compact JWS (ES256)."""
    header = {"alg": ALGORITHM, "kid": kid, "typ": "JWT"}
    payload = canonical_json(jwt_claims(credential_, issued_at or datetime.now(UTC)))
    return jws.serialize_compact(header, payload.encode(), key, algorithms=[ALGORITHM])


def issue_badges(
    records: Iterable[CreditRecord],
    *,
    key: ECKey,
    kid: str,
    issuer: Issuer,
    base_url: str,
    library: Mapping[str, dict] | None = None,
    language: str = "en",
    issued_at: datetime | None = None,
) -> Iterator[str]:
    """Sign one badge per credit record that no reversal among the records cancels."""
    for record in shared.standing_credits(list(records)):
        made = credential(
            record, issuer=issuer, base_url=base_url, library=library, language=language
        )
        yield sign(made, key, kid, issued_at)
