"""Offline reading on a phone: the service worker's scope and the cache each learner's pages go in.

The service worker (app/static/sw.js) keeps copies of /app pages so a learner can read them, and
answer, without a connection. Pages are per learner and carry launch ids and CSRF tokens, so every
app page names its cache in a response header: an opaque key derived from the browser's group of
launches (never from the cookie, which stays HttpOnly and changes at every sign-in). The worker
keeps one learner's cache at a time and drops it when a page names another key, or when /app
answers without a sign-in.

Cache Storage ignores `no-store`, so the worker keeps only pages marked `X-Bedside-Offline: keep`:
views that show no patient data opt in (`@offline_readable`), and even they are not marked while a
patient is in the launch's context (banner, facts). Every other page is network-only.

Answers given offline wait on the device (app/static/offline.js) until the server accepts or
refuses them for good. An answer refused because the learner must sign in again stays there and
is sent after the next launch, which starts a new cache: the queue is therefore kept per clinician
(an opaque learner key), and a POST refused only for its CSRF token says so in a header, as that
400 is a sign-in problem, unlike a 400 for the answer itself.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request

from app.smart import current_smart_session

APP_SCOPE = "/app/"
WORKER_FILE = "sw.js"
CACHE_HEADER = "X-Bedside-Offline-Cache"
KEEP_HEADER = "X-Bedside-Offline"
KEEP = "keep"
TOKEN_REFUSED_HEADER = "X-Bedside-Token-Refused"  # set by views.csrf_failed


def init_offline(app: Flask) -> None:
    """Let the worker served from /static/ control /app/, keep it fresh, and guide the queue."""
    app.after_request(allow_app_scope)
    app.add_template_global(offline_learner_key)


def allow_app_scope(response: Response) -> Response:
    """Serve sw.js with Service-Worker-Allowed: /app/ (it lives under /static/) and no-cache."""
    if request.endpoint == "static" and (request.view_args or {}).get("filename") == WORKER_FILE:
        response.headers["Service-Worker-Allowed"] = APP_SCOPE
        response.headers["Cache-Control"] = "no-cache"
    return response


def name_offline_cache(response: Response) -> Response:
    """Name the signed-in browser's offline cache on an app page (none without a sign-in)."""
    key = offline_cache_key()
    if key is not None:
        response.headers[CACHE_HEADER] = key
    return response


def offline_readable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let the worker keep this view's pages: they show no patient data of their own."""

    @functools.wraps(view)
    def readable(*args: Any, **kwargs: Any) -> Any:
        g.offline_readable = True
        return view(*args, **kwargs)

    return readable


def mark_kept_page(response: Response) -> Response:
    """Mark what the worker may keep: an opted-in view's 200 with no patient in context."""
    if g.get("offline_readable") and response.status_code == 200 and not patient_in_context():
        response.headers[KEEP_HEADER] = KEEP
    return response


def patient_in_context() -> bool:
    """Tell whether the launch names a patient (pages then may show the banner or their facts)."""
    session = current_smart_session()
    return session is None or bool(session.patient)


def offline_cache_key() -> str | None:
    """An opaque key for the browser's group of launches: new after a sign-out or another clinician.

    It derives from the group's server-side id, which outlives the cookie values rotated at each
    sign-in, so a second tab's launch keeps the cache.
    """
    session = current_smart_session()
    if session is None or not session.browser_group:
        return None
    return keyed_digest(f"bedside-offline-cache:{session.browser_group}")


def offline_learner_key() -> str | None:
    """An opaque key for the signed-in clinician: the same after a relaunch, unlike the cache's."""
    session = current_smart_session()
    if session is None or not session.user:
        return None
    issuer = session.issuer.rstrip("/")
    return keyed_digest(f"bedside-offline-learner:{issuer}\n{session.user}")


def keyed_digest(message: str) -> str:
    """A short HMAC of a message under the app's secret key (no one can derive it elsewhere)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()[:32]
