"""What one hook call costs PostgreSQL, counted in round trips between Bedside and the server.

A round trip is a message the client must await the answer of: a simple Query (BEGIN, COMMIT)
or the Sync that ends an extended-protocol statement. libpq's own trace of the connection counts
them, so a statement, a transaction or a per-checkout SET added anywhere on the path shows up.
Not counted: psycopg preparing a statement it runs often (a named Parse and its Sync), paid once
per connection and statement, not per call.

Where the round trips go (a call with a card): the JWT id claimed (1), the mastery signal (1,
only with a fhirServer), the snoozes and showings (1), the cards recorded (1); no transaction.
"""

from __future__ import annotations

import re

import pytest
from psycopg.pq import Trace
from sqlalchemy import event

from app.database import app_database
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for
from tests.cds_hooks.test_frequency import AF, af_request, fixture_request
from tests.cds_hooks.test_mastery_ranking import MASTERED, give_mastery

PATH = "/cds-services/bedside-{hook}"
FHIR_SERVER = "https://ehr.test.example/fhir"  # named, so the mastery signal is read
SEPSIS = "sepsis-adult"
MESSAGE = re.compile(r"^F\t\d+\t(\w+)\s*(.*)$")


@pytest.fixture
def cds_config(cds_config, postgres_url, monkeypatch):
    """The CDS test app on PostgreSQL; claims never purge (a purge is a round trip 2% of claims).

    The repeat rule is off (its query still runs): only mastery hides a card shown before.
    """
    monkeypatch.setattr("cds_hooks.store.JTI_PURGE_CHANCE", 0.0)
    return {**cds_config, "DATABASE_URL": postgres_url, "CDS_REPEAT_MINUTES": 0}


@pytest.fixture
def round_trips(cds_app, tmp_path):
    """A function returning the round trips counted since it was last called."""
    trace_path = tmp_path / "libpq-trace.txt"
    trace = trace_path.open("w")
    engine = app_database(cds_app).engine

    @event.listens_for(engine, "checkout")
    def trace_on(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.pgconn.trace(trace.fileno())
        dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)

    @event.listens_for(engine, "checkin")
    def trace_off(dbapi_connection, _record) -> None:
        dbapi_connection.pgconn.untrace()

    read_so_far = 0

    def since_last_call() -> int:
        nonlocal read_so_far
        trace.flush()
        lines = trace_path.read_text(encoding="utf-8").splitlines()
        counted, read_so_far = awaited_messages(lines[read_so_far:]), len(lines)
        return counted

    yield since_last_call
    event.remove(engine, "checkout", trace_on)
    event.remove(engine, "checkin", trace_off)
    trace.close()


@pytest.fixture
def checkouts(cds_app):
    """A function returning how many pooled connections were checked out since its last call."""
    engine, count = app_database(cds_app).engine, [0]

    @event.listens_for(engine, "checkout")
    def counted(*_args) -> None:
        count[0] += 1

    def since_last_call() -> int:
        counted_so_far, count[0] = count[0], 0
        return counted_so_far

    yield since_last_call
    event.remove(engine, "checkout", counted)


def awaited_messages(trace_lines: list[str]) -> int:
    """Count the client's Query and Sync messages, less the Syncs that end a preparation."""
    count, preparing = 0, False
    for line in trace_lines:
        message = MESSAGE.match(line)
        if message is None:  # the server's messages
            continue
        kind, detail = message.groups()
        if kind == "Sync":
            count += not preparing
            preparing = False
        elif kind == "Query":
            count += 1
        elif kind == "Parse":  # a named statement is psycopg preparing it, on its own Sync
            preparing = not detail.startswith('""')
        elif kind == "Bind":
            preparing = False
    return count


def one_card_call(hook: str, user: str, fixture_store) -> dict:
    """A call that shows one card to this user, naming a FHIR server (read for mastery).

    patient-view: the AF patient without an anticoagulant; at order entry: the sepsis patient
    with an antibiotic drafted.
    """
    if hook == "patient-view":
        body = af_request(hook)
    else:
        prefetch = prefetch_for(fixture_store, SEPSIS)
        body = hook_request(
            hook, SEPSIS, prefetch=prefetch, draft_orders=[draft_medication(SEPSIS)]
        )
    body["context"]["userId"] = f"Practitioner/{user}"
    body["fhirServer"] = FHIR_SERVER
    return body


def call(cds, hook: str, body: dict, token: str | None = None):
    """POST the hook call (a fresh token unless given)."""
    path = PATH.format(hook=hook)
    token = token or cds.token(path)
    return cds.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_a_call_showing_one_card_costs_four_round_trips_and_no_transaction(
    cds, round_trips, checkouts, fixture_store, hook
):
    call(cds, hook, one_card_call(hook, "warm-up", fixture_store))  # the pool is open and warm
    round_trips()
    checkouts()
    for user in ("dr-a", "dr-b", "dr-c"):  # each call its own: a card for each new clinician
        response = call(cds, hook, one_card_call(hook, user, fixture_store))
        assert response.status_code == 200 and len(response.json["cards"]) == 1
        assert round_trips() == 4  # claim, mastery, snoozes and showings, cards recorded
        assert checkouts() == 1  # all four on one pooled connection


def test_a_call_with_no_card_costs_one_round_trip(cds, round_trips):
    body = fixture_request(AF, "silent-on-apixaban")  # anticoagulated: nothing to say
    body["fhirServer"] = FHIR_SERVER
    call(cds, body["hook"], body)
    round_trips()
    response = call(cds, body["hook"], body)
    assert response.status_code == 200 and response.json["cards"] == []
    assert round_trips() == 1  # the claim; nothing matched, so nothing read or recorded


def test_a_replayed_call_costs_one_round_trip_and_records_nothing(cds, round_trips, fixture_store):
    body = one_card_call("order-select", "dr-a", fixture_store)
    token = cds.token(PATH.format(hook="order-select"))
    assert call(cds, "order-select", body, token).status_code == 200
    round_trips()
    assert call(cds, "order-select", body, token).status_code == 401
    assert round_trips() == 1  # the claim, refused


def test_a_mastered_topic_stays_quiet_at_no_extra_round_trip(
    cds, cds_app, round_trips, fixture_store
):
    give_mastery(cds_app, f"{FHIR_SERVER}/Practitioner/dr-master", MASTERED)
    round_trips()
    first = call(cds, "order-select", one_card_call("order-select", "dr-master", fixture_store))
    assert len(first.json["cards"]) == 1
    assert round_trips() == 4
    again = call(cds, "order-select", one_card_call("order-select", "dr-master", fixture_store))
    assert again.status_code == 200 and again.json["cards"] == []  # mastered, and shown lately
    assert round_trips() == 3  # claim, mastery, what hides it (with the snoozes); none recorded
