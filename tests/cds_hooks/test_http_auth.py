"""Client authentication over HTTP: every JWT failure is a bare 401; valid ES384/RS384 pass."""

from __future__ import annotations

import json
import time

import pytest

from app import create_app
from tests.cds_hooks.conftest import EHR_ISS, CdsCaller
from tests.cds_hooks.jwt_helpers import (
    OMIT,
    JwksServer,
    b64url,
    compact_token,
    make_ec_key,
    public_jwks,
    sign_client_token,
)

DISCOVERY = "/cds-services"
AUD = f"http://localhost{DISCOVERY}"


def get_with(client, token):
    """GET discovery with the given bearer token (or none)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(DISCOVERY, headers=headers)


def forged_tokens(ec_key):
    """Tokens that must all be refused, by name."""
    now = int(time.time())
    stranger = make_ec_key(ec_key.kid)
    claims = {"iss": EHR_ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": "j-none"}
    return {
        "alg none": compact_token({"alg": "none", "typ": "JWT", "kid": ec_key.kid}, claims),
        "HS256": compact_token({"alg": "HS256", "kid": ec_key.kid}, claims, b"x" * 32),
        "expired": sign_client_token(ec_key, iss=EHR_ISS, aud=AUD, kid=ec_key.kid, now=now - 900),
        "nbf in the future": sign_client_token(
            ec_key, iss=EHR_ISS, aud=AUD, kid=ec_key.kid, nbf=now + 600
        ),
        "wrong aud": sign_client_token(
            ec_key, iss=EHR_ISS, aud="http://localhost/cds-services/x", kid=ec_key.kid
        ),
        "unknown iss": sign_client_token(
            ec_key, iss="https://rogue.example", aud=AUD, kid=ec_key.kid
        ),
        "unknown kid": sign_client_token(ec_key, iss=EHR_ISS, aud=AUD, kid="no-such-kid"),
        "bad signature": sign_client_token(stranger, iss=EHR_ISS, aud=AUD, kid=ec_key.kid),
        "no jti": sign_client_token(ec_key, iss=EHR_ISS, aud=AUD, kid=ec_key.kid, jti=OMIT),
        "not a JWT": b64url(b"garbage"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "alg none",
        "HS256",
        "expired",
        "nbf in the future",
        "wrong aud",
        "unknown iss",
        "unknown kid",
        "bad signature",
        "no jti",
        "not a JWT",
    ],
)
def test_forged_or_invalid_tokens_get_a_bare_401(cds_app, ec_key, name):
    response = get_with(cds_app.test_client(), forged_tokens(ec_key)[name])
    assert response.status_code == 401
    assert response.json == {"error": {"code": "unauthorized", "message": "Authentication failed."}}


def test_no_authorization_header_is_401(cds_app):
    assert get_with(cds_app.test_client(), None).status_code == 401


def test_replayed_jti_is_401(cds_app, ec_key):
    token = sign_client_token(ec_key, iss=EHR_ISS, aud=AUD, kid=ec_key.kid)
    client = cds_app.test_client()
    assert get_with(client, token).status_code == 200
    assert get_with(client, token).status_code == 401


def test_replay_is_caught_across_app_instances_sharing_the_database(
    cds_config, instance_path, ec_key
):
    token = sign_client_token(ec_key, iss=EHR_ISS, aud=AUD, kid=ec_key.kid)
    worker_a = create_app(cds_config, instance_path=instance_path).test_client()
    worker_b = create_app(cds_config, instance_path=instance_path).test_client()
    assert get_with(worker_a, token).status_code == 200
    assert get_with(worker_b, token).status_code == 401


@pytest.mark.parametrize("alg,key_fixture", [("ES384", "ec_key"), ("RS384", "rsa_key")])
def test_valid_es384_and_rs384_tokens_pass(cds_app, request, alg, key_fixture):
    key = request.getfixturevalue(key_fixture)
    caller = CdsCaller(cds_app.test_client(), key, alg=alg)
    assert caller.get(DISCOVERY).status_code == 200


def test_aud_is_the_exact_service_url(cds, fixture_store):
    path = "/cds-services/bedside-patient-view"
    token = cds.token(DISCOVERY)  # valid, but for discovery, not this service
    response = cds.client.post(path, json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_public_base_url_sets_the_expected_aud(cds_config, instance_path, ec_key):
    config = {**cds_config, "PUBLIC_BASE_URL": "https://cds.hospital.example/bedside"}
    client = create_app(config, instance_path=instance_path).test_client()
    behind_proxy = sign_client_token(
        ec_key, iss=EHR_ISS, aud="https://cds.hospital.example/bedside/cds-services", kid=ec_key.kid
    )
    as_reached = sign_client_token(ec_key, iss=EHR_ISS, aud=AUD, kid=ec_key.kid)
    assert get_with(client, behind_proxy).status_code == 200
    assert get_with(client, as_reached).status_code == 401


def test_without_a_public_base_url_aud_is_the_url_as_reached(cds_app, ec_key):
    mounted = {"SCRIPT_NAME": "/bedside", "HTTP_HOST": "cds.hospital.example:8443"}
    as_reached = "https://cds.hospital.example:8443/bedside/cds-services"
    for aud, status in ((as_reached, 200), (AUD, 401)):
        token = sign_client_token(ec_key, iss=EHR_ISS, aud=aud, kid=ec_key.kid)
        headers = {"Authorization": f"Bearer {token}"}
        response = cds_app.test_client().get(
            DISCOVERY,
            headers=headers,
            base_url="https://cds.hospital.example:8443",
            environ_overrides=mounted,
        )
        assert response.status_code == status, aud


def test_auth_off_must_be_explicit_and_is_logged(cds_config, instance_path, caplog):
    client = create_app(
        {**cds_config, "CDS_AUTH": "off"}, instance_path=instance_path
    ).test_client()
    assert get_with(client, None).status_code == 200
    assert "BEDSIDE_CDS_AUTH=off" in caplog.text


def test_tokens_are_not_logged(cds_app, ec_key, caplog):
    caplog.set_level("DEBUG")
    token = forged_tokens(ec_key)["bad signature"]
    get_with(cds_app.test_client(), token)
    assert token not in caplog.text
    assert token.split(".")[1] not in caplog.text


# --- inline keys and a jku together (the CDS Hooks sandbox and Epic always send a jku) ------


@pytest.fixture
def jwks_server():
    """The EHR's JWKS URL: a real server on loopback that counts the requests it gets."""
    server = JwksServer({"keys": []})
    yield server
    server.close()


