"""The SMART launch blueprint: /smart/launch, /smart/standalone, /smart/callback, /smart/logout."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError

from app import i18n
from app.deployment import deployment
from app.errors import error_body, wants_json
from app.smart.clients import callback_url
from app.smart.oauth import begin_authorization, complete_authorization
from app.smart.pending import new_secret, set_signin_cookie, signin_binding
from app.smart.runtime import runtime
from app.smart.sessions import (
    LAUNCH_ARG,
    SmartSession,
    browser_session_id,
    clear_session_cookie,
    forget_ended_session,
    same_clinician,
    set_session_cookie,
)
from app.smart.smart_errors import FhirRequestError, SmartLaunchError, SmartSessionEnded

bp = Blueprint("smart", __name__, url_prefix="/smart")
MODULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
RELAUNCH = "Your session with the EHR has ended; please relaunch Bedside from your EHR."


@bp.get("/launch")
def launch() -> Response:
    """EHR launch: the EHR opened Bedside with iss and launch."""
    iss = request.args.get("iss", "").strip()
    launch_id = request.args.get("launch", "").strip()
    if not iss or not launch_id:
        raise SmartLaunchError(
            "Launch incomplete",
            "This launch link lacks the EHR's iss or launch parameter. Open Bedside from your EHR.",
        )
    return start(iss, launch_id)


@bp.get("/standalone")
def standalone() -> Response:
    """Standalone launch: sign in at the EHR and pick a patient there."""
    iss = request.args.get("iss", "").strip() or deployment().home_issuer()
    if not iss:
        raise SmartLaunchError("Launch incomplete", "Name the EHR to sign in to (its iss).")
    return start(iss, None)


@bp.get("/callback")
def callback() -> Response:
    """The EHR's answer: check state, exchange the code, store the session, go to the app."""
    rt = runtime()
    state = request.args.get("state", "")
    pending = rt.pending.take(state, signin_binding()) if state else None
    if pending is None:
        raise SmartLaunchError(
            "Sign-in link not valid",
            "This sign-in answer does not match a launch started in this browser, or it was "
            "already used. Start Bedside again from your EHR.",
        )
    if request.args.get("error"):
        detail = request.args.get("error_description") or request.args["error"]
        raise SmartLaunchError("The EHR did not sign you in", f"The EHR answered: {detail}")
    code = request.args.get("code", "")
    client = rt.clients.for_issuer(pending.issuer)
    if not code or client is None:
        raise SmartLaunchError("Sign-in incomplete", "The EHR sent no authorization code.")
    smart_session, locales = complete_authorization(rt, client, pending, code)
    browser_id, stored = rt.sessions.create(smart_session, browser_group(smart_session))
    language = i18n.best_language(locales)
    response = redirect(destination(stored.app_context, stored.launch_id, language))
    set_session_cookie(response, browser_id, int(rt.sessions.lifetime))
    return response


@bp.get("/logout")
def logout_form() -> Response | str:
    """Ask before signing out (a link cannot end a session); nothing to end: go home."""
    if browser_session_id() is None:
        return redirect("/")
    return render_template("smart/logout.html")


@bp.post("/logout")
def logout() -> Response:
    """End the SMART session and forget the cookie (a form POST with the CSRF token)."""
    current_app.extensions["csrf"].protect()  # Flask-WTF: CSRFError without a valid token
    browser_id = browser_session_id()
    if browser_id:
        runtime().sessions.end_browser(browser_id)
    response = redirect("/")
    clear_session_cookie(response)
    return response


@bp.after_request
def no_store(response: Response) -> Response:
    """Keep launch pages out of caches and keep codes out of Referer headers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(SmartLaunchError)
def launch_failed(error: SmartLaunchError) -> tuple[str, int]:
    """Show a launch failure as a clear page."""
    page = render_template(
        "smart/error.html", status=error.status, title=error.title, message=error.message
    )
    return page, error.status


@bp.errorhandler(CSRFError)
def logout_not_confirmed(error: CSRFError) -> tuple[str, int]:
    """A sign-out another site's page could have sent: change nothing, say so."""
    page = render_template(
        "smart/error.html",
        status=400,
        title="Sign-out not confirmed",
        message="This sign-out request did not come from Bedside's own page, so nothing was "
        "changed. Use the Sign out button in Bedside.",
    )
    return page, 400


def start(iss: str, launch_id: str | None) -> Response:
    """Discover the EHR, remember the request bound to this browser, redirect to authorize."""
    rt = runtime()
    client = rt.clients.for_issuer(iss)
    if client is None:
        raise SmartLaunchError(
            "Unknown EHR",
            f"Bedside is not registered with the EHR at {iss}. "
            "Ask your administrator to add it to BEDSIDE_SMART_CLIENTS.",
        )
    config = rt.discovery.configuration(client.iss)
    binding = signin_binding() or new_secret()
    url = begin_authorization(
        rt,
        client,
        config,
        launch=launch_id,
        aud=iss,
        browser_id=binding,
        redirect_uri=callback_url(),
    )
    response = redirect(url)
    set_signin_cookie(response, binding)
    return response


def browser_group(launched: SmartSession) -> str | None:
    """The browser group a new launch joins: the cookie's, when the same clinician holds it.

    None starts a new group (a cookie naming no live launch is never adopted). Another
    clinician's launches in this browser end (a shared ward PC changes hands).
    """
    browser_id = browser_session_id()
    previous = runtime().sessions.load(browser_id) if browser_id else None
    if previous is None:
        return None
    if same_clinician(previous, launched):
        return browser_id
    runtime().sessions.end_browser(browser_id)
    return None


def destination(app_context: str | None, launch_id: str, language: str | None = None) -> str:
    """Where the launch opens: appContext's module's case, else home; in the EHR's language."""
    try:
        context = json.loads(app_context) if app_context else None
    except ValueError:
        context = None
    module = context.get("module") if isinstance(context, dict) else None
    bound = f"?{LAUNCH_ARG}={quote(launch_id)}" + (f"&lang={language}" if language else "")
    if isinstance(module, str) and MODULE_ID.match(module):
        return f"/app/case/{quote(module)}{bound}"
    return f"/app/{bound}"


def session_ended(error: SmartSessionEnded) -> tuple[Response | str, int]:
    """Ask for a relaunch (JSON on API paths), and drop the stale cookie."""
    if wants_json():
        response = jsonify(error_body("smart_session_ended", RELAUNCH))
    else:
        response = current_app.make_response(render_template("smart/relaunch.html"))
    forget_ended_session(response)
    return response, 401


def fhir_failed(error: FhirRequestError) -> tuple[Response | str, int]:
    """Report an EHR data failure without detail from the EHR's answer."""
    status = 502 if error.status >= 500 or error.status == 401 else error.status
    if wants_json():
        return jsonify(error_body("ehr_fhir_error", error.message)), status
    page = render_template(
        "smart/error.html", status=status, title="EHR data unavailable", message=error.message
    )
    return page, status
