"""No patient identifier reaches the ledger or any export, after the demo flows really ran.

The demo app serves on a real port; the demo EHR fires its CDS hooks for every fixture patient and
sends feedback on every card; every cds_requests fixture is posted to the CDS services as the demo
EHR; learners then earn, claim and reverse credit through the store. Then every table of every
SQLite file in the instance folder (all rows, all columns, as text) and every export format,
transcript and certificate is searched for the fixtures' patient ids, names, MRNs and birth dates.
"""

from __future__ import annotations

import json
import re
import sqlite3
from functools import cache
from pathlib import Path

import pytest
import requests

from app import create_app
from app.devtools.demo_cds_client import post_signed
from app.devtools.demo_keys import DEMO_EHR_ISS
from app.ledger.models import ReportingIdentity
from app.ledger.outputs import certificates as certs
from app.ledger.outputs.exporting import FORMATS, ExportContext, export
from app.ledger.outputs.settings import output_settings
from app.ledger.outputs.transcript import transcript, transcript_csv
from app.settings import REPO_ROOT
from tests.ledger.helpers import Clock
from tests.ledger_outputs.world import modules, pass_case, poc_cycle
from tests.support.live_server import LiveServer

FIXTURES = REPO_ROOT / "fhir_fixtures"
HOOKS = {"patient-view": [], "order-select": ["ceftriaxone-1g"], "order-sign": ["amoxicillin-susp"]}


@cache
def patient_identifiers() -> frozenset[str]:
    """Every fixture patient's id, given and family names, MRNs and birth date."""
    found: set[str] = set()
    files = [*FIXTURES.glob("patients/*.json"), *FIXTURES.glob("cds_requests/**/*.json")]
    for path in files:
        collect(json.loads(path.read_text(encoding="utf-8")), found)
    return frozenset(value for value in found if value)


def collect(value: object, found: set[str]) -> None:
    """Walk FHIR JSON and gather the identifiers of every Patient (and every patientId)."""
    if isinstance(value, dict):
        if value.get("resourceType") == "Patient":
            found.add(value.get("id", ""))
            found.add(value.get("birthDate", ""))
            for name in value.get("name", []):
                found.update(name.get("given", []))
                found.add(name.get("family", ""))
            found.update(identifier.get("value", "") for identifier in value.get("identifier", []))
        if isinstance(value.get("patientId"), str):
            found.add(value["patientId"])
        for item in value.values():
            collect(item, found)
    elif isinstance(value, list):
        for item in value:
            collect(item, found)


@cache
def leak_pattern() -> re.Pattern[str]:
    """Match any identifier as a whole token, case-sensitively (names are proper nouns)."""
    alternatives = sorted(map(re.escape, patient_identifiers()), key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z0-9_-])(?:" + "|".join(alternatives) + r")(?![A-Za-z0-9_-])")


def leaks(text: str) -> list[str]:
    """Return the patient identifiers found in text."""
    return sorted(set(leak_pattern().findall(text)))


def test_the_needles_cover_every_kind_of_identifier():
    needles = patient_identifiers()
    assert {"sepsis-adult", "Maeve", "Harlow", "SYN-SEP-000101", "1958-07-22"} <= needles
    assert len(needles) > 100
    assert leaks("seen for Maeve Harlow (SYN-SEP-000101)") == ["Harlow", "Maeve", "SYN-SEP-000101"]
    assert leaks("AMA PRA Category 1 Credit; 0.50 per cycle; sepsis-adulthood") == []


@pytest.fixture
def demo(instance_path):
    """The demo app on a real loopback port."""
    app = create_app(
        {"TESTING": True, "DEMO": True, "DATABASE": str(instance_path / "bedside.db")},
        instance_path=instance_path,
    )
    with LiveServer(app) as server:
        yield app, server


def post(server: LiveServer, path: str, body: dict) -> tuple[int, dict]:
    """POST JSON to the live server."""
    with requests.post(server.url + path, json=body, timeout=20) as response:
        return response.status_code, response.json()


