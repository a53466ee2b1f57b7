"""HTTP endpoints of the demo SMART authorization server: authorize, token, jwks."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import Blueprint, Response, abort, jsonify, render_template, request, session

if TYPE_CHECKING:
    from app.devtools.smart_auth import DemoAuthServer

FORM_ONLY_FIELDS = {"csrf_token", "patient", "decision"}
CSRF_KEY = "demo_ehr_csrf"


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
        """Exchange a code or a refresh token (Authlib validates client auth and PKCE)."""
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
