"""Security headers on every response: a strict Content-Security-Policy and friends."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

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


def cookie_policy() -> dict:
    """SameSite (Lax unless configured), Secure on https, and Partitioned with SameSite=None.

    An EHR that shows the app in a cross-site iframe needs SameSite=None; browsers then require
    Secure, and Partitioned (CHIPS) keeps the cookie working where third-party cookies are blocked.
    """
    samesite = str(current_app.config.get("COOKIE_SAMESITE") or "Lax")
    framed = samesite == "None"
    return {"samesite": samesite, "secure": framed or secure_cookies(), "partitioned": framed}


def secure_cookies() -> bool:
    """Mark cookies Secure on https requests and when the public URL is https."""
    public = str(current_app.config.get("PUBLIC_BASE_URL") or "")
    return request.is_secure or public.startswith("https://")
