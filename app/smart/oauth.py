"""SMART App Launch authorization: PKCE redirect, code exchange and client authentication."""

from __future__ import annotations

import json
import logging
import secrets
import time

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from app.fhir_json import as_str, finite_float
from app.smart.bounded_reads import bound_answers
from app.smart.clients import SmartClient
from app.smart.discovery import SmartConfiguration
from app.smart.id_tokens import validate_id_token
from app.smart.pending import PendingAuthorization, new_secret
from app.smart.runtime import SmartRuntime
from app.smart.sessions import SmartSession
from app.smart.smart_errors import SmartLaunchError

log = logging.getLogger(__name__)

TOKEN_TIMEOUT = (3.05, 10)
# A code exchange or refresh is read whole this long after sending: under the 15 s refresh lock
# (sessions.REFRESH_LOCK_SECONDS), so no other worker takes over a refresh still under way.
TOKEN_SECONDS = 12
TOKEN_BYTES = 256 * 1024  # a token answer with an id_token and launch context is a few KB
ASSERTION_SECONDS = 240  # SMART: exp no more than 5 minutes ahead
REFRESH_SCOPES = frozenset({"online_access", "offline_access"})
# What reading a token answer raises when it is not JSON, nested too deep, or holds odd types.
UNREADABLE_ANSWER = (ValueError, TypeError, OverflowError, RecursionError)
# Token answer and id_token fields stored as text: no database column holds a NUL character.
STORED_TOKEN_TEXT = ("scope", "patient", "encounter", "smart_style_url", "appContext")
STORED_CLAIM_TEXT = ("fhirUser", "sub")


def begin_authorization(
    rt: SmartRuntime,
    client: SmartClient,
    config: SmartConfiguration,
    *,
    launch: str | None,
    aud: str,
    browser_id: str,
    redirect_uri: str,
) -> str:
    """Remember a new authorization request server-side and return the EHR's authorize URL.

    `aud` is the FHIR base as the launch named it: SMART wants the launch's `iss` unchanged.
    """
    scope = requested_scope(
        client.scope,
        standalone=launch is None,
        openid=bool(config.jwks_uri),
        offline=rt.offline_access,
    )
    state, verifier = new_secret(), secrets.token_urlsafe(64)
    nonce = new_secret() if "openid" in scope.split() else None
    extra = {"aud": aud}
    if launch:
        extra["launch"] = launch
    if nonce:
        extra["nonce"] = nonce
    with OAuth2Session(
        client.client_id, scope=scope, redirect_uri=redirect_uri, code_challenge_method="S256"
    ) as oauth:
        url, _ = oauth.create_authorization_url(
            config.authorization_endpoint, state=state, code_verifier=verifier, **extra
        )
    pending = PendingAuthorization(
        issuer=client.iss,
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        token_endpoint=config.token_endpoint,
        jwks_uri=config.jwks_uri,
        id_token_issuer=config.issuer or config.fhir_base,
        scope=scope,
        code_verifier=verifier,
        nonce=nonce,
    )
    rt.pending.save(state, browser_id, pending)
    return url


def requested_scope(scope: str, *, standalone: bool, openid: bool, offline: bool = False) -> str:
    """The scope to request: launch or launch/patient; openid only when it can be checked.

    offline_access (a refresh token that outlives the EHR session) is added only when
    SMART_OFFLINE_ACCESS is on; a client's own `scope` may still name it. Otherwise
    online_access asks for a refresh token usable while the user is online, so the session
    outlives the first access token (an EHR may grant neither: the session then ends with it).
    """
    items = [item for item in scope.split() if item not in {"launch", "launch/patient"}]
    items.insert(0, "launch/patient" if standalone else "launch")
    if offline:
        items.append("offline_access")
    if not REFRESH_SCOPES & set(items):
        items.append("online_access")
    if not openid:
        # Without the issuer's keys an id_token cannot be validated, so do not ask for one.
        items = [item for item in items if item not in {"openid", "fhirUser", "profile"}]
    return " ".join(dict.fromkeys(items))


