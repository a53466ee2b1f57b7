"""Served at an https public URL, Bedside sends HSTS and marks Flask's session cookie Secure."""

from __future__ import annotations

import pytest

from app import create_app
from app.db import close_stores
from app.smart.sessions import COOKIE_NAME


@pytest.fixture
def make_app(instance_path):
    """Build apps with a given public URL; close their stores afterwards."""
    apps = []

    def build(public_base_url: str | None):
        config = {"TESTING": True, "DATABASE": str(instance_path / "bedside.db")}
        if public_base_url:
            config["PUBLIC_BASE_URL"] = public_base_url
        apps.append(create_app(config, instance_path=instance_path))
        return apps[-1]

    yield build
    for app in apps:
        close_stores(app)


def flask_session_cookie(app) -> str:
    """The Set-Cookie header of Flask's session (written when a form gets its CSRF token)."""
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, "a-browser-session")
    response = client.get("/smart/logout")  # the sign-out form holds a CSRF token
    assert response.status_code == 200
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def attributes(cookie: str) -> set[str]:
    """A Set-Cookie header's attribute names and flags, lower-case."""
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_an_https_deployment_sends_hsts_on_every_response(make_app):
    client = make_app("https://bedside.example.org").test_client()
    for path in ("/", "/healthz", "/no-such-page", "/smart/logout"):
        hsts = client.get(path).headers.get("Strict-Transport-Security", "")
        assert hsts.startswith("max-age=") and int(hsts.split("=")[1]) >= 31536000, path


@pytest.mark.parametrize("public_base_url", [None, "http://localhost:5000"])
def test_a_plain_http_deployment_sends_no_hsts(make_app, public_base_url):
    response = make_app(public_base_url).test_client().get("/")
    assert "Strict-Transport-Security" not in response.headers


def test_an_https_deployment_marks_the_flask_session_cookie_secure(make_app):
    cookie = flask_session_cookie(make_app("https://bedside.example.org"))
    assert "secure" in attributes(cookie)
    assert "httponly" in attributes(cookie)


def test_a_plain_http_deployment_keeps_the_session_cookie_usable_over_http(make_app):
    cookie = flask_session_cookie(make_app(None))
    assert "secure" not in attributes(cookie)
