"""Cookies for EHRs that frame the app cross-site: SameSite=None needs Secure (and Partitioned)."""

from __future__ import annotations

import pytest
from flask import Response

from app import create_app
from app.errors import ConfigError
from app.i18n import remember_language
from app.smart.sessions import COOKIE_NAME, set_session_cookie


def app_with(instance_path, **config):
    """A test app with these settings."""
    return create_app({"TESTING": True, **config}, instance_path=instance_path)


def cookies_set(app, url: str = "/app/?lang=es") -> list[str]:
    """The Set-Cookie headers of the session and language cookies for one request."""
    with app.test_request_context(url):
        response = Response()
        set_session_cookie(response, "opaque-id", 600)
        remember_language(response)
        return response.headers.getlist("Set-Cookie")


def test_samesite_none_needs_an_https_public_url(instance_path):
    with pytest.raises(ConfigError, match="COOKIE_SAMESITE=None needs Secure cookies"):
        app_with(instance_path, COOKIE_SAMESITE="None")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        app_with(instance_path, COOKIE_SAMESITE="None", PUBLIC_BASE_URL="http://bedside.example")


def test_framed_deployments_get_none_secure_partitioned_cookies(instance_path):
    app = app_with(instance_path, COOKIE_SAMESITE="None", PUBLIC_BASE_URL="https://bedside.example")
    for cookie in cookies_set(app):
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"samesite=none", "secure", "partitioned", "httponly"} <= attributes, cookie
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None"  # Flask's session (the CSRF token)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_PARTITIONED"]


def test_the_default_stays_lax_and_unpartitioned(instance_path):
    app = app_with(instance_path)
    cookies = cookies_set(app)
    assert [c for c in cookies if c.startswith(f"{COOKIE_NAME}=")]
    for cookie in cookies:
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert "samesite=lax" in attributes and "partitioned" not in attributes
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
