"""Bedside asks the EHR for the resource types it reads, and for offline_access only when told."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from app.db import close_stores
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS, ehr_launch, sessions_rows
from tests.ui.helpers import start_case

RESOURCE_SCOPE = re.compile(r"^(patient|user|system)/([A-Za-z*]+)\.([a-z*]+)$")
# Pages that read the record: the patient banner, the learner profile, a question's facts panel.
READING_PAGES = ("/app/", "/app/profile")


def resource_types(scope: str) -> set[str]:
    """The FHIR resource types a scope string grants."""
    return {match[2] for item in scope.split() if (match := RESOURCE_SCOPE.match(item))}


def test_the_scope_names_exactly_the_resource_types_the_app_reads(browser, auth_server, transport):
    flow = ehr_launch(browser, auth_server)
    for page in READING_PAGES:
        assert browser.get(page).status_code == 200, page
    assert browser.get(start_case(browser)).status_code == 200
    fhir_paths = [urlsplit(r.url).path for r in transport.sent if "Authorization" in r.headers]
    read = {path.removeprefix("/fhir/").split("/")[0] for path in fhir_paths}
    asked = flow.authorize_query["scope"]
    assert "*" not in asked
    assert resource_types(asked) == read
    assert read >= {"Patient", "Observation", "Condition", "AllergyIntolerance", "PractitionerRole"}


def test_the_demo_ehr_grants_the_granular_scopes(browser, auth_server, demo_app):
    flow = ehr_launch(browser, auth_server)
    [session] = sessions_rows(demo_app)
    assert session["scope"].split() == flow.authorize_query["scope"].split()


@pytest.mark.parametrize("offline", [None, False, True])
def test_offline_access_only_when_configured_else_online_access(
    instance_path, monkeypatch, offline
):
    config = {} if offline is None else {"SMART_OFFLINE_ACCESS": offline}
    app = build_demo_app(instance_path, monkeypatch, **config)
    try:
        flow = ehr_launch(app.test_client(), app.extensions["demo_auth"])
        asked = flow.authorize_query["scope"].split()
        assert ("offline_access" in asked) is bool(offline)
        assert ("online_access" in asked) is not bool(offline)
        [session] = sessions_rows(app)
        assert session["refresh_token"]
    finally:
        close_stores(app)


@pytest.mark.parametrize("offline", [False, True])
def test_a_clients_own_scope_is_requested_as_written(instance_path, monkeypatch, offline):
    clients = instance_path / "smart_clients.json"
    instance_path.mkdir(parents=True, exist_ok=True)
    scope = "launch openid fhirUser patient/Patient.r online_access"
    clients.write_text(json.dumps([{"iss": ISS, "client_id": "bedside-demo", "scope": scope}]))
    app = build_demo_app(
        instance_path, monkeypatch, SMART_CLIENTS=str(clients), SMART_OFFLINE_ACCESS=offline
    )
    try:
        flow = ehr_launch(app.test_client(), app.extensions["demo_auth"])
        asked = flow.authorize_query["scope"].split()
        assert asked[: len(scope.split())] == scope.split()
        assert ("offline_access" in asked) is offline
    finally:
        close_stores(app)
