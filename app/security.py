"""Security headers on every response: a strict Content-Security-Policy and friends."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def init_app(app: Flask) -> None:
    """Add the headers after every request."""
    policy = content_security_policy(app.config["FRAME_ANCESTORS"])

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def content_security_policy(frame_ancestors: str) -> str:
    """Only our own scripts and styles (no inline script, no eval); embedding as configured."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors,
        "base-uri": "'none'",
        "object-src": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def is_https_or_loopback(url: object) -> bool:
    """Accept https URLs, and plain http only on loopback (local testing)."""
    if not isinstance(url, str) or not url:
        return False
    parts = urlsplit(url)
    if not parts.netloc:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
