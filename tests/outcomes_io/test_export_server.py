"""The fixture server's `$export`: kick-off rules, `_since` on meta.lastUpdated, DELETE cancels."""

from __future__ import annotations

import json

from flask import Flask

from app.devtools.fhir_bulk_export import ExportJobs
from app.devtools.fhir_server import create_fhir_blueprint
from app.devtools.fhir_store import FixtureStore

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def client_for(resources: list[dict], pending_polls: int = 0):
    """A test client of a FHIR app with `$export` over the given resources."""
    store = FixtureStore(resources)
    app = Flask(__name__)
    jobs = ExportJobs(store, pending_polls=pending_polls)
    app.register_blueprint(create_fhir_blueprint(store, exports=jobs), url_prefix="/fhir")
    return app.test_client()


def patient(patient_id: str, updated: str | None = None) -> dict:
    """A Patient, with meta.lastUpdated when given."""
    resource = {"resourceType": "Patient", "id": patient_id}
    return resource | ({"meta": {"lastUpdated": updated}} if updated else {})


def kick_off(client, query: str = "") -> str:
    """Kick off a system export; return the status path."""
    response = client.get(f"/fhir/$export{query}", headers=ASYNC)
    assert response.status_code == 202, response.json
    return response.headers["Content-Location"].removeprefix("http://localhost")


def test_since_exports_only_resources_updated_after_it():
    """_since compares meta.lastUpdated; a resource without it is always exported."""
    client = client_for(
        [
            patient("old", "2026-01-01T00:00:00Z"),
            patient("new", "2026-06-01T00:00:00Z"),
            patient("undated"),
        ]
    )
    status = kick_off(client, "?_type=Patient&_since=2026-03-01T00:00:00Z")
    manifest = client.get(status).json
    url = manifest["output"][0]["url"].removeprefix("http://localhost")
    ids = [json.loads(line)["id"] for line in client.get(url).text.splitlines()]
    assert ids == ["new", "undated"] and manifest["output"][0]["count"] == 2
    assert manifest["request"].endswith("_since=2026-03-01T00:00:00Z")


def test_delete_cancels_the_export():
    """DELETE on the status URL answers 202; the export and its files are gone afterwards."""
    client = client_for([patient("p1")], pending_polls=2)
    status = kick_off(client)
    assert client.get(status).status_code == 202
    assert client.delete(status).status_code == 202
    gone = client.get(status)
    assert gone.status_code == 404 and gone.json["resourceType"] == "OperationOutcome"


def test_kick_off_refusals_are_operation_outcomes():
    """No Prefer: respond-async, a bad _type, a bad _since, an unknown Group: 4xx outcomes."""
    client = client_for([patient("p1")])
    answers = [
        client.get("/fhir/$export", headers={"Accept": "application/fhir+json"}),
        client.get("/fhir/$export?_type=patient;drop", headers=ASYNC),
        client.get("/fhir/$export?_since=yesterday", headers=ASYNC),
        client.get("/fhir/$export?_outputFormat=text/csv", headers=ASYNC),
        client.get("/fhir/Group/none/$export", headers=ASYNC),
    ]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 400, 404]
    assert all(answer.json["resourceType"] == "OperationOutcome" for answer in answers)
