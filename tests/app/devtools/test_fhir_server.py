"""The fixture FHIR server over HTTP: Flask test client and a real loopback server."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from app.devtools.fhir_server import (
    FixtureFhirServer,
    create_fhir_app,
    create_fhir_blueprint,
)
from app.devtools.fhir_store import FixtureStore

FHIR_JSON = "application/fhir+json"
TOKEN = "s3cret-token"
LOINC = "http://loinc.org"
STAMP = "2024-03-10T12:00:00Z"


def write_bundle(directory, name, resources, timestamp=STAMP):
    """Write a collection Bundle of `resources` to directory/name."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = [{"resource": r} for r in resources]
    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": timestamp}
    (directory / name).write_text(json.dumps({**bundle, "entry": entries}), encoding="utf-8")


def lab(id_, code, minutes_before_stamp, patient="p1"):
    """A final laboratory Observation taken `minutes_before_stamp` before STAMP."""
    when = datetime.fromisoformat(STAMP) - timedelta(minutes=minutes_before_stamp)
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when.isoformat().replace("+00:00", "Z"),
    }


@pytest.fixture
def fixtures_dir(tmp_path):
    """Two patients; p1 has 23 labs an hour apart (lab-00 newest), p2 has one."""
    labs = [lab(f"lab-{i:02d}", "2524-7" if i % 2 else "6690-2", 40 + 60 * i) for i in range(23)]
    patients = [
        {"resourceType": "Patient", "id": "p1", "birthDate": "1960-05-01"},
        {"resourceType": "Patient", "id": "p2", "birthDate": "1990-01-01"},
    ]
    write_bundle(tmp_path / "patients", "story.json", [*patients, *labs, lab("x", "1", 5, "p2")])
    return tmp_path / "patients"


@pytest.fixture
def fhir(fixtures_dir):
    """A test client for an open (no token) standalone fixture server."""
    return create_fhir_app(fixtures_dir).test_client()


@pytest.fixture
def secured(fixtures_dir):
    """A test client for a fixture server that requires TOKEN."""
    return create_fhir_app(fixtures_dir, token_check=lambda t: t == TOKEN).test_client()


def outcome(response, status, code):
    """Assert that response is an OperationOutcome error and return its diagnostics."""
    assert response.status_code == status
    assert response.mimetype == FHIR_JSON
    body = response.get_json(force=True)
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert (issue["severity"], issue["code"]) == ("error", code)
    return issue["diagnostics"]


def entry_ids(bundle):
    """The resource ids in a searchset Bundle page, in order."""
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def link(bundle, relation):
    """The URL of a Bundle link, or None."""
    return next((x["url"] for x in bundle["link"] if x["relation"] == relation), None)


def test_metadata_is_a_capability_statement_for_fhir_r4(fhir):
    response = fhir.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.mimetype == FHIR_JSON
    cap = response.get_json(force=True)
    assert cap["resourceType"] == "CapabilityStatement"
    assert (cap["status"], cap["kind"], cap["fhirVersion"]) == ("active", "instance", "4.0.1")
    assert "json" in cap["format"]
    rest = cap["rest"][0]
    assert rest["mode"] == "server"
    assert "security" not in rest
    by_type = {r["type"]: r for r in rest["resource"]}
    assert {"Patient", "Observation"} <= set(by_type)
    observation = by_type["Observation"]
    assert [i["code"] for i in observation["interaction"]] == ["read", "search-type"]
    params = {(p["name"], p["type"]) for p in observation["searchParam"]}
    assert {("patient", "reference"), ("code", "token"), ("date", "date")} <= params
    assert {p["name"] for p in by_type["Patient"]["searchParam"]} == {"_id"}


def test_read_returns_the_resource_or_a_404_outcome(fhir):
    response = fhir.get("/fhir/Patient/p1")
    assert response.status_code == 200
    assert response.mimetype == FHIR_JSON
    assert response.get_json(force=True)["birthDate"] == "1960-05-01"
    assert "Patient/nobody" in outcome(fhir.get("/fhir/Patient/nobody"), 404, "not-found")


def test_unknown_types_and_paths_are_404_outcomes(fhir):
    assert "Spaceship" in outcome(fhir.get("/fhir/Spaceship?_id=1"), 404, "not-found")
    outcome(fhir.get("/fhir/Spaceship/1"), 404, "not-found")
    outcome(fhir.get("/fhir/Patient/p1/_history/1"), 404, "not-found")
    outcome(fhir.get("/fhir/"), 404, "not-found")
    outcome(fhir.get("/fhir"), 404, "not-found")