def run_demo_ehr(server: LiveServer) -> int:
    """Fire every hook for every fixture patient and send feedback on each card; count cards."""
    cards = 0
    for path in sorted(FIXTURES.glob("patients/*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        patient = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        for hook, drafts in HOOKS.items():
            url = f"/demo-ehr/api/patients/{patient['id']}/hooks/{hook}"
            status, body = post(server, url, {"drafts": drafts})
            assert status == 200, body
            for card in body["cards"]:
                cards += 1
                send_feedback(server, body["service"], card)
    return cards


def send_feedback(server: LiveServer, service: str, card: dict) -> None:
    """Override the card with its first reason, or accept it when it offers none."""
    feedback = {"service": service, "card": card["uuid"], "outcome": "accepted"}
    if card.get("overrideReasons"):
        feedback |= {"outcome": "overridden", "reason": card["overrideReasons"][0]["code"]}
    status, body = post(server, "/demo-ehr/api/feedback", feedback)
    assert status == 200, body


def post_cds_fixtures(app, server: LiveServer) -> int:
    """Post every cds_requests fixture to its CDS service as the (trusted) demo EHR."""
    answered = 0
    for path in sorted(FIXTURES.glob("cds_requests/*/*.json")):
        request = json.loads(path.read_text(encoding="utf-8"))["request"]
        url = f"{server.url}/cds-services/bedside-{request['hook']}"
        reply = post_signed(Path(app.instance_path), url, request)
        assert reply.status == 200, (path.name, reply.body)
        answered += 1
    return answered


def earn_credit(app) -> list[str]:
    """The demo's clinicians earn, claim and reverse credit through the ledger store."""
    store = app.extensions["ledger"].store
    clock = Clock()
    learners = []
    for practitioner in ("dr-ed-okafor", "dr-peds-lindqvist", "dr-hf-adeyemi"):
        learner = store.ensure_learner(DEMO_EHR_ISS, f"Practitioner/{practitioner}")
        pass_case(store, clock, learner, "sepsis-hour-1-bundle")
        pass_case(store, clock, learner, "af-anticoagulation")
        poc_cycle(store, clock, learner, "uri-antibiotics-adults")
        learners.append(learner)
    store.append_reversal(1, "entered for the wrong activity", "privacy-undo-1")
    store.set_reporting_identity(learners[0], ReportingIdentity("Jo", "Reyes", board_id="B-77"))
    return learners


def database_text(instance: Path) -> str:
    """Every row of every table of every SQLite file in the instance folder, as text."""
    chunks = []
    for path in sorted(instance.glob("*.db")):
        connection = sqlite3.connect(path)
        try:
            tables = [
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in tables:
                for row in connection.execute(f'SELECT * FROM "{table}"'):
                    chunks.append(f"{path.name}:{table}:" + "\t".join(map(str, row)))
        finally:
            connection.close()
    return "\n".join(chunks)


def raw_database_bytes(instance: Path) -> str:
    """The SQLite files' raw bytes (database, WAL), as Latin-1 text."""
    files = [*instance.glob("*.db"), *instance.glob("*.db-wal")]
    return "\n".join(path.read_bytes().decode("latin-1") for path in sorted(files))


def test_the_scan_finds_a_planted_name(instance_path):
    """A control: a patient's name typed into a profile field is caught by the table scan."""
    from app.ledger.store import SqlLedgerStore, ledger_database

    store = SqlLedgerStore(ledger_database(instance_path / "control.db"), b"key")
    try:
        learner = store.ensure_learner("https://ehr.test", "Practitioner/1")
        store.update_profile(learner, specialty="Harlow clinic")
    finally:
        store.close()
    assert leaks(database_text(instance_path)) == ["Harlow"]


def outputs_text(app, base_url: str, learners: list[str]) -> str:
    """Every export format, and each learner's transcript, CSV and certificates."""
    store = app.extensions["ledger"].store
    context = ExportContext(
        store,
        output_settings(app.config, base_url),
        modules(),
        Path(app.instance_path),
        database=store.database,
    )
    records = list(store.iter_chain())
    chunks = [export(fmt, records, context).text for fmt in FORMATS]
    with app.test_request_context():
        for learner in learners:
            t = transcript(store, learner, library=modules())
            chunks += [transcript_csv(t), certs.render_transcript(t)]
            chunks.append(certs.render_period_certificate(certs.period_certificate(t)))
            for row in t.rows:
                if row.record.kind == "credit" and row.reversed_by is None:
                    cert = certs.activity_certificate(
                        store, learner, row.record.sequence, library=modules()
                    )
                    chunks.append(certs.render_certificate(cert))
    return "\n".join(chunks)


def test_no_patient_identifier_in_any_table_or_export(demo, instance_path):
    app, server = demo
    assert run_demo_ehr(server) > 0
    assert post_cds_fixtures(app, server) == len(list(FIXTURES.glob("cds_requests/*/*.json")))
    learners = earn_credit(app)
    stored = database_text(instance_path)
    assert "ledger_credits" in stored and "cds_exposures" in stored and "cds_feedback" in stored
    assert leaks(stored) == []
    assert leaks(raw_database_bytes(instance_path)) == []  # free pages and the WAL too
    exported = outputs_text(app, server.url, learners)
    assert "OpenBadgeCredential" not in exported  # badges are compact JWS: check them decoded too
    assert leaks(exported) == []
    assert leaks(decoded_badges(exported)) == []


def decoded_badges(text: str) -> str:
    """Decode every compact JWS in the text (badges hide their JSON in base64url)."""
    import base64

    decoded = []
    for token in re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", text):
        payload = token.split(".")[1]
        decoded.append(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode())
    assert decoded, "the badge export produced no badges"
    return "\n".join(decoded)
