"""The trusted CDS clients file: every mistake is one sentence naming the file and entry."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import ECKey

from app.errors import ConfigError
from cds_hooks.clients import load_trusted_clients


@pytest.fixture
def public_jwks():
    """A JWKS holding one ES384 public key."""
    key = ECKey.generate_key("P-384", parameters={"kid": "ehr-1"})
    return {"keys": [key.as_dict(private=False)]}


def write(tmp_path, content):
    """Write the clients file and return its path."""
    path = tmp_path / "clients.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_inline_jwks_and_jku_clients_load(tmp_path, public_jwks):
    path = write(
        tmp_path,
        [
            {"iss": "https://ehr-a.example", "jwks": public_jwks},
            {"iss": "https://sandbox.cds-hooks.org", "jku": "https://sandbox.cds-hooks.org/jwks"},
        ],
    )
    clients = load_trusted_clients(path)
    assert [c.iss for c in clients] == ["https://ehr-a.example", "https://sandbox.cds-hooks.org"]
    assert clients[1].jku == "https://sandbox.cds-hooks.org/jwks"


@pytest.mark.parametrize(
    "content,problem",
    [
        ('[{"iss": ', "is not valid JSON"),
        ({"iss": "https://ehr.example"}, "must hold a JSON list of client objects"),
        (["https://ehr.example"], "entry 1 must be an object"),
        ([{"jku": "https://ehr.example/jwks"}], 'entry 1 needs an "iss"'),
        ([{"iss": "https://ehr.example"}], 'needs "jku" or "jwks"'),
        ([{"iss": "https://e.example", "jku": "http://e.example/jwks"}], "not an https URL"),
        ([{"iss": "https://e.example", "jwks": {"kty": "EC"}}], 'without a "keys" list'),
        (
            [{"iss": "https://e.example", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}],
            "not an RSA or EC public key",
        ),
        (
            [{"iss": "https://e.example", "jwks": {"keys": [{"kty": ["EC"], "kid": "k"}]}}],
            "not an RSA or EC public key",
        ),
    ],
)
def test_malformed_files_are_rejected_with_a_clear_sentence(tmp_path, content, problem):
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        load_trusted_clients(path)
    message = str(caught.value)
    assert message.startswith(f"BEDSIDE_CDS_CLIENTS file {path} ")
    assert problem in message


def test_private_keys_are_refused(tmp_path):
    private = ECKey.generate_key("P-384", parameters={"kid": "k"}).as_dict(private=True)
    path = write(tmp_path, [{"iss": "https://e.example", "jwks": {"keys": [private]}}])
    with pytest.raises(ConfigError, match="private key material"):
        load_trusted_clients(path)


def test_keys_need_a_kid(tmp_path):
    key = ECKey.generate_key("P-384").as_dict(private=False)
    key.pop("kid", None)
    path = write(tmp_path, [{"iss": "https://e.example", "jwks": {"keys": [key]}}])
    with pytest.raises(ConfigError, match='key without a "kid"'):
        load_trusted_clients(path)


def test_plain_http_jku_is_allowed_on_loopback_only(tmp_path):
    path = write(tmp_path, [{"iss": "http://127.0.0.1:9", "jku": "http://127.0.0.1:9/jwks"}])
    assert load_trusted_clients(path)[0].jku == "http://127.0.0.1:9/jwks"


def test_an_entry_names_the_smart_issuers_of_its_ehr_and_a_bad_list_is_refused(tmp_path):
    entry = {"iss": "https://ehr-a.example", "jku": "https://ehr-a.example/jwks"}
    named = write(tmp_path, [entry | {"smart_issuers": ["https://ehr-a.example/fhir/"]}])
    assert load_trusted_clients(named)[0].smart_issuers == ("https://ehr-a.example/fhir/",)
    for bad in ("https://ehr-a.example/fhir", [""], [3]):
        with pytest.raises(ConfigError, match='"smart_issuers" that is not a list of URLs'):
            load_trusted_clients(write(tmp_path, [entry | {"smart_issuers": bad}]))