def test_writes_are_refused_with_an_outcome(fhir):
    outcome(fhir.put("/fhir/Patient/p1", json={"resourceType": "Patient"}), 405, "not-supported")
    outcome(fhir.post("/fhir/Patient", json={"resourceType": "Patient"}), 405, "not-supported")


def test_search_returns_a_searchset_with_absolute_urls(fhir):
    bundle = fhir.get("/fhir/Observation?patient=p2").get_json(force=True)
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 1)
    assert link(bundle, "self").startswith("http://localhost/fhir/Observation?")
    assert "patient=p2" in link(bundle, "self")
    assert bundle["entry"] == [
        {
            "fullUrl": "http://localhost/fhir/Observation/x",
            "resource": bundle["entry"][0]["resource"],
            "search": {"mode": "match"},
        }
    ]


@pytest.mark.parametrize("query", ["patient=p2", "patient=Patient/p2", "subject=Patient/p2"])
def test_patient_references_work_over_http(fhir, query):
    assert entry_ids(fhir.get(f"/fhir/Observation?{query}").get_json(force=True)) == ["x"]


def test_token_commas_and_systems_work_over_http(fhir):
    query = f"code={LOINC}|2524-7,|nope&patient=p1&_count=200"
    bundle = fhir.get("/fhir/Observation", query_string=query).get_json(force=True)
    assert bundle["total"] == 11


def test_sort_descending_date_returns_newest_first(fhir):
    bundle = fhir.get("/fhir/Observation?patient=p1&_sort=-date&_count=3").get_json(force=True)
    assert entry_ids(bundle) == ["lab-00", "lab-01", "lab-02"]
    bundle = fhir.get("/fhir/Observation?patient=p1&_sort=date&_count=2").get_json(force=True)
    assert entry_ids(bundle) == ["lab-22", "lab-21"]


def test_date_window_over_http(fhir):
    query = "patient=p1&date=ge2024-03-10T09:00:00Z&date=lt2024-03-10T12:00:00Z"
    assert entry_ids(fhir.get(f"/fhir/Observation?{query}").get_json(force=True)) == [
        "lab-00",
        "lab-01",
        "lab-02",
    ]


def test_next_links_page_through_every_match_once(fhir):
    url, seen, pages = "/fhir/Observation?patient=p1&_sort=-date&_count=5", [], 0
    while url:
        bundle = fhir.get(url).get_json(force=True)
        assert bundle["total"] == 23
        seen += entry_ids(bundle)
        url, pages = link(bundle, "next"), pages + 1
        assert url is None or url.startswith("http://localhost/fhir/Observation?")
    assert pages == 5
    assert seen == [f"lab-{i:02d}" for i in range(23)]


def test_previous_links_go_back_a_page(fhir):
    first = fhir.get("/fhir/Observation?patient=p1&_count=10").get_json(force=True)
    assert link(first, "previous") is None
    second = fhir.get(link(first, "next")).get_json(force=True)
    assert entry_ids(fhir.get(link(second, "previous")).get_json(force=True)) == entry_ids(first)


def test_default_page_size_is_50_and_count_is_capped_at_200(tmp_path):
    many = [lab(f"o{i:03d}", "2524-7", i) for i in range(210)]
    write_bundle(tmp_path, "many.json", many)
    client = create_fhir_app(tmp_path).test_client()
    assert len(client.get("/fhir/Observation").get_json(force=True)["entry"]) == 50
    capped = client.get("/fhir/Observation?_count=500").get_json(force=True)
    assert (len(capped["entry"]), capped["total"]) == (200, 210)


def test_count_zero_returns_only_the_total(fhir):
    bundle = fhir.get("/fhir/Observation?patient=p1&_count=0").get_json(force=True)
    assert bundle["total"] == 23
    assert "entry" not in bundle
    assert link(bundle, "next") is None


def test_format_and_pretty_are_ignored(fhir):
    response = fhir.get("/fhir/Observation?patient=p2&_format=json&_pretty=true")
    assert response.get_json(force=True)["total"] == 1


