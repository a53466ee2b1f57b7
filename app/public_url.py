"""This service's public base URL: what absolute links, audiences and issuer ids are built on."""

from __future__ import annotations

from flask import current_app, request, url_for


def public_base_url() -> str:
    """PUBLIC_BASE_URL without a trailing slash, else the URL this request reached us at.

    Behind a proxy the request's scheme and host are the proxy's only when ProxyFix trusts it
    (BEDSIDE_PROXY_HOPS); the URI form (werkzeug's url_root is the IRI form), with the script
    root, so a Bedside mounted under a path prefix names itself with the prefix.
    """
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    return f"{request.scheme}://{request.host}{request.script_root}"


def public_url_for(endpoint: str, **values: object) -> str:
    """The absolute public URL of an endpoint (url_for's path already carries the script root)."""
    path = url_for(endpoint, **values)
    return public_base_url() + path.removeprefix(request.script_root)
