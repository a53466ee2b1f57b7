"""SMART Backend Services: Bedside's own system token from a registered key (client_credentials).

A registration (the BEDSIDE_BACKEND_CLIENTS file) names a FHIR server, Bedside's client id there
and its private JWK. `BackendToken` discovers the token endpoint from the server's
`.well-known/smart-configuration`, posts a signed JWT assertion (RS384/ES384, iss = sub =
client_id, aud = token URL, exp within 5 minutes, a fresh jti, a kid header) and reuses the access
token until shortly before it expires. Errors are one sentence and never carry a token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from app.http_bodies import bounded_json
from app.identity import normalise_issuer
from app.json_files import JsonFileProblem, read_json_file
from app.security import is_https_or_loopback
from app.smart.clients import KEY_ALGORITHMS, check_private_key, config_error
from app.smart.oauth import client_assertion

SETTING = "BACKEND_CLIENTS"
KNOWN_FIELDS = {"iss", "client_id", "private_key", "scope", "token_url"}
TIMEOUT = (5.0, 15.0)
RENEW_SECONDS = 60  # ask for a new token this long before the current one expires
DEFAULT_LIFETIME = 300  # a token response without expires_in is trusted this long
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_RESPONSE_BYTES = 64 * 1024


class BackendServicesError(Exception):
    """A system token could not be had; the message is one readable sentence without secrets."""


@dataclass(frozen=True)
class BackendClient:
    """Bedside's backend-services registration at one FHIR server."""

    iss: str
    client_id: str
    private_key: dict = field(repr=False)
    scope: str | None = None
    token_url: str | None = None

    @property
    def algorithm(self) -> str:
        """RS384 for an RSA key, ES384 for an EC P-384 key."""
        return KEY_ALGORITHMS[self.private_key["kty"]]


def load_backend_clients(path: Path) -> dict[str, BackendClient]:
    """Read and check the registration file; the registrations by normalised FHIR base URL."""
    try:
        entries = read_json_file(path)
    except JsonFileProblem as problem:
        raise config_error(path, str(problem), SETTING) from None
    if not isinstance(entries, list):
        raise config_error(path, "must hold a JSON list of client objects", SETTING)
    clients: dict[str, BackendClient] = {}
    for number, entry in enumerate(entries, 1):
        client = backend_client_from_entry(path, number, entry)
        if normalise_issuer(client.iss) in clients:
            raise config_error(path, f"lists the server {client.iss} more than once", SETTING)
        clients[normalise_issuer(client.iss)] = client
    return clients


def backend_client_from_entry(path: Path, number: int, entry: object) -> BackendClient:
    """Check one entry of the file and build its BackendClient."""
    where = f"entry {number}"
    if not isinstance(entry, dict):
        raise config_error(path, f"{where} must be an object", SETTING)
    unknown = sorted(set(entry) - KNOWN_FIELDS)
    if unknown:
        raise config_error(path, f"{where} has unknown fields: {', '.join(unknown)}", SETTING)
    iss, client_id = entry.get("iss"), entry.get("client_id")
    if not is_https_or_loopback(iss):
        raise config_error(path, f'{where} needs an "iss": the https FHIR base URL', SETTING)
    where = f"{where} ({iss})"
    if not isinstance(client_id, str) or not client_id.strip():
        raise config_error(path, f'{where} needs a "client_id"', SETTING)
    key = entry.get("private_key")
    if key is None:
        raise config_error(path, f'{where} needs a "private_key" (a private JWK)', SETTING)
    check_private_key(path, where, key, SETTING)
    scope, token_url = entry.get("scope"), entry.get("token_url")
    if scope is not None and (not isinstance(scope, str) or not scope.split()):
        raise config_error(
            path, f'{where} has a "scope" that is not a space-separated string', SETTING
        )
    if token_url is not None and not is_https_or_loopback(token_url):
        raise config_error(path, f'{where} has a "token_url" that is not an https URL', SETTING)
    scope = " ".join(scope.split()) if scope else None
    return BackendClient(normalise_issuer(iss), client_id.strip(), key, scope, token_url)


def registration_for(clients: dict[str, BackendClient], fhir_base: str) -> BackendClient | None:
    """The registration for a FHIR base URL (trailing slashes ignored), or None."""
    return clients.get(normalise_issuer(fhir_base))


