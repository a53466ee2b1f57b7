"""Demo SMART authorization server (dev/demo only): the demo EHR's OAuth2 side, on Authlib.

Read top-down: `init_demo_auth` mounts a `DemoAuthServer` (launches, clients, tokens, id_tokens);
then its HTTP endpoints (authorize, token, jwks); then the Authlib parts they run on (clients,
strict PKCE, the two grants, SMART's extra rules, private_key_jwt); then small helpers. State
lives in SQLite (smart_auth_store), the keys and secrets in the instance folder (smart_auth_keys).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
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
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    jsonify,
    render_template,
    request,
    session,
)
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.db import register_store
from app.devtools.backend_auth import BackendAuthority
from app.devtools.demo_keys import DEMO_BACKEND_CLIENT, demo_backend_key
from app.devtools.demo_origin import demo_origin
from app.devtools.smart_auth_keys import SIGNING_KID, load_credentials
from app.devtools.smart_auth_store import AuthorizationCode, DemoAuthStore, IssuedToken

PUBLIC_CLIENT = "bedside-demo"
SECRET_CLIENT = "bedside-demo-confidential"
JWT_CLIENT = "bedside-demo-jwt"
CDS_CLIENT = "bedside-cds"
LAUNCH_SECONDS = 600
CLIENT_SCOPES = frozenset(
    {
        "launch",
        "launch/patient",
        "launch/encounter",
        "openid",
        "fhirUser",
        "profile",
        "offline_access",
        "online_access",
        "patient/*.rs",
        "patient/*.read",
        "user/*.rs",
        "user/*.read",
    }
)
BACKEND_SCOPES = frozenset({"system/*.rs"})
CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "context-banner",
    "permission-v2",
    "permission-v1",
    "sso-openid-connect",
    "permission-offline",
]


AUTH_METHODS = ["none", "client_secret_basic", "private_key_jwt"]
REFRESH_SCOPES = {"offline_access", "online_access"}
RESOURCE_SCOPE = re.compile(r"^(patient|user|system)/([A-Za-z]+|\*)\.([a-z]+|\*)$")
V1_PERMISSIONS = {"read": {"read"}, "write": {"write"}, "*": {"read", "write", "*"}}
ASSERTION_ALGORITHMS = ["RS384", "ES384"]
ASSERTION_MAX_SECONDS = 300

FORM_ONLY_FIELDS = {"csrf_token", "patient", "decision"}
CSRF_KEY = "demo_ehr_csrf"


def init_demo_auth(app: Flask) -> DemoAuthServer:
    """Mount the demo SMART authorization server; store it in app.extensions["demo_auth"]."""
    if "demo_auth" in app.extensions:
        return app.extensions["demo_auth"]
    server = DemoAuthServer(app)
    app.extensions["demo_auth"] = server
    # Authlib logs every issued token at DEBUG; keep it at INFO whatever LOG_LEVEL says.
    authlib_log = logging.getLogger("authlib")
    authlib_log.setLevel(max(authlib_log.level, logging.INFO))
    app.add_url_rule(
        "/fhir/.well-known/smart-configuration",
        "demo_smart_configuration",
        lambda: jsonify(server.smart_configuration()),
    )
    app.register_blueprint(create_blueprint(server), url_prefix="/demo-ehr/auth")
    return server


class DemoAuthServer:
    """The demo EHR's SMART authorization server: launches, clients, tokens, id_tokens."""

    def __init__(self, app: Flask):
        self.store = register_store(app, DemoAuthStore(app.config["DATABASE"]))
        self.credentials = load_credentials(Path(app.instance_path))
        self.token_seconds = int(app.config.get("DEMO_TOKEN_SECONDS", 3600))
        self.fixtures_dir = Path(app.config["FHIR_FIXTURES_DIR"]) / "patients"
        self.oauth = DemoOAuthServer(self)
        self.backend = self._backend_authority(Path(app.instance_path))
        self._people: tuple[list[dict], str] | None = None

    def create_launch(
        self,
        *,
        patient: str,
        encounter: str | None,
        practitioner: str,
        need_patient_banner: bool,
        app_context: str | None,
        fhir_context: list[dict] | None = None,
        ui_locales: str | None = None,
    ) -> str:
        """Record an EHR launch context; return its opaque id (valid for 10 minutes)."""
        launch_id = secrets.token_urlsafe(24)
        context = {
            "patient": patient,
            "encounter": encounter,
            "practitioner": practitioner,
            "need_patient_banner": need_patient_banner,
            "app_context": app_context,
            "fhir_context": fhir_context,
            "ui_locales": ui_locales,
        }
        self.store.save_launch(launch_id, context, time.time() + LAUNCH_SECONDS)
        return launch_id

    def validate_access_token(self, token: str) -> bool:
        """Tell whether a bearer token is a live access token (the fixture FHIR server's check)."""
        return self.store.access_token_valid(token)

    def revoke_all_tokens(self, client_id: str | None = None) -> None:
        """Revoke issued tokens, as an EHR does when it signs users out."""
        self.store.revoke_all(client_id=client_id)

    def issue_access_token(
        self,
        *,
        scope: str = "patient/*.rs",
        patient: str | None = None,
        client_id: str = CDS_CLIENT,
        seconds: int | None = None,
    ) -> dict:
        """Mint a bearer token directly, as the demo EHR does for CDS Hooks fhirAuthorization."""
        lifetime = seconds or self.token_seconds
        token = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope,
        }
        context = {"patient": patient} if patient else {}
        self.store.save_token(
            token, client_id=client_id, scope=scope, user_id="demo-ehr", context=context
        )
        return {**token, "subject": client_id, **context}

    def _backend_authority(self, instance_path: Path) -> BackendAuthority:
        """Backend Services for Bedside's demo client: system tokens the FHIR server accepts."""
        public = demo_backend_key(instance_path).as_dict(private=False)

        def issue(client_id: str, scope: str, seconds: int) -> str:
            token = self.issue_access_token(scope=scope, client_id=client_id, seconds=seconds)
            return token["access_token"]

        return BackendAuthority(
            {DEMO_BACKEND_CLIENT: {"keys": [public]}},
            self.token_url,
            allowed_scopes=lambda client_id, scope: scope_granted(scope, BACKEND_SCOPES),
            issue=issue,
        )

    def jwt_client_private_key(self) -> dict:
        """The private_key_jwt client's private JWK (demo only: lets Bedside act as it)."""
        return self.credentials.jwt_client_key.as_dict(private=True)

    def client(self, client_id: str) -> DemoClient | None:
        """Look up a registered client (its redirect URI follows this server's public URL)."""
        redirect_uri = f"{base_url()}/smart/callback"
        credentials = self.credentials
        clients = {
            PUBLIC_CLIENT: DemoClient(PUBLIC_CLIENT, "none", CLIENT_SCOPES, redirect_uri),
            SECRET_CLIENT: DemoClient(
                SECRET_CLIENT,
                "client_secret_basic",
                CLIENT_SCOPES,
                redirect_uri,
                client_secret=credentials.client_secret,
            ),
            JWT_CLIENT: DemoClient(
                JWT_CLIENT,
                "private_key_jwt",
                CLIENT_SCOPES,
                redirect_uri,
                jwks=credentials.jwt_client_jwks(),
            ),
        }
        return clients.get(client_id)

    def issuer(self) -> str:
        """This server's issuer: the fixture FHIR base URL."""
        return f"{base_url()}/fhir"

    def token_url(self) -> str:
        """The absolute token endpoint URL."""
        return f"{base_url()}/demo-ehr/auth/token"

    def smart_configuration(self) -> dict:
        """The SMART discovery document served at {issuer}/.well-known/smart-configuration."""
        auth = f"{base_url()}/demo-ehr/auth"
        return {
            "issuer": self.issuer(),
            "jwks_uri": f"{auth}/jwks",
            "authorization_endpoint": f"{auth}/authorize",
            "token_endpoint": f"{auth}/token",
            "token_endpoint_auth_methods_supported": [
                "none",
                "client_secret_basic",
                "private_key_jwt",
            ],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "scopes_supported": sorted(CLIENT_SCOPES | BACKEND_SCOPES),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "capabilities": CAPABILITIES,
        }

    def context_fields(self, context: dict, practitioner: str, scopes: list[str]) -> dict:
        """The launch context parameters of a token response."""
        fields: dict[str, object] = {}
        for name in ("patient", "encounter"):
            if context.get(name):
                fields[name] = context[name]
        if "need_patient_banner" in context:
            fields["need_patient_banner"] = bool(context["need_patient_banner"])
        if context.get("fhir_context"):
            fields["fhirContext"] = context["fhir_context"]
        if context.get("app_context"):
            fields["appContext"] = context["app_context"]
        if context.get("ui_locales"):
            fields["ui_locales"] = context["ui_locales"]  # the user's languages (OpenID style)
        if "fhirUser" in scopes:
            fields["fhirUser"] = self.fhir_user(practitioner)
        return fields

    def fhir_user(self, practitioner: str) -> str:
        """The practitioner's FHIR URL (the fhirUser claim)."""
        return f"{self.issuer()}/Practitioner/{practitioner}"

    def sign_id_token(
        self, *, client_id: str, practitioner: str, nonce: str | None, with_fhir_user: bool
    ) -> str:
        """Sign an OpenID Connect id_token (RS256) with the demo signing key."""
        now = int(time.time())
        claims = {
            "iss": self.issuer(),
            "sub": practitioner,
            "aud": client_id,
            "iat": now,
            "exp": now + self.token_seconds,
        }
        if nonce:
            claims["nonce"] = nonce
        if with_fhir_user:
            claims["fhirUser"] = self.fhir_user(practitioner)
        header = {"alg": "RS256", "kid": SIGNING_KID, "typ": "JWT"}
        return jwt.encode(header, claims, self.credentials.signing_key, algorithms=["RS256"])

    def people(self) -> tuple[list[dict], str]:
        """The fixture patients (for the picker) and the practitioner who signs in standalone."""
        if self._people is None:
            from app.devtools.fhir_store import FixtureStore

            store = FixtureStore.from_directory(self.fixtures_dir)
            patients = [
                {"id": patient["id"], "name": display_name(patient)}
                for patient in store.search("Patient", [])
            ]
            practitioners = sorted(item["id"] for item in store.search("Practitioner", []))
            self._people = (patients, practitioners[0] if practitioners else "demo-practitioner")
        return self._people


