"""Confidential clients: client_secret_basic and private_key_jwt (RS384/ES384, kid, exp ≤ 5 min)."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from app.devtools.smart_auth_keys import JWT_CLIENT_KID, load_credentials
from app.smart.oauth import client_assertion
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS, ehr_launch, sessions_rows

TOKEN_PATH = "/demo-ehr/auth/token"
TOKEN_URL = "http://localhost/demo-ehr/auth/token"


def app_with_client(instance_path, monkeypatch, entry: dict):
    """A demo app whose SMART_CLIENTS file registers `entry` for the demo issuer."""
    path = instance_path / "smart_clients.json"
    path.write_text(json.dumps([{"iss": ISS, **entry}]))
    return build_demo_app(instance_path, monkeypatch, SMART_CLIENTS=str(path))


def token_form(request) -> dict[str, str]:
    """The form fields of a recorded token request."""
    return {name: values[0] for name, values in parse_qs(request.body).items()}


def test_client_secret_basic_sends_the_secret_in_the_authorization_header(
    instance_path, monkeypatch
):
    secret = load_credentials(instance_path).client_secret
    app = app_with_client(
        instance_path,
        monkeypatch,
        {"client_id": "bedside-demo-confidential", "client_secret": secret},
    )
    server, transport = app.extensions["demo_auth"], app.extensions["test_transport"]
    flow = ehr_launch(app.test_client(), server)
    assert flow.callback.status_code == 302
    [request] = transport.requests_to(TOKEN_PATH)
    expected = base64.b64encode(f"bedside-demo-confidential:{secret}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert "client_secret" not in token_form(request)
    assert len(sessions_rows(app)) == 1


def test_a_wrong_client_secret_is_refused_and_nothing_stored(instance_path, monkeypatch):
    app = app_with_client(
        instance_path,
        monkeypatch,
        {"client_id": "bedside-demo-confidential", "client_secret": "wrong"},
    )
    flow = ehr_launch(app.test_client(), app.extensions["demo_auth"])
    assert flow.callback.status_code == 400
    assert "The EHR refused the sign-in" in flow.callback.get_data(as_text=True)
    assert sessions_rows(app) == []


def test_private_key_jwt_sends_a_short_lived_rs384_assertion_with_kid(instance_path, monkeypatch):
    key = load_credentials(instance_path).jwt_client_key.as_dict(private=True)
    app = app_with_client(
        instance_path, monkeypatch, {"client_id": "bedside-demo-jwt", "private_key": key}
    )
    server, transport = app.extensions["demo_auth"], app.extensions["test_transport"]
    flow = ehr_launch(app.test_client(), server)
    assert flow.callback.status_code == 302, flow.callback.get_data(as_text=True)
    [request] = transport.requests_to(TOKEN_PATH)
    form = token_form(request)
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "Authorization" not in request.headers
    public = KeySet.import_key_set(server.credentials.jwt_client_jwks())
    assertion = jwt.decode(form["client_assertion"], public, algorithms=["RS384"])
    assert assertion.header["alg"] == "RS384"
    assert assertion.header["kid"] == JWT_CLIENT_KID
    claims = assertion.claims
    assert claims["iss"] == claims["sub"] == "bedside-demo-jwt"
    assert claims["aud"] == TOKEN_URL
    assert claims["jti"]
    assert claims["exp"] - time.time() <= 300
    assert claims["exp"] - claims["iat"] <= 300
    assert len(sessions_rows(app)) == 1


def test_the_demo_server_refuses_rs256_long_lived_or_kid_less_assertions(
    instance_path, monkeypatch
):
    app = build_demo_app(instance_path, monkeypatch)
    registered = app.extensions["demo_auth"].credentials.jwt_client_key.as_dict(private=True)
    key = RSAKey.import_key({name: v for name, v in registered.items() if name != "alg"})
    now = int(time.time())
    claims = {"iss": "bedside-demo-jwt", "sub": "bedside-demo-jwt", "aud": TOKEN_URL}
    cases = [
        ({"alg": "RS256", "kid": JWT_CLIENT_KID}, {"exp": now + 60}),
        ({"alg": "RS384"}, {"exp": now + 60}),
        ({"alg": "RS384", "kid": JWT_CLIENT_KID}, {"exp": now + 3600}),
    ]
    client = app.test_client()
    for header, extra in cases:
        token = jwt.encode(header, {**claims, **extra, "jti": str(extra)}, key, [header["alg"]])
        response = client.post(
            TOKEN_PATH,
            data={
                "grant_type": "refresh_token",
                "refresh_token": "irrelevant",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": token,
            },
        )
        assert response.json["error"] == "invalid_client", header


def test_a_replayed_assertion_is_refused(instance_path, monkeypatch):
    app = build_demo_app(instance_path, monkeypatch)
    key = app.extensions["demo_auth"].credentials.jwt_client_key
    assertion = client_assertion(
        key, client_id="bedside-demo-jwt", token_endpoint=TOKEN_URL, alg="RS384", kid=JWT_CLIENT_KID
    )
    client = app.test_client()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "unknown",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    assert client.post(TOKEN_PATH, data=form).json["error"] == "invalid_grant"  # client ok
    assert client.post(TOKEN_PATH, data=form).json["error"] == "invalid_client"  # replayed


@pytest.mark.parametrize("alg", ["ES384"])
def test_ec_keys_sign_es384_assertions(alg):
    key = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
    token = client_assertion(
        key, client_id="c", token_endpoint="https://ehr.example/token", alg=alg, kid="ec-1"
    )
    decoded = jwt.decode(token, key, algorithms=[alg])
    assert decoded.header == {"alg": "ES384", "kid": "ec-1", "typ": "JWT"}
    assert decoded.claims["exp"] - decoded.claims["iat"] <= 300