def app_trusting(cds_config, instance_path, entry: dict):
    """A test client of an app whose trusted-clients file holds this one entry."""
    clients_file = instance_path / "trusting-one.json"
    clients_file.write_text(json.dumps([entry]))
    app = create_app({**cds_config, "CDS_CLIENTS": str(clients_file)}, instance_path=instance_path)
    return app.test_client()


def token_naming(key, jku: str) -> str:
    """A discovery token signed by key whose JOSE header names this jku."""
    return sign_client_token(key, iss=EHR_ISS, aud=AUD, kid=key.kid, jku=jku)


def test_known_kid_uses_the_inline_key_without_fetching_the_jku(
    cds_config, instance_path, ec_key, jwks_server
):
    entry = {"iss": EHR_ISS, "jku": jwks_server.url, "jwks": public_jwks(ec_key)}
    client = app_trusting(cds_config, instance_path, entry)
    assert get_with(client, token_naming(ec_key, jwks_server.url)).status_code == 200
    assert get_with(client, token_naming(ec_key, jwks_server.url)).status_code == 200
    assert jwks_server.requests == 0


@pytest.mark.parametrize("served_matches,status", [(True, 200), (False, 401)])
def test_unknown_kid_fetches_the_allow_listed_jku_once(
    cds_config, instance_path, ec_key, jwks_server, served_matches, status
):
    rotated = make_ec_key("ehr-rotated")
    served = rotated if served_matches else make_ec_key(rotated.kid)
    jwks_server.jwks = public_jwks(served)
    entry = {"iss": EHR_ISS, "jku": jwks_server.url, "jwks": public_jwks(ec_key)}
    client = app_trusting(cds_config, instance_path, entry)
    assert get_with(client, token_naming(rotated, jwks_server.url)).status_code == status
    assert jwks_server.requests == 1


def test_inline_keys_still_work_when_the_jku_is_down(
    cds_config, instance_path, ec_key, jwks_server
):
    jwks_server.close()
    entry = {"iss": EHR_ISS, "jku": jwks_server.url, "jwks": public_jwks(ec_key)}
    client = app_trusting(cds_config, instance_path, entry)
    assert get_with(client, token_naming(ec_key, jwks_server.url)).status_code == 200
    unknown_kid = make_ec_key("ehr-rotated")  # needs the jku, which cannot be reached
    assert get_with(client, token_naming(unknown_kid, jwks_server.url)).status_code == 401


@pytest.mark.parametrize("header_jku", ["https://rogue.example/jwks", "{url}?rotated=1"])
def test_header_jku_other_than_the_allow_listed_one_is_401_without_fetching(
    cds_config, instance_path, ec_key, jwks_server, header_jku
):
    jwks_server.jwks = public_jwks(ec_key)
    entry = {"iss": EHR_ISS, "jku": jwks_server.url, "jwks": public_jwks(ec_key)}
    client = app_trusting(cds_config, instance_path, entry)
    token = token_naming(ec_key, header_jku.format(url=jwks_server.url))
    assert get_with(client, token).status_code == 401
    assert jwks_server.requests == 0


def test_inline_only_client_may_name_a_jku_that_is_never_fetched(
    cds_config, instance_path, ec_key, jwks_server
):
    stranger = make_ec_key("ehr-stranger")
    jwks_server.jwks = public_jwks(stranger)
    client = app_trusting(cds_config, instance_path, {"iss": EHR_ISS, "jwks": public_jwks(ec_key)})
    assert get_with(client, token_naming(ec_key, jwks_server.url)).status_code == 200
    assert get_with(client, token_naming(stranger, jwks_server.url)).status_code == 401
    assert jwks_server.requests == 0