# The HTTP endpoints: /demo-ehr/auth/authorize, /token and /jwks.


def create_blueprint(server: DemoAuthServer) -> Blueprint:
    """Build the /demo-ehr/auth blueprint over one DemoAuthServer."""
    bp = Blueprint("demo_auth", __name__)

    @bp.route("/authorize", methods=["GET", "POST"])
    def authorize():
        """Validate the request; EHR launches approve at once, standalone ones sign in first."""
        if request.method == "POST":
            check_csrf_token()
        try:
            grant = server.oauth.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            return oauth_error_page(error)
        launch = request.values.get("launch")
        if launch:
            return approve_launch(server, grant, launch)
        if request.method == "POST":
            return approve_sign_in(server, grant)
        return sign_in_page(server)

    @bp.post("/token")
    def token() -> Response:
        """Exchange a code or a refresh token (Authlib), or serve Backend Services' grant."""
        if request.form.get("grant_type") == "client_credentials":
            return server.backend.token_view()
        return server.oauth.create_token_response()

    @bp.get("/jwks")
    def jwks() -> Response:
        """Publish the id_token signing key."""
        return jsonify(server.credentials.public_jwks())

    return bp


def approve_launch(server: DemoAuthServer, grant, launch: str) -> Response:
    """Issue a code for an EHR launch: the clinician is already signed in to the EHR."""
    context = server.store.find_launch(launch)
    if context is None:
        abort(400, "The launch expired; start the app again from the EHR.")
    return server.oauth.create_authorization_response(
        grant=grant, grant_user=(context["practitioner"], context)
    )


