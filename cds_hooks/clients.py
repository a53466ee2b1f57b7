"""Trusted CDS clients (EHRs): loaded from the JSON file named by BEDSIDE_CDS_CLIENTS."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.errors import ConfigError
from app.json_files import JsonFileProblem, read_json_file
from app.security import is_https_or_loopback

ASYMMETRIC_KEY_TYPES = {"RSA", "EC", "OKP"}


@dataclass(frozen=True)
class TrustedClient:
    """An EHR allowed to call the CDS services: its issuer, JWKS URL and/or inline keys."""

    iss: str
    jku: str | None = None
    jwks: dict | None = field(default=None, compare=False)
    # the SMART issuers (FHIR base URLs) of the same EHR: its CDS users are their clinicians
    smart_issuers: tuple[str, ...] = ()


def load_trusted_clients(path: Path) -> list[TrustedClient]:
    """Read and check the trusted-clients file; raise ConfigError naming file and problem."""
    try:
        entries = read_json_file(path)
    except JsonFileProblem as problem:
        raise config_error(path, str(problem)) from None
    if not isinstance(entries, list):
        raise config_error(path, "must hold a JSON list of client objects")
    return [client_from_entry(path, number, entry) for number, entry in enumerate(entries, 1)]


def client_from_entry(path: Path, number: int, entry: object) -> TrustedClient:
    """Check one entry of the file and build its TrustedClient."""
    where = f"entry {number}"
    if not isinstance(entry, dict):
        raise config_error(path, f"{where} must be an object")
    iss, jku, jwks = entry.get("iss"), entry.get("jku"), entry.get("jwks")
    if not isinstance(iss, str) or not iss:
        raise config_error(path, f'{where} needs an "iss" (the client\'s issuer URL)')
    if jku is None and jwks is None:
        raise config_error(path, f'{where} ({iss}) needs "jku" or "jwks"')
    if jku is not None and not is_https_or_loopback(jku):
        raise config_error(path, f'{where} ({iss}) has a "jku" that is not an https URL')
    if jwks is not None:
        check_jwks(path, f"{where} ({iss})", jwks)
    smart_issuers = entry.get("smart_issuers", [])
    if not isinstance(smart_issuers, list) or not all(
        isinstance(url, str) and url.strip() for url in smart_issuers
    ):
        raise config_error(path, f'{where} ({iss}) has "smart_issuers" that is not a list of URLs')
    return TrustedClient(iss=iss, jku=jku, jwks=jwks, smart_issuers=tuple(smart_issuers))


def check_jwks(path: Path, where: str, jwks: object) -> None:
    """Require a JWKS of public asymmetric keys, each with a kid."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise config_error(path, f'{where} has a "jwks" without a "keys" list')
    for key in jwks["keys"]:
        kty = key.get("kty") if isinstance(key, dict) else None
        if not isinstance(kty, str) or kty not in ASYMMETRIC_KEY_TYPES:
            raise config_error(path, f"{where} has a key that is not an RSA or EC public key")
        if "d" in key:
            raise config_error(path, f"{where} holds private key material; list public keys only")
        if not key.get("kid"):
            raise config_error(path, f'{where} has a key without a "kid"')
    try:
        KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError) as error:
        raise config_error(path, f"{where} has a key that cannot be read ({error})") from None


def config_error(path: Path, problem: str) -> ConfigError:
    """Build the one-sentence configuration error naming the file."""
    return ConfigError(f"BEDSIDE_CDS_CLIENTS file {path} {problem}.")
