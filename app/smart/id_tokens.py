"""OpenID Connect id_token checks: joserfc for the signature, Authlib's CodeIDToken for claims."""

from __future__ import annotations

import json
import logging
import time

import requests
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from app.smart.bounded_reads import open_stream, read_within
from app.smart.smart_errors import SmartLaunchError

log = logging.getLogger(__name__)

ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "ES256", "ES384"]
LEEWAY_SECONDS = 60
TIMEOUT = (3.05, 8)
DEADLINE_SECONDS = 10  # the key set, headers and body, however slowly it is sent
MAX_JWKS_BYTES = 256 * 1024


def validate_id_token(
    http: requests.Session,
    id_token: str,
    *,
    jwks_uri: str,
    issuer: str,
    client_id: str,
    nonce: str | None,
) -> dict:
    """Return the id_token's claims once its signature, iss, aud, sub, exp, iat, nonce, azp pass."""
    keys = fetch_key_set(http, jwks_uri)
    try:
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
    except (JoseError, ValueError, TypeError):
        raise rejected(
            "its signature could not be verified with the EHR's published keys"
        ) from None
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},  # joserfc's "essential" also refuses a blank subject
        },
        {"nonce": nonce, "client_id": client_id},
    )
    try:
        claims.validate(leeway=LEEWAY_SECONDS)
    except ExpiredTokenError:
        raise rejected("it has expired") from None
    except JoseError as error:
        raise rejected(f"a claim is wrong or missing: {error.description}") from None
    return dict(claims)


def fetch_key_set(http: requests.Session, jwks_uri: str) -> KeySet:
    """Fetch and import the issuer's public keys, within the deadline and size cap."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    headers = {"Accept": "application/json"}
    try:
        with open_stream(http, jwks_uri, headers=headers, timeout=TIMEOUT) as response:
            response.raise_for_status()
            if response.is_redirect:  # still moving after the redirects followed
                raise requests.TooManyRedirects(jwks_uri)
            body = read_within(response, deadline, MAX_JWKS_BYTES)
        return KeySet.import_key_set(json.loads(body))
    except requests.RequestException as error:
        log.warning("Fetching the EHR's JWKS failed: %s", type(error).__name__)
    except (JoseError, ValueError, TypeError, KeyError, RecursionError) as error:
        log.warning("The EHR's JWKS at %s could not be read: %s", jwks_uri, type(error).__name__)
    raise SmartLaunchError(
        "EHR keys unavailable",
        "Bedside could not read the EHR's signing keys to check who you are; try again shortly.",
        502,
    )


def rejected(reason: str) -> SmartLaunchError:
    """The error page for an id_token that fails validation."""
    return SmartLaunchError(
        "Sign-in could not be verified",
        f"The EHR's identity token was rejected because {reason}. Nothing was saved; "
        "start Bedside again from your EHR.",
    )
