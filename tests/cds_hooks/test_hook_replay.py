"""The hook endpoint's replay guard: a JWT id is claimed with the call, whatever the outcome.

The hook checks the jti early (before any FHIR fetch) and claims it in the transaction that
records the call's exposures; a call that ends in a 4xx claims it on the way out.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from app.database import Database, parse_database_url, sqlite_path_url
from cds_hooks.store import JTI_KEEP_SECONDS, CdsStore, purge_expired_jti
from tests.cds_hooks.conftest import EHR_ISS
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

SEPSIS = "sepsis-adult"
PATH = "/cds-services/bedside-order-select"
BARE_401 = {"error": {"code": "unauthorized", "message": "Authentication failed."}}


def sepsis_call(fixture_store, *, drop: str | None = None) -> dict:
    """The sepsis patient with a drafted antibiotic (optionally without one prefetch key)."""
    prefetch = prefetch_for(fixture_store, SEPSIS)
    if drop:
        del prefetch[drop]
    return hook_request(
        "order-select", SEPSIS, prefetch=prefetch, draft_orders=[draft_medication(SEPSIS)]
    )


def post_with(client, token: str, body: dict):
    """POST the hook call with exactly this bearer token."""
    return client.post(PATH, json=body, headers={"Authorization": f"Bearer {token}"})


def exposures_stored(app) -> int:
    """How many card exposures the CDS store holds."""
    with sqlite3.connect(app.config["DATABASE"]) as connection:
        return connection.execute("SELECT count(*) FROM cds_exposures").fetchone()[0]


CALLS = {
    "cards": (lambda store: sepsis_call(store), 200),
    "invalid body": (lambda store: {**sepsis_call(store), "hook": 7}, 400),
    "missing data": (lambda store: sepsis_call(store, drop="observations"), 412),
}


@pytest.mark.parametrize("outcome", sorted(CALLS))
def test_a_hook_call_cannot_be_replayed_whatever_its_outcome(cds, cds_app, fixture_store, outcome):
    make_body, status = CALLS[outcome]
    body, token = make_body(fixture_store), cds.token(PATH)
    assert post_with(cds.client, token, body).status_code == status
    shown = exposures_stored(cds_app)
    replay = post_with(cds.client, token, body)
    assert (replay.status_code, replay.json) == (401, BARE_401)
    assert exposures_stored(cds_app) == shown  # the replay stored nothing


def test_the_first_call_shows_its_card_and_records_it(cds, cds_app, fixture_store):
    response = post_with(cds.client, cds.token(PATH), sepsis_call(fixture_store))
    assert response.status_code == 200 and response.json["cards"]
    assert exposures_stored(cds_app) == len(response.json["cards"])


def test_a_replay_racing_the_first_call_loses_when_the_call_is_recorded(
    cds, cds_app, fixture_store, monkeypatch
):
    """Two workers can both pass the early check; the one that records second gets the 401."""
    token = cds.token(PATH, jti="raced-jti")
    # its own connections to the same file
    other_worker = CdsStore(Database(sqlite_path_url(cds_app.config["DATABASE"])))
    engine = cds_app.extensions["cds"].engine
    resolve = engine.patient_data

    def other_worker_records_first(request):
        assert other_worker.claim_jti(EHR_ISS, "raced-jti", 2_000_000_000)
        return resolve(request)

    monkeypatch.setattr(engine, "patient_data", other_worker_records_first)
    response = post_with(cds.client, token, sepsis_call(fixture_store))
    other_worker.database.dispose()
    assert (response.status_code, response.json) == (401, BARE_401)
    assert exposures_stored(cds_app) == 0  # the losing call's cards were not recorded


@pytest.fixture
def store(database_url):
    """A CDS store on a fresh database of each engine."""
    database = Database(parse_database_url(database_url))
    yield CdsStore(database)
    database.dispose()


def test_the_store_claims_a_jti_once_per_issuer(store):
    claim = ("https://ehr.example", "j-1", 2_000_000_000)
    assert store.claim_jti(*claim)
    assert not store.claim_jti(*claim)
    assert store.jti_seen("https://ehr.example", "j-1")
    assert not store.jti_seen("https://other-ehr.example", "j-1")  # ids are per issuer


def claimed_ids(store: CdsStore) -> list[str]:
    """The JWT ids the store remembers, first to expire first."""
    with store.database.read() as connection:
        return list(
            connection.execute(text("SELECT jti FROM cds_jti ORDER BY expires_at")).scalars()
        )


def test_expired_ids_are_purged_oldest_first_a_bounded_batch_at_a_time(store):
    now = 2_000_000_000
    long_gone = now - JTI_KEEP_SECONDS - 1  # expired over an hour ago: safe to forget
    recent = now - 60  # expired a minute ago: still kept
    for number in range(5):
        store.claim_jti("https://ehr.example", f"old-{number}", long_gone)
    store.claim_jti("https://ehr.example", "edge", now - JTI_KEEP_SECONDS)  # kept to the second
    store.claim_jti("https://ehr.example", "recent", recent)
    store.claim_jti("https://ehr.example", "live", now + 300)
    for purged in (3, 2, 0):  # looks at 3 claims at most each time
        with store.database.write() as connection:
            assert purge_expired_jti(connection, now, batch=3) == purged
    assert claimed_ids(store) == ["edge", "recent", "live"]
    assert not store.claim_jti("https://ehr.example", "live", now + 300)  # still a replay


def test_claiming_an_id_now_and_then_purges_old_ones(store, monkeypatch):
    monkeypatch.setattr("cds_hooks.store.JTI_PURGE_CHANCE", 1.0)  # every claim purges
    store.claim_jti("https://ehr.example", "ancient", 1_000_000_000)
    assert store.claim_jti("https://ehr.example", "new", 4_000_000_000)
    assert claimed_ids(store) == ["new"]
