"""The SMART app's pages (/app): case player, point-of-care cycle, transcript; en, es and fr.

Wire with `init_ui(app)` after the ledger, SMART and CDS set-up. Every POST form under /app needs
Flask-WTF's CSRF token; other blueprints (CDS services, the demo EHR's JSON API, /smart/*) are not
checked by default (`WTF_CSRF_CHECK_DEFAULT = False`) and can opt in with `protect_blueprint`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import OperationalError as DatabaseBusy

from app.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    PROFILE_LANGUAGE,
    select_locale,
    text_direction,
)
from app.library.loader import load_library
from app.library.search import GuidelineSearch
from app.ui.learning_flow import learning_store
from app.ui.offline import init_offline
from app.ui.page_context import UiRuntime, learner_id

__all__ = ["init_ui", "protect_blueprint"]


def init_ui(app: Flask) -> UiRuntime:
    """Set up translations, CSRF protection, the library and its search, and mount /app."""
    if "ui" in app.extensions:
        return app.extensions["ui"]
    from app.ui import (  # noqa: F401  (register routes)
        case_views,
        club_views,
        conference_views,
        discussion_views,
        editorial_views,
        email_optin,
        learner_views,
        poc_views,
        scenario_views,
        transcript_views,
    )
    from app.ui.source_views import bp as source_bp
    from app.ui.views import bp

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    framed = app.config["COOKIE_SAMESITE"] == "None"  # the CSRF token lives in Flask's session
    app.config["SESSION_COOKIE_SAMESITE"] = app.config["COOKIE_SAMESITE"]
    app.config["SESSION_COOKIE_SECURE"] = framed or app.config.get("SESSION_COOKIE_SECURE", False)
    app.config["SESSION_COOKIE_PARTITIONED"] = framed
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", app.config.get("SMART_SESSION_SECONDS", 28800))
    Babel(app, locale_selector=select_locale, default_locale=DEFAULT_LANGUAGE)
    app.jinja_env.globals.update(text_direction=text_direction, language_choices=LANGUAGE_NAMES)
    app.extensions[PROFILE_LANGUAGE] = stored_profile_language
    CSRFProtect(app)
    library = library_for(app)
    runtime = UiRuntime(library=library, search=GuidelineSearch(library))
    app.extensions["ui"] = runtime
    app.register_blueprint(bp)
    app.register_blueprint(source_bp)
    init_offline(app)
    return runtime


def stored_profile_language() -> str | None:
    """The language the signed-in learner saved in their profile (None outside a launched page)."""
    session = g.get("smart_session")  # loaded by the app pages' session check, never here
    if session is None or not session.user:
        return None
    try:
        stored = learning_store().profile(learner_id())
    except DatabaseBusy:
        return None  # a busy store costs the page its saved language, never the page itself
    return stored[0].language if stored else None


def library_for(app: Flask):
    """The content library: the CDS engine's copy when it is loaded, else read once here."""
    cds = app.extensions.get("cds")
    if cds is not None:
        return cds.engine.library
    return load_library(app.config["CONTENT_DIR"])


def protect_blueprint(bp: Blueprint) -> None:
    """Require the CSRF token on another blueprint's form POSTs too."""

    @bp.before_request
    def check_csrf_token() -> None:
        """Refuse a state-changing request without a valid CSRF token."""
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            current_app.extensions["csrf"].protect()
