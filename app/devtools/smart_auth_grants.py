"""Authlib server parts for the demo SMART EHR: clients, strict PKCE, grants, SMART rules."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.devtools.smart_auth_store import AuthorizationCode, IssuedToken

if TYPE_CHECKING:
    from app.devtools.smart_auth import DemoAuthServer

AUTH_METHODS = ["none", "client_secret_basic", "private_key_jwt"]
REFRESH_SCOPES = {"offline_access", "online_access"}
RESOURCE_SCOPE = re.compile(r"^(patient|user|system)/([A-Za-z]+|\*)\.([a-z]+|\*)$")
V1_PERMISSIONS = {"read": {"read"}, "write": {"write"}, "*": {"read", "write", "*"}}
ASSERTION_ALGORITHMS = ["RS384", "ES384"]
ASSERTION_MAX_SECONDS = 300


@dataclass(frozen=True)
class DemoClient(ClientMixin):
    """A client registered with the demo EHR: one auth method, one exact redirect URI."""

    client_id: str
    auth_method: str
    scopes: frozenset[str]
    redirect_uri: str
    client_secret: str | None = field(default=None, repr=False)
    jwks: dict | None = None

    def get_client_id(self) -> str:
        """The client id."""
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """None: SMART clients must always send redirect_uri."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """Drop requested scopes the client is not registered for; None when nothing is left."""
        wanted = dict.fromkeys(scope_to_list(scope or "") or [])
        granted = [item for item in wanted if scope_granted(item, self.scopes)]
        return list_to_scope(granted) if granted else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Accept only the exact registered redirect URI."""
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare secrets in constant time."""
        expected = self.client_secret or ""
        return bool(expected) and secrets.compare_digest(client_secret, expected)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """At the token endpoint, accept only the registered auth method."""
        return endpoint != "token" or method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        """Only the authorization code flow."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Authorization code and refresh token grants."""
        return grant_type in {"authorization_code", "refresh_token"}


def scope_granted(requested: str, registered: frozenset[str]) -> bool:
    """Tell whether a registered scope covers a requested one (wildcards, v1 and v2 permissions)."""
    if requested in registered:
        return True
    wanted = RESOURCE_SCOPE.match(requested)
    if wanted is None:
        return False
    for scope in registered:
        held = RESOURCE_SCOPE.match(scope)
        if (
            held
            and held[1] == wanted[1]
            and held[2] in {"*", wanted[2]}
            and permits(held[3], wanted[3])
        ):
            return True
    return False


def permits(held: str, wanted: str) -> bool:
    """Compare SMART permissions: v1 read/write/*, v2 letters (cruds) as subsets."""
    if held in V1_PERMISSIONS or wanted in V1_PERMISSIONS:
        return wanted in V1_PERMISSIONS.get(held, set())
    return set(wanted) <= set(held)


