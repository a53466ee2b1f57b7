"""SMART discovery: {iss}/.well-known/smart-configuration, else metadata's oauth-uris extension."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from app.fhir_json import as_dict, dicts_in
from app.smart.bounded_reads import open_stream, read_within
from app.smart.smart_errors import SmartLaunchError

log = logging.getLogger(__name__)

TIMEOUT = (3.05, 8)
DEADLINE_SECONDS = 10  # one discovery document, headers and body, however slowly it is sent
MAX_DOCUMENT_BYTES = 1024 * 1024
CACHE_SECONDS = 300
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


@dataclass(frozen=True)
class SmartConfiguration:
    """What Bedside needs to know about one EHR's authorization server."""

    fhir_base: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str | None = None
    issuer: str | None = None
    capabilities: tuple[str, ...] = ()


class Discovery:
    """Discover and briefly cache each issuer's SMART configuration."""

    def __init__(self, open_http: Callable[[], requests.Session], ttl: float = CACHE_SECONDS):
        self.open_http = open_http
        self.ttl = ttl
        self._cache: dict[str, tuple[float, SmartConfiguration]] = {}
        self._lock = threading.Lock()

    def configuration(self, iss: str) -> SmartConfiguration:
        """Return the issuer's configuration (cached), or raise SmartLaunchError."""
        with self._lock:
            cached = self._cache.get(iss)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        config = self._discover(iss)
        with self._lock:
            self._cache[iss] = (time.monotonic() + self.ttl, config)
        return config

    def _discover(self, iss: str) -> SmartConfiguration:
        """Try .well-known first, then the CapabilityStatement."""
        try:
            with self.open_http() as http:
                config = from_well_known(http, iss) or from_metadata(http, iss)
        except requests.RequestException as error:
            log.warning("SMART discovery at %s failed: %s", iss, type(error).__name__)
            raise unreachable(iss) from None
        except ValueError as error:
            log.warning("SMART discovery at %s failed: %s", iss, error)
            raise unreachable(iss) from None
        if config is None:
            raise SmartLaunchError(
                "EHR not ready for SMART",
                f"The EHR at {iss} publishes no SMART configuration "
                "(neither .well-known/smart-configuration nor OAuth URIs in its metadata).",
                502,
            )
        check_endpoints(iss, config)
        return config


def from_well_known(http: requests.Session, iss: str) -> SmartConfiguration | None:
    """Read {iss}/.well-known/smart-configuration; None when it is absent or unusable."""
    document = get_document(http, f"{iss}/.well-known/smart-configuration", "application/json")
    if document is None:
        return None
    authorize, token = document.get("authorization_endpoint"), document.get("token_endpoint")
    if not isinstance(authorize, str) or not isinstance(token, str):
        return None
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise SmartLaunchError(
            "EHR does not support PKCE",
            f"The EHR at {iss} does not offer PKCE with S256, which Bedside requires.",
            502,
        )
    capabilities = document.get("capabilities")
    return SmartConfiguration(
        fhir_base=iss,
        authorization_endpoint=authorize,
        token_endpoint=token,
        jwks_uri=text_or_none(document.get("jwks_uri")),
        issuer=text_or_none(document.get("issuer")),
        capabilities=tuple(capabilities) if isinstance(capabilities, list) else (),
    )


def from_metadata(http: requests.Session, iss: str) -> SmartConfiguration | None:
    """Read the oauth-uris extension of {iss}/metadata (older servers); None when absent."""
    document = get_document(http, f"{iss}/metadata", "application/fhir+json")
    if document is None:
        return None
    uris = oauth_uris(document)
    if "authorize" not in uris or "token" not in uris:
        return None
    return SmartConfiguration(
        fhir_base=iss, authorization_endpoint=uris["authorize"], token_endpoint=uris["token"]
    )


def oauth_uris(capability_statement: dict) -> dict[str, str]:
    """Collect the oauth-uris sub-extensions of rest[0].security (authorize, token, …)."""
    rests = dicts_in(capability_statement.get("rest"))
    security = as_dict(rests[0].get("security")) if rests else {}
    for extension in dicts_in(security.get("extension")):
        if extension.get("url") == OAUTH_URIS:
            return {
                item["url"]: item["valueUri"]
                for item in dicts_in(extension.get("extension"))
                if isinstance(item.get("url"), str) and isinstance(item.get("valueUri"), str)
            }
    return {}


def check_endpoints(iss: str, config: SmartConfiguration) -> None:
    """Refuse endpoints that are not absolute URLs, or plain http for an https EHR."""
    endpoints = [config.authorization_endpoint, config.token_endpoint, config.jwks_uri]
    secure = urlsplit(iss).scheme == "https"
    for url in filter(None, endpoints):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise invalid_endpoint(iss, url)
        if secure and parts.scheme != "https":
            raise invalid_endpoint(iss, url)


def get_document(http: requests.Session, url: str, accept: str) -> dict | None:
    """GET a JSON object within the deadline and size cap; None for errors and non-JSON answers.

    An answer too slow or too large raises ValueError: the EHR cannot be used as it is.
    """
    deadline = time.monotonic() + DEADLINE_SECONDS
    with open_stream(http, url, headers={"Accept": accept}, timeout=TIMEOUT) as response:
        if response.status_code != 200:
            return None
        body = read_within(response, deadline, MAX_DOCUMENT_BYTES)
    return json_object(body)


def json_object(body: bytes) -> dict | None:
    """A body as a JSON object, or None when it is not one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def text_or_none(value: object) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


def unreachable(iss: str) -> SmartLaunchError:
    """The error page for an EHR that did not answer."""
    return SmartLaunchError(
        "EHR unreachable", f"Bedside could not reach the EHR at {iss}; try again shortly.", 502
    )


def invalid_endpoint(iss: str, url: str) -> SmartLaunchError:
    """The error page for a discovery document with an unusable endpoint."""
    return SmartLaunchError(
        "EHR configuration not usable",
        f"The EHR at {iss} announced an endpoint Bedside cannot use safely: {url}.",
        502,
    )
