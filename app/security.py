"""Security headers on every response: a strict Content-Security-Policy and friends."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import split_url

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
HSTS = "max-age=31536000"  # one year; not includeSubDomains: sibling hosts are not ours to pin


def init_app(app: Flask) -> None:
    """Trust the configured proxies; add the headers after every request (HSTS when https)."""
    trust_proxies(app, int(app.config["PROXY_HOPS"]))
    policy = content_security_policy(app.config["FRAME_ANCESTORS"])
    https = https_deployment(app.config.get("PUBLIC_BASE_URL"))

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def trust_proxies(app: Flask, hops: int) -> None:
    """Take the client address and scheme from the last `hops` proxies' X-Forwarded headers.

    Only as many entries as there are trusted proxies are read, from the right: a client cannot
    choose its address by sending its own X-Forwarded-For. The Host header is never taken from
    them (public URLs come from BEDSIDE_PUBLIC_BASE_URL).
    """
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)


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
    parts = split_url(url)
    if parts is None or not parts.netloc:
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
    return request.is_secure or https_deployment(current_app.config.get("PUBLIC_BASE_URL"))


def https_deployment(public_base_url: object) -> bool:
    """Tell whether Bedside is served at an https public URL (BEDSIDE_PUBLIC_BASE_URL)."""
    return str(public_base_url or "").startswith("https://")
