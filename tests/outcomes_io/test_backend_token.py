"""SMART Backend Services: the client's assertion, token reuse, the token endpoint's refusals."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import RSAKey

from app.devtools.fhir_server import FixtureFhirServer
from app.devtools.synthetic import codes
from app.errors import ConfigError
from app.outcomes.backend_token import MEASURE_SCOPE
from app.outcomes.outcomes_commands import compute
from app.smart.backend_services import (
    ASSERTION_TYPE,
    BackendClient,
    BackendServicesError,
    BackendToken,
    load_backend_clients,
    signed_assertion,
)
from tests.outcomes.charts import at
from tests.outcomes_io.helpers import TOKEN, distinct_chart, write_bundles
from tests.outcomes_io.test_bulk_export import CLIENT_ID, backend_key, register

TOKEN_URL = "https://ehr.example/auth/token"


def rsa_key(alg: str | None = "RS384") -> RSAKey:
    """A fresh RSA key (for RS384 unless alg is None)."""
    parameters = {"kid": "bedside-rs384"} | ({"alg": alg} if alg else {})
    return RSAKey.generate_key(2048, parameters=parameters)


@pytest.mark.parametrize(("make_key", "alg"), [(backend_key, "ES384"), (rsa_key, "RS384")])
def test_assertion_claims_follow_backend_services(make_key, alg):
    """iss = sub = client_id, aud = token URL, exp within 5 min, a fresh jti, kid and alg."""
    key = make_key()
    client = BackendClient("https://ehr.example/fhir", CLIENT_ID, key.as_dict(private=True))
    first, second = (signed_assertion(client, TOKEN_URL) for _ in range(2))
    decoded = [jwt.decode(token, key, algorithms=[alg]) for token in (first, second)]
    header, claims = decoded[0].header, decoded[0].claims
    assert header == {"alg": alg, "kid": key.kid, "typ": "JWT"}
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == TOKEN_URL
    assert time.time() < claims["exp"] <= time.time() + 300
    assert decoded[0].claims["jti"] != decoded[1].claims["jti"]


def test_the_token_is_reused_until_shortly_before_it_expires(tmp_path):
    """One token request for many calls; a new one once the token is within a minute of expiry."""
    key = backend_key()
    now = [1000.0]
    public = {"keys": [key.as_dict(private=False)]}
    with FixtureFhirServer(write_bundles(tmp_path), backend_clients={CLIENT_ID: public}) as server:
        client = BackendClient(server.base_url, CLIENT_ID, key.as_dict(private=True))
        token = BackendToken(client, MEASURE_SCOPE, clock=lambda: now[0])
        first = [token() for _ in range(3)]
        now[0] += 300 - 60 - 1
        still = token()
        now[0] += 2
        renewed = token()
        issued = list(server.authority.issued_scopes)
        accepted = requests.get(
            f"{server.base_url}/Patient?_count=1",
            headers={"Authorization": f"Bearer {renewed}"},
            timeout=5,
        )
    assert len(set(first)) == 1 and still == first[0]
    assert renewed != first[0] and issued == [MEASURE_SCOPE, MEASURE_SCOPE]
    assert accepted.status_code == 200


def assertion(key, *, alg: str, aud: str, exp_in: float = 120, jti: str = "j1", sub=CLIENT_ID):
    """A hand-made client assertion with chosen claims."""
    now = int(time.time())
    claims = {"iss": CLIENT_ID, "sub": sub, "aud": aud, "exp": now + exp_in, "jti": jti}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def ask(server: FixtureFhirServer, signed: str, scope: str = "system/Patient.rs") -> dict:
    """POST a client_credentials request; return status and body."""
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
    }
    response = requests.post(server.token_url(), data=form, timeout=5)
    return {"status": response.status_code, **response.json()}


def test_the_token_endpoint_refuses_what_the_spec_forbids(tmp_path):
    """Reused jti, wrong aud, expired, too long-lived, wrong alg, sub != iss, user scopes."""
    key = rsa_key(alg=None)  # the registered key itself can sign RS256: only the alg is wrong
    public = {"keys": [key.as_dict(private=False)]}
    with FixtureFhirServer(write_bundles(tmp_path), backend_clients={CLIENT_ID: public}) as server:
        url = server.token_url()
        good = assertion(key, alg="RS384", aud=url, jti="once")
        answers = {
            "first use": ask(server, good),
            "reused jti": ask(server, good),
            "wrong aud": ask(server, assertion(key, alg="RS384", aud=url + "x", jti="a")),
            "expired": ask(server, assertion(key, alg="RS384", aud=url, exp_in=-120, jti="b")),
            "10 min": ask(server, assertion(key, alg="RS384", aud=url, exp_in=600, jti="c")),
            "RS256": ask(server, assertion(key, alg="RS256", aud=url, jti="d")),
            "sub": ask(server, assertion(key, alg="RS384", aud=url, jti="e", sub="other")),
            "user scope": ask(server, assertion(key, alg="RS384", aud=url, jti="f"), "user/*.rs"),
        }
    assert answers.pop("first use")["status"] == 200
    assert answers.pop("user scope")["error"] == "invalid_scope"
    for case, answer in answers.items():
        assert (answer["status"], answer["error"]) == (401, "invalid_client"), case


def test_a_refused_key_is_one_sentence_without_a_token(tmp_path, caplog):
    """A key the server does not know: compute exits 1 with one sentence, nothing leaks."""
    caplog.set_level(logging.DEBUG)
    registered, other = backend_key(), backend_key()
    public = {"keys": [registered.as_dict(private=False)]}
    with FixtureFhirServer(write_bundles(tmp_path), backend_clients={CLIENT_ID: public}) as server:
        env = register(tmp_path / "backend.json", server.base_url, other)
        result = CliRunner().invoke(compute, ["--fhir-server", server.base_url], env=env)
        token_url = server.token_url()
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: The token endpoint {token_url} refused Bedside's backend-services "
        "request (401, invalid_client): The assertion's signature or algorithm is not accepted."
    ]
    assert other.as_dict(private=True)["d"] not in result.output + caplog.text


def one_patient(directory: Path) -> Path:
    """Fixtures of one URI visit, so a compute over FHIR search stays quick."""
    chart = distinct_chart("p1")
    visit = chart.visit(at("2026-03-02T10:00"))
    chart.condition(codes.URI[0], visit, onset="2026-03-02")
    bundle = {"resourceType": "Bundle", "type": "collection"}
    bundle["entry"] = [{"resource": resource} for resource in chart.resources]
    directory.mkdir()
    (directory / "one.json").write_text(json.dumps(bundle), encoding="utf-8")
    return directory


def test_compute_gets_its_own_system_token(tmp_path):
    """With a registration and no pasted token, compute reads the server with a system token."""
    key = backend_key()
    public = {"keys": [key.as_dict(private=False)]}
    args = ["--as-of", "2026-11-01", "--format", "json"]
    fixtures = one_patient(tmp_path / "fhir")
    with FixtureFhirServer(fixtures, backend_clients={CLIENT_ID: public}) as server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        result = CliRunner().invoke(compute, ["--fhir-server", server.base_url, *args], env=env)
        issued = list(server.authority.issued_scopes)
        tokens = list(server.authority._tokens)
    assert result.exit_code == 0, result.output
    overall = json.loads(result.output)["uri-appropriate-treatment"]["overall"]
    assert (overall["denominator"], overall["numerator"]) == (1, 1)
    assert issued == [MEASURE_SCOPE]  # one token for the whole run
    assert not any(token in result.output for token in tokens)


def test_a_pasted_token_still_wins_over_the_registration(tmp_path):
    """--token (or $BEDSIDE_HOOK_TOKEN) is used as given even when the server is registered."""
    key = backend_key()
    public = {"keys": [key.as_dict(private=False)]}
    fixtures = one_patient(tmp_path / "fhir")
    with FixtureFhirServer(fixtures, token=TOKEN, backend_clients={CLIENT_ID: public}) as server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        for pasted in (["--token", TOKEN], []):
            extra_env = {} if pasted else {"BEDSIDE_HOOK_TOKEN": TOKEN}
            result = CliRunner().invoke(
                compute, ["--fhir-server", server.base_url, *pasted], env=env | extra_env
            )
            assert result.exit_code == 0, result.output
        issued = list(server.authority.issued_scopes)
    assert issued == []


def test_registration_file_problems_are_config_errors(tmp_path):
    """A registration without a private key, or with a public one, names the setting and file."""
    path = tmp_path / "backend.json"
    public = backend_key().as_dict(private=False)
    problems = {
        "no key": [{"iss": "https://ehr.example/fhir", "client_id": "c"}],
        "public key": [
            {"iss": "https://ehr.example/fhir", "client_id": "c", "private_key": public}
        ],
        "plain http": [{"iss": "http://ehr.example/fhir", "client_id": "c"}],
    }
    for case, entries in problems.items():
        path.write_text(json.dumps(entries), encoding="utf-8")
        with pytest.raises(ConfigError, match=f"^BEDSIDE_BACKEND_CLIENTS file {path} entry 1"):
            load_backend_clients(path)
        assert case


def test_unreachable_discovery_is_one_sentence():
    """No smart-configuration at the server: a sentence naming the server."""
    client = BackendClient("http://127.0.0.1:9/fhir", CLIENT_ID, backend_key().as_dict(True))
    with pytest.raises(BackendServicesError, match=r"^The FHIR server .* is unreachable"):
        BackendToken(client, MEASURE_SCOPE)()
