"""A SMART Backend Services token endpoint for the fixture FHIR server and the demo EHR.

`client_credentials` with a JWT client assertion, checked as SMART App Launch 2.2 asks: RS384 or
ES384 only, a kid, iss = sub = a registered client id, aud = this token URL, exp present and at
most 5 minutes ahead, and a jti never seen before. Only `system/` scopes are granted, and only
those the client's registration covers. Errors are RFC 6749 JSON (`invalid_client`, ...).
Dev/demo/test only: issued tokens live in memory unless an `issue` callback stores them.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping

from flask import Response, request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["RS384", "ES384"]
MAX_ASSERTION_SECONDS = 300
LEEWAY = 30
TOKEN_SECONDS = 300
SYSTEM_SCOPE_PREFIX = "system/"
Issue = Callable[[str, str, int], str]  # (client_id, scope, seconds) -> access token


class TokenRefused(Exception):
    """An OAuth error answer: error code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class BackendAuthority:
    """Registered backend clients (client id -> public JWKS) and the tokens issued to them."""

    def __init__(
        self,
        clients: Mapping[str, dict],
        token_url: Callable[[], str],
        *,
        allowed_scopes: Callable[[str, str], bool] = lambda client_id, scope: True,
        issue: Issue | None = None,
        token_seconds: int = TOKEN_SECONDS,
    ):
        self.clients = dict(clients)
        self.token_url = token_url
        self.allowed_scopes = allowed_scopes
        self.token_seconds = token_seconds
        self.issued_scopes: list[str] = []
        self._issue = issue or self._issue_in_memory
        self._tokens: dict[str, float] = {}
        self._seen_jti: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def token_view(self) -> Response:
        """The token endpoint view: a token response, or an OAuth error as JSON."""
        try:
            body = self.grant(request.form)
            status = 200
        except TokenRefused as refused:
            body = {"error": refused.error, "error_description": refused.description}
            status = refused.status
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        response.headers["Cache-Control"] = "no-store"
        return response

    def grant(self, form: Mapping[str, str]) -> dict:
        """Check a client_credentials request and issue a token."""
        if form.get("grant_type") != "client_credentials":
            raise TokenRefused("unsupported_grant_type", "Only client_credentials is offered here.")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenRefused("invalid_client", "A JWT bearer client assertion is required.", 401)
        client_id = self.verify_assertion(form.get("client_assertion", ""))
        scope = self.granted_scope(client_id, form.get("scope", ""))
        token = self._issue(client_id, scope, self.token_seconds)
        self.issued_scopes.append(scope)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.token_seconds,
            "scope": scope,
        }

    def verify_assertion(self, assertion: str) -> str:
        """Verify the assertion's signature and claims; return its client id."""
        client_id = unverified_issuer(assertion)
        jwks = self.clients.get(client_id or "")
        if jwks is None:
            raise TokenRefused("invalid_client", "The client is not registered.", 401)
        try:
            token = jwt.decode(assertion, KeySet.import_key_set(jwks), algorithms=ALGORITHMS)
        except JoseError:
            raise TokenRefused(
                "invalid_client", "The assertion's signature or algorithm is not accepted.", 401
            ) from None
        if not token.header.get("kid"):
            raise TokenRefused("invalid_client", "The assertion needs a kid header.", 401)
        self.check_claims(client_id, token.claims)
        return client_id

    def check_claims(self, client_id: str, claims: dict) -> None:
        """iss = sub = client id, aud = token URL, a short future exp, and an unused jti."""
        now = time.time()
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        exp, jti = claims.get("exp"), claims.get("jti")
        if claims.get("sub") != client_id:
            raise TokenRefused("invalid_client", "The assertion's sub must be its iss.", 401)
        if self.token_url() not in audiences:
            raise TokenRefused("invalid_client", "The assertion's aud is not this token URL.", 401)
        if not isinstance(exp, int | float) or exp < now - LEEWAY:
            raise TokenRefused("invalid_client", "The assertion has expired.", 401)
        if exp > now + MAX_ASSERTION_SECONDS + LEEWAY:
            raise TokenRefused("invalid_client", "The assertion must expire within 5 min.", 401)
        if not isinstance(jti, str) or not jti:
            raise TokenRefused("invalid_client", "The assertion needs a jti.", 401)
        with self._lock:
            self._seen_jti = {key: until for key, until in self._seen_jti.items() if until > now}
            if (client_id, jti) in self._seen_jti:
                raise TokenRefused("invalid_client", "The assertion's jti was already used.", 401)
            self._seen_jti[(client_id, jti)] = float(exp) + LEEWAY

    def granted_scope(self, client_id: str, requested: str) -> str:
        """The requested system scopes the client may have; invalid_scope when none."""
        granted = [
            scope
            for scope in dict.fromkeys(requested.split())
            if scope.startswith(SYSTEM_SCOPE_PREFIX) and self.allowed_scopes(client_id, scope)
        ]
        if not granted:
            raise TokenRefused("invalid_scope", "Ask for system/ scopes this client may have.")
        return " ".join(granted)

    def token_valid(self, token: str) -> bool:
        """Whether token is a live token this authority issued (in-memory mode)."""
        with self._lock:
            return self._tokens.get(token, 0.0) > time.time()

    def _issue_in_memory(self, client_id: str, scope: str, seconds: int) -> str:
        """Mint a random token and remember it until it expires."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.time() + seconds
        return token


def unverified_issuer(assertion: str) -> str | None:
    """The iss claim of a compact JWT before verification (only to find the client's keys)."""
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, TypeError, AttributeError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None