def complete_authorization(
    rt: SmartRuntime, client: SmartClient, pending: PendingAuthorization, code: str
) -> tuple[SmartSession, list[str]]:
    """Exchange the code (PKCE verifier), validate the id_token; the session and user's locales."""
    with oauth_session(rt, client, pending.token_endpoint, pending.redirect_uri) as oauth:
        token = fetch_token(oauth, pending, code)
    # The JWKS is fetched with a plain session: the OAuth session would attach the new access
    # token (sending it to the jwks_uri) and refuse to send anything once that token is "expired".
    with rt.http_session() as http:
        claims = identity_claims(http, token, pending)
    check_storable(token, claims)
    return session_from_token(pending, dict(token), claims), launch_locales(dict(token), claims)


def launch_locales(token: dict, claims: dict) -> list[str]:
    """The user's languages the EHR named, in preference order (BCP 47 tags).

    SMART lets an EHR add launch context to the token response; Bedside reads `ui_locales`
    (space-separated, as OpenID Connect writes it), then the validated id_token's `locale` claim.
    """
    tags: list[str] = []
    if isinstance(token.get("ui_locales"), str):
        tags.extend(token["ui_locales"].split())
    if isinstance(claims.get("locale"), str):
        tags.append(claims["locale"])
    return tags


def fetch_token(oauth: OAuth2Session, pending: PendingAuthorization, code: str) -> dict:
    """Call the token endpoint; turn every failure into a clear page."""
    try:
        token = oauth.fetch_token(
            pending.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=pending.code_verifier,
            timeout=TOKEN_TIMEOUT,
        )
    except OAuthError as error:
        log.info("Token exchange refused by %s: %s", pending.issuer, error.error)
        raise SmartLaunchError(
            "The EHR refused the sign-in",
            f"The EHR would not issue a token ({error.error}). Start Bedside again from your EHR.",
        ) from None
    except UNREADABLE_ANSWER as error:  # not JSON, nested too deep, or expires_in a list
        log.warning("Token from %s cannot be read: %s", pending.issuer, type(error).__name__)
        raise unreadable_answer() from None
    except requests.RequestException as error:
        log.warning("Token exchange with %s failed: %s", pending.issuer, type(error).__name__)
        raise SmartLaunchError(
            "EHR unreachable", "Bedside could not finish signing you in with the EHR.", 502
        ) from None
    check_bearer(token)
    return token


def unreadable_answer() -> SmartLaunchError:
    """The page for a token answer Bedside cannot read or store."""
    return SmartLaunchError(
        "The EHR's answer could not be read",
        "The EHR answered the sign-in with a token Bedside cannot read. Start Bedside again "
        "from your EHR; if this repeats, tell your EHR team.",
        502,
    )


def identity_claims(http: requests.Session, token: dict, pending: PendingAuthorization) -> dict:
    """Validate the id_token when one was asked for; an unchecked one is never used."""
    if pending.nonce is None or not pending.jwks_uri:
        return {}
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SmartLaunchError(
            "Sign-in could not be verified",
            "The EHR did not send the identity token Bedside asked for. Nothing was saved.",
        )
    return validate_id_token(
        http,
        id_token,
        jwks_uri=pending.jwks_uri,
        issuer=pending.id_token_issuer,
        client_id=pending.client_id,
        nonce=pending.nonce,
    )


def check_bearer(token: dict) -> None:
    """Require an access token of type Bearer."""
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise SmartLaunchError("The EHR refused the sign-in", "The EHR sent no access token.")
    if str(token.get("token_type", "")).lower() != "bearer":
        raise SmartLaunchError(
            "The EHR refused the sign-in", "The EHR sent a token Bedside cannot use (not Bearer)."
        )


