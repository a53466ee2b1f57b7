"""BEDSIDE_SMART_CLIENTS: several EHRs, each with its own client; one clear sentence per problem."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import ECKey, RSAKey

from app.deployment import Deployment
from app.errors import ConfigError
from app.smart.clients import DEFAULT_SCOPE, ClientRegistry, load_smart_clients
from tests.smart.conftest import build_demo_app

RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}).as_dict(private=True)
EC = ECKey.generate_key("P-384", parameters={"kid": "ec-1"}).as_dict(private=True)


def write(tmp_path, entries) -> object:
    """Write a clients file and return its path."""
    path = tmp_path / "smart_clients.json"
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    return path


def test_several_issuers_each_with_their_own_client(tmp_path):
    path = write(
        tmp_path,
        [
            {"iss": "https://ehr-a.example/fhir/", "client_id": "a-public"},
            {"iss": "https://ehr-b.example/r4", "client_id": "b", "client_secret": "s"},
            {"iss": "https://ehr-c.example/fhir", "client_id": "c", "private_key": RSA},
            {
                "iss": "https://ehr-d.example/fhir",
                "client_id": "d",
                "private_key": EC,
                "scope": "launch openid fhirUser patient/Condition.rs",
            },
        ],
    )
    clients = load_smart_clients(path)
    registry = ClientRegistry(clients, Deployment())
    assert registry.for_issuer("https://ehr-a.example/fhir").client_id == "a-public"
    assert registry.for_issuer("https://ehr-a.example/fhir").auth_method == "none"
    assert registry.for_issuer("https://ehr-a.example/fhir").scope == DEFAULT_SCOPE
    assert registry.for_issuer("https://ehr-b.example/r4/").auth_method == "client_secret_basic"
    assert registry.for_issuer("https://ehr-c.example/fhir").assertion_algorithm == "RS384"
    assert registry.for_issuer("https://ehr-d.example/fhir").assertion_algorithm == "ES384"
    assert registry.for_issuer("https://unknown.example/fhir") is None
    assert "client_secret" not in repr(clients[1])  # secrets stay out of reprs
    assert "private_key" not in repr(clients[2])


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ({"iss": "x"}, "must hold a JSON list"),
        (["x"], "entry 1 must be an object"),
        ([{"client_id": "a"}], 'needs an "iss"'),
        ([{"iss": "http://ehr.example/fhir", "client_id": "a"}], "https URL"),
        ([{"iss": "https://e.example/fhir"}], 'needs a "client_id"'),
        ([{"iss": "https://e.example/fhir", "client_id": "a", "scope": ""}], '"scope"'),
        ([{"iss": "https://e.example/fhir", "client_id": "a", "secret": "s"}], "unknown fields"),
        (
            [
                {
                    "iss": "https://e.example/fhir",
                    "client_id": "a",
                    "client_secret": "s",
                    "private_key": RSA,
                }
            ],
            "pick one",
        ),
        (
            [
                {
                    "iss": "https://e.example/fhir",
                    "client_id": "a",
                    "private_key": {k: v for k, v in RSA.items() if k != "kid"},
                }
            ],
            'without a "kid"',
        ),
        (
            [
                {
                    "iss": "https://e.example/fhir",
                    "client_id": "a",
                    "private_key": {k: v for k, v in RSA.items() if k != "d"},
                }
            ],
            "private part",
        ),
        (
            [
                {
                    "iss": "https://e.example/fhir",
                    "client_id": "a",
                    "private_key": {**RSA, "alg": "RS256"},
                }
            ],
            "is not RS384",
        ),
        (
            [
                {
                    "iss": "https://e.example/fhir",
                    "client_id": "a",
                    "private_key": {"kty": "oct", "k": "abc", "kid": "x"},
                }
            ],
            "not an RSA or EC JWK",
        ),
        (
            [
                {
                    "iss": "https://e.example/fhir",
                    "client_id": "a",
                    "private_key": {"kty": ["RSA"], "kid": "x"},
                }
            ],
            "not an RSA or EC JWK",
        ),
        (
            [
                {"iss": "https://e.example/fhir", "client_id": "a"},
                {"iss": "https://e.example/fhir/", "client_id": "b"},
            ],
            "more than once",
        ),
    ],
)
def test_each_problem_is_one_clear_sentence(tmp_path, entries, problem):
    path = write(tmp_path, entries)
    with pytest.raises(ConfigError) as caught:
        load_smart_clients(path)
    message = str(caught.value)
    assert message.startswith(f"BEDSIDE_SMART_CLIENTS file {path}")
    assert problem in message
    assert message.endswith(".") and message.count(". ") == 0


def test_an_ec_key_must_be_on_p384(tmp_path):
    p256 = ECKey.generate_key("P-256", parameters={"kid": "ec"}).as_dict(private=True)
    path = write(
        tmp_path, [{"iss": "https://e.example/fhir", "client_id": "a", "private_key": p256}]
    )
    with pytest.raises(ConfigError, match="P-384"):
        load_smart_clients(path)


def test_a_bad_file_stops_the_app_at_start_up(instance_path, monkeypatch, tmp_path):
    path = write(tmp_path, [{"iss": "ftp://nope", "client_id": "a"}])
    with pytest.raises(ConfigError, match="BEDSIDE_SMART_CLIENTS"):
        build_demo_app(instance_path, monkeypatch, SMART_CLIENTS=str(path))


def test_without_demo_mode_the_demo_issuer_is_not_trusted(instance_path):
    from app import create_app
    from app.smart import init_smart

    app = create_app(
        {"TESTING": True, "DATABASE": str(instance_path / "b.db")}, instance_path=instance_path
    )
    init_smart(app)
    response = app.test_client().get(
        "/smart/launch", query_string={"iss": "http://localhost/fhir", "launch": "x"}
    )
    assert response.status_code == 400
    assert "Unknown EHR" in response.get_data(as_text=True)
