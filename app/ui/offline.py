"""Offline reading on a phone: the service worker's scope and the cache each learner's pages go in.

The service worker (app/static/sw.js) keeps copies of /app pages so a learner can read them, and
answer, without a connection. Pages are per learner and carry launch ids and CSRF tokens, so every
app page names its cache in a response header: an opaque key derived from the browser's sign-in
(never the cookie itself, which stays HttpOnly). The worker keeps one learner's cache at a time
and drops it when a page names another key, or when /app answers without a sign-in.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, Response, current_app, request

from app.smart import current_smart_session

APP_SCOPE = "/app/"
WORKER_FILE = "sw.js"
CACHE_HEADER = "X-Bedside-Offline-Cache"


def init_offline(app: Flask) -> None:
    """Let the worker served from /static/ control /app/, and keep it fresh."""
    app.after_request(allow_app_scope)


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


def offline_cache_key() -> str | None:
    """An opaque key for this browser's sign-in: new after a sign-out or another clinician."""
    session = current_smart_session()
    if session is None or not session.browser_key:
        return None
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = f"bedside-offline-cache:{session.browser_key}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
