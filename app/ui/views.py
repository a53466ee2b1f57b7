"""The /app blueprint: session and CSRF checks, page rendering, error pages and the home page."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError

from app import i18n
from app.deployment import deployment
from app.ledger.models import IdempotencyConflict, LedgerUnavailable, UnknownRecord
from app.library import editorial
from app.smart import FhirRequestError, SmartSessionEnded, current_smart_session
from app.smart.sessions import LAUNCH_ARG, bind_launch, forget_ended_session
from app.ui import labels
from app.ui.offline import (
    TOKEN_REFUSED_HEADER,
    mark_kept_page,
    name_offline_cache,
    offline_cache_key,
    offline_readable,
)
from app.ui.page_context import (
    context_module_id,
    learner_id,
    ledger,
    patient_banner,
    runtime,
    signed_in,
    smart_session,
)
from app.ui.poc_flow import open_cycles

bp = Blueprint("ui", __name__, url_prefix="/app")


@bp.before_request
def require_session_and_token() -> tuple[str, int] | None:
    """Every page needs its launch (or, unbound, the browser's latest); a POST the CSRF token."""
    launch = request.args.get(LAUNCH_ARG)
    if launch is not None and bind_launch(launch) is None:
        return render_template("ui/relaunch.html", launch_unknown=True), 401
    if current_smart_session() is None:
        return render_template("ui/launch_needed.html", demo=deployment().demo), 401
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        current_app.extensions["csrf"].protect()
    return None


@bp.url_defaults
def keep_launch(endpoint: str, values: dict) -> None:
    """Every link, form and redirect of a page names the launch the page is bound to."""
    session = g.get("smart_session")
    if session is not None and session.launch_id:
        values.setdefault(LAUNCH_ARG, session.launch_id)


bp.after_request(i18n.private_page)
bp.after_request(name_offline_cache)
bp.after_request(mark_kept_page)


@bp.context_processor
def helpers() -> dict:
    """Functions and values every app template uses."""
    return {
        "lang": i18n.language(),
        "languages": i18n.LANGUAGES,
        "localized": i18n.localized,
        "amount": i18n.amount,
        "ago": i18n.ago,
        "remaining": i18n.remaining,
        "refusal": labels.refusal,
        "specialty": labels.specialty,
        "credit_type": labels.credit_type,
        "language_url": i18n.language_url,
        "is_draft": is_draft,
        "earns_credit": earns_credit,
        "demo": deployment().demo,
        "signed_in": signed_in,
        "offline_cache_key": offline_cache_key,
    }


def page(template: str, **context) -> str:
    """Render an app page with the patient banner."""
    return render_template(template, banner=patient_banner(), **context)


def is_draft(module: dict) -> bool:
    """Tell whether a module still awaits approval by a named clinician reviewer."""
    return not editorial.is_approved(module)


def earns_credit(module: dict) -> bool:
    """Tell whether this installation awards credit for the module (production: approved only)."""
    return not (ledger().policy.approved_modules_only and is_draft(module))


def error_page(
    status: int, title: str, message: str, resend: list[tuple[str, str]] | None = None
) -> tuple[str, int]:
    """Render a translated error page (with `resend`: a form posting those fields again)."""
    html = render_template(
        "ui/error.html", status=status, title=title, message=message, resend=resend
    )
    return html, status


def posted_fields() -> list[tuple[str, str]] | None:
    """A refused form's fields, to send again from the error page (None: not a form post)."""
    if request.method != "POST" or not request.form:
        return None
    return list(request.form.items(multi=True))


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> tuple[str, int, dict[str, str]]:
    """A form without a valid token: nothing was recorded (offline.js keeps a queued answer)."""
    html, status = error_page(
        400,
        gettext("This form could not be accepted"),
        gettext(
            "The form was missing its security token or it had expired, so nothing was "
            "recorded. Go back, reload the page and try again."
        ),
    )
    return html, status, {TOKEN_REFUSED_HEADER: "1"}


@bp.errorhandler(404)
def not_found(error: Exception) -> tuple[str, int]:
    """An unknown module, question or attempt."""
    return error_page(
        404, gettext("Not found"), gettext("There is no such page, module or attempt.")
    )


@bp.errorhandler(403)
def forbidden(error: Exception) -> tuple[str, int]:
    """The EHR did not identify the user."""
    return error_page(
        403,
        gettext("Bedside does not know who you are"),
        gettext(
            "Your EHR did not tell Bedside who you are, so credit cannot be kept. "
            "Ask your administrator to allow the openid and fhirUser scopes."
        ),
    )


@bp.errorhandler(SmartSessionEnded)
def session_ended(error: SmartSessionEnded) -> tuple[Response, int]:
    """The EHR session is over: ask for a relaunch and drop the cookie if it is stale."""
    response = current_app.make_response(render_template("ui/relaunch.html"))
    forget_ended_session(response)
    return response, 401


@bp.errorhandler(FhirRequestError)
def fhir_failed(error: FhirRequestError) -> tuple[str, int]:
    """The EHR's data could not be read."""
    return error_page(
        502,
        gettext("EHR data unavailable"),
        gettext("The EHR's FHIR server could not be read just now. Try again in a moment."),
        posted_fields(),
    )


@bp.errorhandler(LedgerUnavailable)
def ledger_unavailable(error: LedgerUnavailable) -> tuple[str, int]:
    """The ledger could not confirm the commit; a retry is safe (never recorded twice)."""
    return error_page(
        503,
        gettext("Credit ledger busy"),
        gettext(
            "The credit ledger could not confirm this just now. Try again: a credit is never "
            "recorded twice."
        ),
        posted_fields(),
    )


@bp.errorhandler(IdempotencyConflict)
@bp.errorhandler(UnknownRecord)
def ledger_refused(error: Exception) -> tuple[str, int]:
    """An attempt that does not fit what is already recorded."""
    return error_page(
        409,
        gettext("Already recorded"),
        gettext("This step was already recorded differently. Go back to the start page."),
    )


@bp.get("/")
@offline_readable
def home() -> str:
    """The launched context, the library, open point-of-care cycles and the transcript link."""
    session = smart_session()
    library = runtime().library
    continue_id = context_module_id(session)
    modules = sorted(library.modules.values(), key=lambda m: i18n.localized(m["title"]).lower())
    return page(
        "ui/home.html",
        continue_module=library.modules.get(continue_id) if continue_id else None,
        modules=modules,
        cycles=open_cycles(learner_id()),
        poc_credit=poc_credit_text(),
    )


@bp.get("/offline")
@offline_readable
def offline_fallback() -> str:
    """What the service worker shows offline for a page that was not kept for offline reading."""
    return page("ui/offline.html")


def poc_credit_text() -> str:
    """The credit a completed point-of-care cycle earns, e.g. "0.50 AMA PRA Category 1 Credit™"."""
    awards = ledger().policy.poc_credit
    return "; ".join(f"{i18n.amount(amount)} {labels.credit_type(kind)}" for kind, amount in awards)
