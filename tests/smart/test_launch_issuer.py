"""The launch's iss: sent as `aud` exactly as given, matched to a registration as RFC 3986 says.

SMART App Launch 2.2: "In the case of an EHR launch flow, this aud value is the same as the
launch's iss value." Scheme and host compare in any case; the path is case-sensitive.
"""

from __future__ import annotations

import json

import pytest

from app.db import close_stores
from app.deployment import Deployment
from app.errors import ConfigError
from app.smart.clients import ClientRegistry, SmartClient, load_smart_clients
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS, new_launch, query_of, sessions_rows

REGISTERED = "https://EHR.example/fhir"


@pytest.mark.parametrize("iss", [ISS + "/", "HTTP://LOCALHOST/fhir"])
def test_the_authorize_request_names_the_launchs_iss_as_aud_unchanged(browser, auth_server, iss):
    launch = browser.get(
        "/smart/launch", query_string={"iss": iss, "launch": new_launch(auth_server)}
    )
    assert launch.status_code == 302, launch.get_data(as_text=True)
    assert query_of(launch.headers["Location"])["aud"] == iss


def test_a_standalone_launch_names_its_iss_as_aud_unchanged(browser):
    launch = browser.get("/smart/standalone", query_string={"iss": ISS + "/"})
    assert launch.status_code == 302
    assert query_of(launch.headers["Location"])["aud"] == ISS + "/"


@pytest.mark.parametrize(
    "iss",
    [
        REGISTERED,
        "https://ehr.example/fhir",
        "HTTPS://EHR.EXAMPLE/fhir/",
        " https://Ehr.Example/fhir",
    ],
)
def test_scheme_and_host_match_a_registration_in_any_case(iss):
    client = SmartClient(REGISTERED, "bedside")
    assert ClientRegistry([client], Deployment()).for_issuer(iss) is client


@pytest.mark.parametrize(
    "iss", ["https://ehr.example/FHIR", "https://ehr.example/fhir2", "http://[::1"]
)
def test_another_path_matches_no_registration(iss):
    registry = ClientRegistry([SmartClient(REGISTERED, "bedside")], Deployment())
    assert registry.for_issuer(iss) is None


def test_issuers_differing_only_in_host_case_are_listed_twice(tmp_path):
    path = tmp_path / "smart_clients.json"
    entries = [{"iss": REGISTERED, "client_id": "a"}, {"iss": REGISTERED.lower(), "client_id": "b"}]
    path.write_text(json.dumps(entries))
    with pytest.raises(ConfigError, match="more than once"):
        load_smart_clients(path)


def test_a_launch_in_another_host_case_signs_in_under_the_registered_issuer(
    instance_path, monkeypatch
):
    clients = instance_path / "smart_clients.json"
    clients.write_text(json.dumps([{"iss": "http://LocalHost/fhir", "client_id": "bedside-demo"}]))
    app = build_demo_app(instance_path, monkeypatch, SMART_CLIENTS=str(clients))
    try:
        browser = app.test_client()
        launch_id = new_launch(app.extensions["demo_auth"])
        step = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
        assert query_of(step.headers["Location"])["aud"] == ISS
        for _ in range(2):
            step = browser.get(step.headers["Location"])
        assert step.status_code == 302, step.get_data(as_text=True)
        [row] = sessions_rows(app)
        assert row["issuer"] == "http://LocalHost/fhir"
    finally:
        close_stores(app)
