"""SMART client registrations per EHR issuer: the BEDSIDE_SMART_CLIENTS file and demo mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from app.deployment import Deployment
from app.errors import ConfigError
from app.identity import normalise_issuer
from app.json_files import JsonFileProblem, read_json_file
from app.public_url import public_base_url
from app.security import is_https_or_loopback

# SMART v2 granular scopes for exactly the FHIR reads the app makes (app/ui: the patient banner,
# the record facts panel, the signed-in user's name and PractitionerRole). The launch adds
# online_access, or offline_access when configured (oauth.requested_scope).
FHIR_READ_SCOPES = (
    "patient/Patient.rs",
    "patient/Observation.rs",
    "patient/Condition.rs",
    "patient/MedicationRequest.rs",
    "patient/AllergyIntolerance.rs",
    "user/Practitioner.rs",  # the signed-in user's name, shown in the app's header
    "user/PractitionerRole.rs",  # not in the patient compartment: the signed-in user's roles
)
DEFAULT_SCOPE = " ".join(["launch", "openid", "fhirUser", *FHIR_READ_SCOPES])
KNOWN_FIELDS = {"iss", "client_id", "scope", "client_secret", "private_key"}
KEY_ALGORITHMS = {"RSA": "RS384", "EC": "ES384"}


@dataclass(frozen=True)
class SmartClient:
    """Bedside's registration at one EHR: issuer, client id, scope and client authentication."""

    iss: str
    client_id: str
    scope: str = DEFAULT_SCOPE
    client_secret: str | None = field(default=None, repr=False)
    private_key: dict | None = field(default=None, repr=False)

    @property
    def auth_method(self) -> str:
        """none (public), client_secret_basic or private_key_jwt."""
        if self.private_key is not None:
            return "private_key_jwt"
        return "client_secret_basic" if self.client_secret else "none"

    @property
    def assertion_algorithm(self) -> str:
        """RS384 for an RSA key, ES384 for an EC P-384 key."""
        return KEY_ALGORITHMS[(self.private_key or {}).get("kty", "RSA")]


class ClientRegistry:
    """Find the registration for an issuer: the configured EHRs and the deployment's own EHR."""

    def __init__(self, clients: list[SmartClient], deployment: Deployment):
        self.clients = {normalise_issuer(client.iss): client for client in clients}
        self.deployment = deployment

    def for_issuer(self, iss: str) -> SmartClient | None:
        """Return the registration for iss, or None when Bedside does not know that EHR."""
        key = issuer_key(iss)
        for client in self.clients.values():
            if issuer_key(client.iss) == key:
                return client
        home = self.deployment.home_issuer()
        if home is None or issuer_key(home) != key:
            return None
        client_id = self.deployment.built_in_client_id(home)
        return SmartClient(iss=home, client_id=client_id) if client_id else None


def load_smart_clients(path: Path) -> list[SmartClient]:
    """Read and check the SMART clients file; raise ConfigError naming file and problem."""
    try:
        entries = read_json_file(path)
    except JsonFileProblem as problem:
        raise config_error(path, str(problem)) from None
    if not isinstance(entries, list):
        raise config_error(path, "must hold a JSON list of client objects")
    clients = [client_from_entry(path, number, entry) for number, entry in enumerate(entries, 1)]
    seen: set[str] = set()
    for client in clients:
        if issuer_key(client.iss) in seen:
            raise config_error(path, f"lists the issuer {client.iss} more than once")
        seen.add(issuer_key(client.iss))
    return clients


def client_from_entry(path: Path, number: int, entry: object) -> SmartClient:
    """Check one entry of the file and build its SmartClient."""
    where = f"entry {number}"
    if not isinstance(entry, dict):
        raise config_error(path, f"{where} must be an object")
    unknown = sorted(set(entry) - KNOWN_FIELDS)
    if unknown:
        raise config_error(path, f"{where} has unknown fields: {', '.join(unknown)}")
    iss, client_id = entry.get("iss"), entry.get("client_id")
    if not is_https_or_loopback(iss):
        raise config_error(path, f'{where} needs an "iss" that is an https URL (the FHIR base)')
    where = f"{where} ({iss})"
    if not isinstance(client_id, str) or not client_id.strip():
        raise config_error(path, f'{where} needs a "client_id"')
    scope = entry.get("scope", DEFAULT_SCOPE)
    if not isinstance(scope, str) or not scope.split():
        raise config_error(path, f'{where} has a "scope" that is not a space-separated string')
    secret, key = entry.get("client_secret"), entry.get("private_key")
    if secret is not None and key is not None:
        raise config_error(path, f'{where} has both "client_secret" and "private_key"; pick one')
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise config_error(path, f'{where} has a "client_secret" that is not a non-empty string')
    if key is not None:
        check_private_key(path, where, key)
    return SmartClient(iss.rstrip("/"), client_id.strip(), " ".join(scope.split()), secret, key)


def check_private_key(path: Path, where: str, key: object, setting: str = "SMART_CLIENTS") -> None:
    """Require a private RSA or EC P-384 JWK with a kid (for RS384 / ES384 assertions)."""
    kty = key.get("kty") if isinstance(key, dict) else None
    if not isinstance(kty, str) or kty not in KEY_ALGORITHMS:
        raise config_error(
            path, f'{where} has a "private_key" that is not an RSA or EC JWK', setting
        )
    if not key.get("kid"):
        raise config_error(path, f'{where} has a "private_key" without a "kid"', setting)
    if "d" not in key:
        raise config_error(
            path, f'{where} has a "private_key" without its private part "d"', setting
        )
    algorithm = KEY_ALGORITHMS[key["kty"]]
    if key.get("alg", algorithm) != algorithm:
        raise config_error(
            path, f'{where} has a "private_key" whose "alg" is not {algorithm}', setting
        )
    if key["kty"] == "EC" and key.get("crv") != "P-384":
        raise config_error(
            path, f'{where} has an EC "private_key" that is not on curve P-384', setting
        )
    try:
        (RSAKey if key["kty"] == "RSA" else ECKey).import_key(key)
    except (JoseError, ValueError, TypeError) as error:
        raise config_error(
            path, f'{where} has a "private_key" that cannot be read ({error})', setting
        ) from None


def issuer_key(iss: str) -> str:
    """How a launch's iss is matched to a registration: scheme and host in any case (RFC 3986)."""
    try:
        parts = urlsplit(normalise_issuer(iss))
    except ValueError:  # e.g. an unclosed IPv6 bracket: no registered EHR's issuer
        return normalise_issuer(iss)
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{host.lower()}"
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=netloc))


def callback_url() -> str:
    """The redirect URI registered with every EHR."""
    return f"{public_base_url()}/smart/callback"


def config_error(path: Path, problem: str, setting: str = "SMART_CLIENTS") -> ConfigError:
    """Build the one-sentence configuration error naming the setting and file."""
    return ConfigError(f"BEDSIDE_{setting} file {path} {problem}.")
