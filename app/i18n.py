"""The app's language: `?lang=` (kept in a small cookie), the learner's profile, the browser's.

An EHR launch that names the user's language (SMART token response `ui_locales`, or the OpenID
`locale` claim) opens the app with that `?lang=`, so it wins at launch and the switcher still works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

from flask import Response, current_app, has_request_context, request, url_for
from flask_babel import format_decimal, format_timedelta, get_locale

from app.security import cookie_policy

LANGUAGES = ("en", "es", "fr")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français"}  # each in its own language
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "bedside_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
PROFILE_LANGUAGE = "bedside_profile_language"  # app.extensions key: () -> stored language or None


def select_locale() -> str:
    """Pick the UI language for this request (Flask-Babel's locale selector)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    stored = profile_language()
    if stored in LANGUAGES:
        return stored
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def best_language(tags: Iterable[str]) -> str | None:
    """The first language Bedside speaks among BCP 47 tags in preference order (fr-CA → fr)."""
    for tag in tags:
        base = tag.strip().replace("_", "-").split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return None


def text_direction(code: str) -> str:
    """The writing direction of a language: rtl for Arabic, Hebrew, Persian, Urdu; else ltr."""
    return "rtl" if code.split("-")[0].lower() in RIGHT_TO_LEFT else "ltr"


def profile_language() -> str | None:
    """The signed-in learner's saved language, when the app registered a way to read it."""
    reader: Callable[[], str | None] | None = current_app.extensions.get(PROFILE_LANGUAGE)
    return reader() if reader is not None else None


def remember_language(response: Response) -> Response:
    """Keep an explicit `?lang=` choice in the bedside_lang cookie (a preference, not a token)."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=LANG_COOKIE_SECONDS,
            path="/",
            httponly=True,
            **cookie_policy(),
        )
    return response


def language() -> str:
    """The current UI language code (en, es or fr)."""
    locale = get_locale()
    code = locale.language if locale is not None else DEFAULT_LANGUAGE
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def localized(text: object) -> str:
    """Pick the current language from a content map ({en: …, es: …}), falling back to English."""
    if isinstance(text, Mapping):
        value = text.get(language()) or text.get(DEFAULT_LANGUAGE) or next(iter(text.values()), "")
        return str(value)
    return "" if text is None else str(text)


def language_url(code: str, fallback: str = "ui.home") -> str:
    """This page's URL in another language (GET pages keep their query; else the fallback page)."""
    if request.method != "GET" or request.endpoint is None:
        return url_for(fallback, lang=code)
    # The page's own path and query, not url_for: a query key such as `endpoint`, `_method` or a
    # path value's name would collide with url_for's own arguments.
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{quote(request.script_root + request.path)}?{urlencode([*query, ('lang', code)])}"


def amount(value: Decimal | float | str) -> str:
    """Write a credit amount the local way, with two decimals (0.50 / 0,50)."""
    return format_decimal(Decimal(str(value)), format="0.00")


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """Say how long ago something happened, in the UI language ("40 minutes ago")."""
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    return format_timedelta(moment - now, add_direction=True, threshold=1.0)


def remaining(deadline: datetime, now: datetime | None = None) -> str:
    """Say how much time is left before a deadline ("3 days"); nothing when it has passed."""
    left = deadline - (now or datetime.now(UTC))
    return format_timedelta(left, threshold=1.0) if left.total_seconds() > 0 else ""


def private_page(response: Response) -> Response:
    """Keep a page out of shared caches (it may show patient or learner data) and the language."""
    response.headers["Cache-Control"] = "no-store"
    return remember_language(response)