def check_storable(token: dict, claims: dict) -> None:
    """Refuse an answer whose text Bedside would store holds a NUL (PostgreSQL cannot keep it)."""
    values = [token.get(name) for name in STORED_TOKEN_TEXT]
    values += [claims.get(name) for name in STORED_CLAIM_TEXT]
    if any(isinstance(value, str) and "\x00" in value for value in values):
        log.warning("Token answer refused: a text field holds a NUL character")
        raise unreadable_answer()


def session_from_token(pending: PendingAuthorization, token: dict, claims: dict) -> SmartSession:
    """Build the (not yet stored) session from the token response and validated claims."""
    app_context = token.get("appContext")
    if app_context is not None and not isinstance(app_context, str):
        app_context = json.dumps(app_context)
    fhir_context = token.get("fhirContext")
    banner = token.get("need_patient_banner")
    return SmartSession(
        issuer=pending.issuer,
        client_id=pending.client_id,
        token_endpoint=pending.token_endpoint,
        scope=as_str(token.get("scope")) or pending.scope,
        access_token=token["access_token"],
        refresh_token=as_str(token.get("refresh_token")),
        access_expires_at=expiry_of(token),
        patient=as_str(token.get("patient")),
        encounter=as_str(token.get("encounter")),
        fhir_user=as_str(claims.get("fhirUser")),
        need_patient_banner=True if banner is None else bool(banner),
        app_context=app_context,
        fhir_context=fhir_context if isinstance(fhir_context, list) else [],
        smart_style_url=as_str(token.get("smart_style_url")),
        id_claims=claims,
    )


def expiry_of(token: dict) -> float | None:
    """When the access token expires (from expires_at or expires_in), or None if unknown."""
    expires_at = finite_float(token.get("expires_at"))
    if expires_at is not None:
        return expires_at
    expires_in = finite_float(token.get("expires_in"))
    return time.time() + expires_in if expires_in is not None else None


def oauth_session(
    rt: SmartRuntime, client: SmartClient, token_endpoint: str, redirect_uri: str | None = None
) -> OAuth2Session:
    """An Authlib session that authenticates as the client: public, secret or private_key_jwt."""
    options = {"redirect_uri": redirect_uri, "code_challenge_method": "S256"}
    if client.auth_method == "private_key_jwt":
        key = private_key(client)
        session = OAuth2Session(
            client.client_id, key, token_endpoint_auth_method="private_key_jwt", **options
        )
        session.register_client_auth_method(
            SmartPrivateKeyJWT(
                token_endpoint, alg=client.assertion_algorithm, kid=client.private_key["kid"]
            )
        )
    elif client.auth_method == "client_secret_basic":
        session = OAuth2Session(
            client.client_id,
            client.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            **options,
        )
    else:
        session = OAuth2Session(client.client_id, token_endpoint_auth_method="none", **options)
    rt.mount(session)
    bound_answers(session, TOKEN_SECONDS, TOKEN_BYTES)
    return session


def private_key(client: SmartClient) -> RSAKey | ECKey:
    """Import the client's private JWK with its explicit key type."""
    key_class = RSAKey if client.private_key["kty"] == "RSA" else ECKey
    return key_class.import_key(client.private_key)


class SmartPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's private_key_jwt with SMART's rules: RS384/ES384, a kid header, exp ≤ 5 min."""

    def __init__(self, token_endpoint: str, *, alg: str, kid: str):
        super().__init__(token_endpoint, alg=alg)
        self.kid = kid

    def sign(self, auth, token_endpoint: str) -> str:
        """Sign a fresh assertion for every token request (new jti, short exp)."""
        return client_assertion(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=self.token_endpoint or token_endpoint,
            alg=self.alg,
            kid=self.kid,
        )


def client_assertion(key, *, client_id: str, token_endpoint: str, alg: str, kid: str) -> str:
    """Build the client assertion JWT (iss = sub = client_id, aud = token URL, jti, exp)."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "jti": secrets.token_urlsafe(24),
        "iat": now,
        "exp": now + ASSERTION_SECONDS,
    }
    return jwt.encode({"alg": alg, "kid": kid, "typ": "JWT"}, claims, key, algorithms=[alg])
