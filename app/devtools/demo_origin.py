"""The one origin the demo trusts for the URLs it signs and the calls it makes (not the Host).

The demo EHR posts signed JWTs with patient data to Bedside's CDS services, and the demo SMART
server signs tokens for an issuer URL. Built from a request's Host header, a caller could choose
where those go. So the demo uses `BEDSIDE_PUBLIC_BASE_URL` when it is set, and otherwise only a
Host that names a loopback address on the very port this server listens on.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request

from app.errors import ApiError
from app.security import LOOPBACK_HOSTS

DEFAULT_PORTS = {"http": 80, "https": 443}


def demo_origin() -> str:
    """This server's base URL for the demo: PUBLIC_BASE_URL, else its own loopback address."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    if not names_this_loopback_server(request.host, request.scheme, request.environ):
        raise ApiError(
            400,
            "untrusted_host",
            "The demo runs at a loopback address of this server (e.g. http://127.0.0.1:8000); "
            "to reach it under another name, set BEDSIDE_PUBLIC_BASE_URL to that URL.",
        )
    return request.host_url.rstrip("/")


def names_this_loopback_server(host: str, scheme: str, environ: dict) -> bool:
    """Tell whether a Host header names a loopback address on the port this server listens on."""
    try:
        parts = urlsplit(f"//{host}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:  # a malformed port
        return False
    return parts.hostname in LOOPBACK_HOSTS and str(port) == str(environ.get("SERVER_PORT"))
