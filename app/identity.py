"""Opaque, keyed identifiers: learners (from the EHR issuer and fhirUser) and idempotency keys.

HMAC-SHA256 with the ledger identity key: the same clinician at the same EHR always maps to the
same learner id, the id reveals nothing without the key, and the raw fhirUser is never stored.
The key must stay stable for the life of the ledger (rotating it splits every learner's history).
"""

from __future__ import annotations

import hashlib
import hmac
import json


def learner_id(key: bytes, issuer: str, fhir_user: str) -> str:
    """Derive the learner id from the EHR's issuer and the user's fhirUser."""
    if not issuer.strip() or not fhir_user.strip():
        raise ValueError("A learner needs both the EHR issuer and the fhirUser.")
    return keyed_hash(key, "learner", normalise_issuer(issuer), fhir_user.strip())


def idempotency_hash(key: bytes, idempotency_key: str) -> str:
    """Hash a client's idempotency key, so whatever the client put in it is never stored."""
    if not idempotency_key.strip() or len(idempotency_key) > 200:
        raise ValueError("An idempotency key is 1 to 200 characters.")
    return keyed_hash(key, "idempotency", idempotency_key)


def request_hash(request: dict) -> str:
    """Fingerprint a submission, to tell a retry (same request) from a conflict."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fhir_user_forms(issuer: str, user: str) -> tuple[str, str]:
    """The fhirUser values that name a user at an EHR: absolute URL, then as given."""
    user = user.strip()
    if user.startswith(("https://", "http://")):
        return user, user
    return f"{normalise_issuer(issuer)}/{user}", user


def normalise_issuer(issuer: str) -> str:
    """Compare issuers without a trailing slash or surrounding space."""
    return issuer.strip().rstrip("/")


def keyed_hash(key: bytes, purpose: str, *parts: str) -> str:
    """HMAC-SHA256 over an unambiguous encoding (a JSON list) of the purpose and parts."""
    message = json.dumps([purpose, *parts], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