def test_post_search_accepts_a_form_body(fhir):
    response = fhir.post("/fhir/Observation/_search", data={"patient": "p2"})
    assert entry_ids(response.get_json(force=True)) == ["x"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("identifier=123", "identifier"),
        ("code:text=lactate", "code:text"),
        ("date=yesterday", "date"),
        ("_sort=code", "_sort"),
        ("_count=ten", "_count"),
        ("_count=-1", "_count"),
    ],
)
def test_bad_parameters_are_400_outcomes_naming_the_parameter(fhir, query, named):
    assert named in outcome(fhir.get(f"/fhir/Observation?{query}"), 400, "invalid")


def test_unexpected_failures_are_500_outcomes_without_a_trace(fixtures_dir, monkeypatch, caplog):
    store = FixtureStore.from_directory(fixtures_dir)
    monkeypatch.setattr(store, "search", lambda *a: 1 / 0)
    app = Flask(__name__)
    app.register_blueprint(create_fhir_blueprint(store), url_prefix="/fhir")
    with caplog.at_level(logging.CRITICAL, logger="app.devtools.fhir_server"):
        response = app.test_client().get("/fhir/Observation")
    assert "Traceback" not in outcome(response, 500, "exception")
    assert "ZeroDivisionError" not in response.get_data(as_text=True)


def test_blueprint_mounts_under_any_prefix_and_name(fixtures_dir):
    store = FixtureStore.from_directory(fixtures_dir)
    app = Flask(__name__)
    app.register_blueprint(create_fhir_blueprint(store, name="ehr"), url_prefix="/ehr/r4")
    bundle = app.test_client().get("/ehr/r4/Patient?_id=p1").get_json(force=True)
    assert bundle["entry"][0]["fullUrl"] == "http://localhost/ehr/r4/Patient/p1"


def test_a_token_is_required_when_token_check_is_set(secured):
    missing = secured.get("/fhir/Patient/p1")
    assert "Bearer" in outcome(missing, 401, "login")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = secured.get("/fhir/Patient/p1", headers={"Authorization": "Bearer nope"})
    outcome(wrong, 401, "login")
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    right = secured.get("/fhir/Patient/p1", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200


def test_metadata_stays_open_and_advertises_smart_when_secured(secured):
    response = secured.get("/fhir/metadata")
    assert response.status_code == 200
    service = response.get_json(force=True)["rest"][0]["security"]["service"][0]
    assert service["coding"][0]["code"] == "SMART-on-FHIR"


def test_loopback_server_serves_fhir_over_real_http(fixtures_dir):
    with FixtureFhirServer(fixtures_dir) as server:
        assert urlsplit(server.base_url).hostname == "127.0.0.1"
        assert server.base_url.endswith("/fhir")
        metadata = requests.get(f"{server.base_url}/metadata", timeout=5)
        assert metadata.headers["Content-Type"].startswith(FHIR_JSON)
        assert metadata.json()["fhirVersion"] == "4.0.1"
        url, seen = f"{server.base_url}/Observation?patient=p1&_count=10", []
        while url:
            bundle = requests.get(url, timeout=5).json()
            seen += entry_ids(bundle)
            url = link(bundle, "next")
            assert url is None or url.startswith(server.base_url)
        assert sorted(seen) == [f"lab-{i:02d}" for i in range(23)]


def test_loopback_server_requires_records_and_never_logs_the_token(fixtures_dir, caplog):
    caplog.set_level(logging.DEBUG)
    with FixtureFhirServer(fixtures_dir, token=TOKEN) as server:
        url = f"{server.base_url}/Patient/p1"
        assert requests.get(url, timeout=5).status_code == 401
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert requests.get(url, headers=headers, timeout=5).status_code == 200
        assert requests.get(f"{server.base_url}/metadata", timeout=5).status_code == 200
    assert server.requests_seen == [
        ("GET", "/fhir/Patient/p1", False),
        ("GET", "/fhir/Patient/p1", True),
        ("GET", "/fhir/metadata", False),
    ]
    assert TOKEN not in caplog.text


def test_loopback_server_time_shifts_to_now_and_stops_cleanly(fixtures_dir):
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with FixtureFhirServer(fixtures_dir, now=now) as server:
        base_url = server.base_url
        newest = requests.get(f"{base_url}/Observation/lab-00", timeout=5).json()
        assert server.requests_seen == [("GET", "/fhir/Observation/lab-00", False)]
    assert datetime.fromisoformat(newest["effectiveDateTime"]) == now - timedelta(minutes=40)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/metadata", timeout=5)
    with pytest.raises(RuntimeError):
        _ = server.base_url