class StrictS256(CodeChallenge):
    """PKCE as SMART requires it: always present, always S256 (never plain)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ("S256",)
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri) -> None:
        """Reject an authorization request without an S256 code challenge."""
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class SmartCodeGrant(AuthorizationCodeGrant):
    """The authorization code grant over the demo store; codes are single-use and hashed."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    CODE_SECONDS = 600

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        """Store the code with its PKCE challenge, nonce and launch context."""
        data = request.payload.data
        practitioner, context = request.user
        stored = AuthorizationCode(
            client_id=request.client.get_client_id(),
            redirect_uri=data["redirect_uri"],
            scope=request.scope,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            nonce=data.get("nonce"),
            user_id=practitioner,
            context=context,
        )
        self.server.demo.store.save_code(code, stored, time.time() + self.CODE_SECONDS)

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        """Consume the code (a second exchange always fails)."""
        return self.server.demo.store.take_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code) -> None:
        """Nothing to do: the code was consumed when it was looked up."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> str:
        """The practitioner the code was issued for."""
        return authorization_code.user_id


class SmartRefreshGrant(RefreshTokenGrant):
    """The refresh grant: every refresh rotates the refresh token."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        """Consume the refresh token (single use)."""
        return self.server.demo.store.take_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token: IssuedToken) -> str:
        """The practitioner the token was issued for."""
        return refresh_token.user_id

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        """Nothing to do: the old refresh token was consumed when it was looked up."""


class SmartRules:
    """SMART's extra rules on both grants: state, aud, launch; context and id_token on tokens."""

    def __init__(self, demo: DemoAuthServer):
        self.demo = demo

    def __call__(self, grant) -> None:
        """Register the hooks on one grant instance."""
        grant.register_hook("after_validate_authorization_request_payload", self.check_request)
        grant.register_hook("after_create_token_response", self.add_context)

    def check_request(self, grant, redirect_uri: str) -> None:
        """Require state, aud = this issuer, and a valid launch id whenever launch is asked."""
        data = grant.request.payload.data
        if not data.get("state"):
            raise InvalidRequestError("The state parameter is required.")
        if data.get("aud") != self.demo.issuer():
            raise InvalidRequestError("aud must be the FHIR base URL of this EHR.")
        requested = scope_to_list(grant.request.payload.scope or "") or []
        launch = data.get("launch")
        if not launch and "launch" not in requested:
            return
        if "launch" not in requested:
            raise InvalidRequestError("A launch parameter needs the launch scope.")
        if not launch:
            raise InvalidRequestError("The launch scope needs a launch parameter.")
        if self.demo.store.find_launch(launch) is None:
            raise InvalidRequestError("The launch parameter is unknown or expired.")

    def add_context(self, grant, response: tuple) -> None:
        """Put the launch context (and, for openid, an id_token) into the token response."""
        _, token, _ = response
        request = grant.request
        source = request.authorization_code or request.refresh_token
        scopes = scope_to_list(token.get("scope") or "") or []
        token.update(self.demo.context_fields(source.context, source.user_id, scopes))
        if isinstance(source, AuthorizationCode) and "openid" in scopes:
            token["id_token"] = self.demo.sign_id_token(
                client_id=request.client.get_client_id(),
                practitioner=source.user_id,
                nonce=source.nonce,
                with_fhir_user="fhirUser" in scopes,
            )


class DemoClientAssertion(JWTBearerClientAssertion):
    """private_key_jwt as SMART asks: RS384/ES384, a kid, aud = token URL, exp within 5 min."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, demo: DemoAuthServer):
        super().__init__(validate_jti=True, leeway=30)
        self.demo = demo

    def get_audiences(self) -> list[str]:
        """The token endpoint URL is the only accepted audience."""
        return [self.demo.token_url()]

    def resolve_client_public_key(self, client: DemoClient) -> KeySet:
        """The client's registered public keys."""
        return KeySet.import_key_set(client.jwks or {"keys": []})

    def validate_jti(self, claims, jti: str) -> bool:
        """Accept each assertion id once."""
        return self.demo.store.claim_jti(claims["sub"], jti, float(claims["exp"]))

    def process_assertion_claims(self, assertion: str, resolve_key) -> dict:
        """Verify the signature (RS384/ES384 only), kid, claims and the short lifetime."""
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except JoseError:
            raise InvalidClientError(description="The client assertion is not valid.") from None
        if not token.header.get("kid"):
            raise InvalidClientError(description="The client assertion needs a kid header.")
        self.verify_claims(token.claims)
        if float(token.claims["exp"]) > time.time() + ASSERTION_MAX_SECONDS + self.leeway:
            raise InvalidClientError(description="The client assertion must expire within 5 min.")
        return token.claims


class DemoOAuthServer(AuthorizationServer):
    """Authlib's Flask authorization server wired to the demo EHR."""

    def __init__(self, demo: DemoAuthServer):
        super().__init__(query_client=demo.client, save_token=self._store_token)
        self.demo = demo
        self.register_token_generator("default", self._generate_token)
        self.register_client_auth_method("private_key_jwt", DemoClientAssertion(demo))
        rules = SmartRules(demo)
        self.register_grant(SmartCodeGrant, [StrictS256(required=True), rules])
        self.register_grant(SmartRefreshGrant, [rules])

    def _generate_token(
        self, grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True
    ) -> dict:
        """Issue random bearer tokens; a refresh token only for offline/online access."""
        token = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": self.demo.token_seconds,
            "scope": scope or "",
        }
        if include_refresh_token and REFRESH_SCOPES & set(scope_to_list(scope or "") or []):
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def _store_token(self, token: dict, request: OAuth2Request) -> None:
        """Store the token's hashes with the context it was issued for."""
        source = request.authorization_code or request.refresh_token
        self.demo.store.save_token(
            token,
            client_id=request.client.get_client_id(),
            scope=token.get("scope", ""),
            user_id=source.user_id,
            context=source.context,
        )
