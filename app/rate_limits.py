"""Rate limits (Flask-Limiter): each CDS client and each learner session has its own budget.

A CDS call is counted against the issuer its JWT names *and* the address it came from, so a caller
who forges another EHR's issuer spends only its own budget. App pages are counted per live SMART
session (per address before a launch, or when the cookie names no live session); the launch
endpoints (/smart/*) per address, at the app pages' rate but on a counter of their own. A breach
is a 429 with `Retry-After`, in the one JSON error shape on the CDS endpoints. Counters live in
`RATE_LIMIT_STORAGE` (default: each worker's memory, so N workers allow up to N times the limit;
a shared store such as `redis://…` counts across workers and hosts).
"""

from __future__ import annotations

import base64
import hashlib
import json

from flask import Flask, request
from flask_limiter import Limiter
from limits import parse_many
from limits.errors import ConfigurationError

from app.errors import ConfigError
from app.smart.sessions import COOKIE_NAME as SMART_COOKIE
from app.smart.sessions import current_smart_session

MAX_TOKEN_CHARS = 16_384  # a longer Authorization header is not parsed for its issuer
MAX_ISSUER_CHARS = 200


def init_app(app: Flask) -> Limiter:
    """Attach the limiter and the CDS, app-page and launch limits to their blueprints."""
    for name in ("CDS_RATE_LIMIT", "APP_RATE_LIMIT"):
        check_limit(name, str(app.config[name]))
    limiter = make_limiter(app)
    limiter.limit(str(app.config["CDS_RATE_LIMIT"]), key_func=cds_client_key)(
        app.blueprints["cds_hooks"]
    )
    limiter.limit(str(app.config["APP_RATE_LIMIT"]), key_func=learner_session_key)(
        app.blueprints["ui"]
    )
    limiter.limit(str(app.config["APP_RATE_LIMIT"]), key_func=launch_address_key)(
        app.blueprints["smart"]
    )
    return limiter


def make_limiter(app: Flask) -> Limiter:
    """The limiter on the configured counter store; ConfigError when it cannot be opened."""
    try:
        return Limiter(
            key_func=client_address,
            app=app,
            storage_uri=str(app.config["RATE_LIMIT_STORAGE"]),
            headers_enabled=True,
            strategy="moving-window",
        )
    except (ConfigurationError, ValueError):  # the URL is not shown: it may hold a password
        raise ConfigError(
            "BEDSIDE_RATE_LIMIT_STORAGE names a counter store Flask-Limiter cannot open (an "
            "unknown scheme, an unreadable host or port, or a client library such as redis not "
            "installed): give memory:// or a URL such as redis://host:6379."
        ) from None


def check_limit(name: str, value: str) -> None:
    """Refuse a limit Flask-Limiter cannot read, naming the setting."""
    try:
        if not parse_many(value):
            raise ValueError(value)
    except ValueError:
        raise ConfigError(
            f"BEDSIDE_{name} must be a rate such as '600 per minute' or '10/second', not {value!r}."
        ) from None


def client_address() -> str:
    """The caller's address (behind a proxy: what the proxy setup makes remote_addr)."""
    return request.remote_addr or "unknown"


def cds_client_key() -> str:
    """The issuer the call's JWT names (unverified: only for counting) and its address."""
    return f"cds:{claimed_issuer(request.headers.get('Authorization', ''))}:{client_address()}"


def learner_session_key() -> str:
    """The browser's group of launches when its cookie names a live session, else the address.

    The group outlives the cookie's value, which changes at every sign-in, so signing in again
    does not start a new budget. A cookie naming no session (made up, or ended) is counted per
    address: a new value on every request would otherwise be a new budget every time.
    """
    session = current_smart_session() if request.cookies.get(SMART_COOKIE) else None
    if session is not None:
        return "session:" + hashlib.sha256(session.browser_group.encode()).hexdigest()[:32]
    return f"address:{client_address()}"


def launch_address_key() -> str:
    """The address a launch or sign-in answer comes from."""
    return f"launch:{client_address()}"


def claimed_issuer(authorization: str) -> str:
    """The `iss` a bearer JWT claims, without verifying it; '-' when there is none."""
    token = authorization.removeprefix("Bearer ").strip()
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or len(parts) != 3:
        return "-"
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return "-"
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    if not isinstance(issuer, str) or not issuer or len(issuer) > MAX_ISSUER_CHARS:
        return "-"
    return issuer