class BackendToken:
    """A renewing system access token for one registration; call it for the current token."""

    def __init__(
        self,
        client: BackendClient,
        default_scope: str,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self.scope = client.scope or default_scope
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._token_url = client.token_url

    def __call__(self) -> str:
        """The access token, fetched again when it is missing or about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires - RENEW_SECONDS:
                self._token, lifetime = self._request_token()
                self._expires = self._clock() + lifetime
            return self._token

    def token_url(self) -> str:
        """The token endpoint: registered, else discovered from smart-configuration (once)."""
        if self._token_url is None:
            self._token_url = discover_token_endpoint(self._session, self.client.iss)
        return self._token_url

    def _request_token(self) -> tuple[str, float]:
        """POST client_credentials with a fresh assertion; (access_token, lifetime seconds)."""
        url = self.token_url()
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": signed_assertion(self.client, url),
        }
        try:
            response = self._session.post(
                url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=TIMEOUT,
                stream=True,
            )
        except requests.RequestException as error:
            raise BackendServicesError(
                f"The token endpoint {url} is unreachable ({type(error).__name__})."
            ) from None
        with response:
            body = small_json(response)
        if response.status_code != 200:
            raise BackendServicesError(refusal_sentence(url, response.status_code, body))
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise BackendServicesError(
                f"The token endpoint {url} answered without an access_token."
            )
        if str(body.get("token_type", "")).lower() != "bearer":
            raise BackendServicesError(f"The token endpoint {url} issued a non-bearer token.")
        return token, lifetime_of(body)


def signed_assertion(client: BackendClient, token_url: str) -> str:
    """The client assertion JWT for one token request, or a readable error for a bad key."""
    key_class = RSAKey if client.private_key.get("kty") == "RSA" else ECKey
    try:
        key = key_class.import_key(client.private_key)
        return client_assertion(
            key,
            client_id=client.client_id,
            token_endpoint=token_url,
            alg=client.algorithm,
            kid=client.private_key["kid"],
        )
    except (JoseError, ValueError, TypeError, KeyError):
        raise BackendServicesError(
            f"The private key registered for {client.iss} cannot sign a client assertion."
        ) from None


def discover_token_endpoint(session: requests.Session, fhir_base: str) -> str:
    """The token_endpoint of [base]/.well-known/smart-configuration, checked to be usable."""
    url = f"{fhir_base}/.well-known/smart-configuration"
    try:
        response = session.get(
            url, headers={"Accept": "application/json"}, timeout=TIMEOUT, stream=True
        )
    except requests.RequestException as error:
        raise BackendServicesError(
            f"The FHIR server {fhir_base} is unreachable ({type(error).__name__})."
        ) from None
    with response:
        document = small_json(response) if response.status_code == 200 else None
    endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
    if not isinstance(endpoint, str):
        raise BackendServicesError(
            f"The FHIR server {fhir_base} publishes no token_endpoint in "
            '.well-known/smart-configuration; set "token_url" in its registration.'
        )
    if not is_https_or_loopback(endpoint):
        raise BackendServicesError(f"The token endpoint {endpoint} is not an https URL.")
    return endpoint


def small_json(response: requests.Response) -> object:
    """A bounded response body (streamed) parsed as JSON, or None when too large or not JSON."""
    try:
        return bounded_json(response, MAX_RESPONSE_BYTES)
    except ValueError:
        return None


def refusal_sentence(url: str, status: int, body: object) -> str:
    """One sentence for a refused token request: the OAuth error code and description."""
    error = body.get("error") if isinstance(body, dict) else None
    description = body.get("error_description") if isinstance(body, dict) else None
    text = f"The token endpoint {url} refused Bedside's backend-services request ({status}"
    text += f", {error})" if isinstance(error, str) else ")"
    if isinstance(description, str) and description:
        text += f": {description[:200].rstrip('.')}"
    return text + "."


def lifetime_of(body: dict) -> float:
    """The token's lifetime in seconds from expires_in (a short default when absent)."""
    expires_in = body.get("expires_in")
    if isinstance(expires_in, int | float) and expires_in > 0:
        return float(expires_in)
    return float(DEFAULT_LIFETIME)
