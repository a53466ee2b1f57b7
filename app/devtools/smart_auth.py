"""Demo SMART authorization server (dev/demo only): the demo EHR's OAuth2 side, on Authlib."""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path

from flask import Flask, current_app, jsonify, request
from joserfc import jwt

from app.devtools.smart_auth_grants import DemoClient, DemoOAuthServer
from app.devtools.smart_auth_keys import SIGNING_KID, load_credentials
from app.devtools.smart_auth_store import DemoAuthStore

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


class DemoAuthServer:
    """The demo EHR's SMART authorization server: launches, clients, tokens, id_tokens."""

    def __init__(self, app: Flask):
        self.store = DemoAuthStore(app.config["DATABASE"])
        self.credentials = load_credentials(Path(app.instance_path))
        self.token_seconds = int(app.config.get("DEMO_TOKEN_SECONDS", 3600))
        self.fixtures_dir = Path(app.config["FHIR_FIXTURES_DIR"]) / "patients"
        self.oauth = DemoOAuthServer(self)
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
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "scopes_supported": sorted(CLIENT_SCOPES),
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


def init_demo_auth(app: Flask) -> DemoAuthServer:
    """Mount the demo SMART authorization server; store it in app.extensions["demo_auth"]."""
    if "demo_auth" in app.extensions:
        return app.extensions["demo_auth"]
    from app.devtools import smart_auth_views

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
    app.register_blueprint(smart_auth_views.create_blueprint(server), url_prefix="/demo-ehr/auth")
    return server


def base_url() -> str:
    """The public origin of this service: PUBLIC_BASE_URL, else the request's host URL."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    return str(configured).rstrip("/") if configured else request.host_url.rstrip("/")


def display_name(patient: dict) -> str:
    """A patient's name for the picker."""
    for name in patient.get("name", []):
        given = " ".join(name.get("given", []))
        return f"{given} {name.get('family', '')}".strip() or patient["id"]
    return patient["id"]