def approve_sign_in(server: DemoAuthServer, grant) -> Response:
    """Issue a code after the simulator's sign-in form (or send access_denied)."""
    if request.form.get("decision") != "approve":
        return server.oauth.create_authorization_response(grant=grant, grant_user=None)
    patients, practitioner = server.people()
    context: dict = {}
    if "launch/patient" in requested_scopes():
        patient = request.form.get("patient", "")
        if patient not in {item["id"] for item in patients}:
            abort(400, "Choose one of the listed patients.")
        context = {"patient": patient, "need_patient_banner": True}
    return server.oauth.create_authorization_response(
        grant=grant, grant_user=(practitioner, context)
    )


def sign_in_page(server: DemoAuthServer) -> str:
    """Render the simulator's sign-in page (with a patient picker for launch/patient)."""
    patients, practitioner = server.people()
    scopes = requested_scopes()
    params = [
        (name, value)
        for name, value in request.args.items(multi=True)
        if name not in FORM_ONLY_FIELDS
    ]
    return render_template(
        "demo/authorize.html",
        client_id=request.args.get("client_id", ""),
        scopes=scopes,
        params=params,
        patients=patients if "launch/patient" in scopes else [],
        practitioner=practitioner,
        csrf_token=new_csrf_token(),
    )


def oauth_error_page(error: OAuth2Error) -> Response | tuple[str, int]:
    """Send an OAuth error back to a validated redirect URI, else show it as a 400 page."""
    status, _, headers = error()
    if status == 302:
        return Response("", status=302, headers=headers)
    message = error.description or error.error
    return render_template("error.html", status=400, title="Sign-in refused", message=message), 400


def new_csrf_token() -> str:
    """Make a CSRF token for the sign-in form and remember it in the signed session."""
    token = secrets.token_urlsafe(24)
    session[CSRF_KEY] = token
    return token


def check_csrf_token() -> None:
    """Refuse a sign-in POST whose CSRF token does not match the session's (single use)."""
    expected = session.pop(CSRF_KEY, None)
    given = request.form.get("csrf_token", "")
    if not expected or not secrets.compare_digest(expected, given):
        abort(400, "The sign-in form expired or was not sent from this page; start again.")


def requested_scopes() -> list[str]:
    """The scopes named in the current authorization request."""
    return scope_to_list(request.values.get("scope") or "") or []


# The Authlib parts: the authorization server, its clients, grants and SMART's rules.


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


# Helpers: SMART scope arithmetic, this service's public URL, a patient's display name.


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


def base_url() -> str:
    """The public origin of this service, never taken from a caller's Host header alone."""
    return demo_origin()


def display_name(patient: dict) -> str:
    """A patient's name for the picker."""
    for name in patient.get("name", []):
        given = " ".join(name.get("given", []))
        return f"{given} {name.get('family', '')}".strip() or patient["id"]
    return patient["id"]
