"""A misbehaving fhirServer gets 412 within the deadline; little is read and nothing stored."""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.hostile.fetch_app import call_order_select, cds_app_with
from tests.hostile.fetch_faults import HUGE_BYTES, FaultServer

TOKEN = "ehr-token-hostile-1"
DEADLINE = 2.5
RESPONSE_CAP = 256 * 1024


@pytest.fixture(scope="module")
def target():
    """A healthy server that a redirect points to."""
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def faults(target):
    """The misbehaving FHIR server; its redirects lead to the target server."""
    with FaultServer(redirect_to=target.url("ok") + "/") as server:
        yield server


@pytest.fixture
def hostile_app(instance_path):
    """A CDS app that may fetch from loopback, with a small per-response cap."""
    with cds_app_with(
        instance_path, FHIR_INSECURE_HOSTS="127.0.0.1", CDS_FHIR_MAX_RESPONSE_BYTES=RESPONSE_CAP
    ) as app:
        yield app


def timed_call(app, fhir_server: str):
    """Call order-select; return the response and the seconds it took."""
    started = time.monotonic()
    response = call_order_select(app, fhir_server, TOKEN)
    return response, time.monotonic() - started


def exposures_stored(app) -> int:
    """Rows in the exposure table."""
    with sqlite3.connect(app.config["DATABASE"]) as db:
        return db.execute("SELECT count(*) FROM cds_exposures").fetchone()[0]


@pytest.mark.parametrize("fault", ["huge", "huge-undeclared", "drip", "slow", "reset", "garbage"])
def test_a_misbehaving_server_gets_412_within_the_deadline_and_nothing_is_stored(
    hostile_app, faults, fault
):
    response, seconds = timed_call(hostile_app, faults.url(fault))
    assert response.status_code == 412
    assert response.json["error"]["code"] == "prefetch_unavailable"
    assert seconds < DEADLINE + 1
    assert TOKEN not in response.get_data(as_text=True)
    assert exposures_stored(hostile_app) == 0


def test_a_50_mb_response_is_cut_off_near_the_cap(hostile_app, faults):
    before = faults.sent("huge-undeclared")
    response, _ = timed_call(hostile_app, faults.url("huge-undeclared"))
    time.sleep(0.5)  # let the server notice the closed connections
    assert response.status_code == 412
    # every prefetch query (five at once) is cut at the cap; what more was sent sat in socket
    # buffers: all together, less than one response's body, so none was read to its end
    assert faults.sent("huge-undeclared") - before < HUGE_BYTES


def test_a_declared_50_mb_response_is_refused_before_reading_it(hostile_app, faults):
    before = faults.sent("huge")
    response, _ = timed_call(hostile_app, faults.url("huge"))
    time.sleep(0.5)
    assert response.status_code == 412
    assert "larger than" in response.json["error"]["message"]
    assert faults.sent("huge") - before < HUGE_BYTES  # less than one body, over every query


def test_a_dripping_server_is_let_go_at_the_deadline(hostile_app, faults):
    ended_before = len(faults.drip_ended_at)
    response, _ = timed_call(hostile_app, faults.url("drip"))
    returned_at = time.monotonic()
    assert response.status_code == 412
    time.sleep(1.5)  # the drip notices the closed connection at its next byte
    ended = faults.drip_ended_at[ended_before:]
    assert ended, "the dripping responses are still being read"
    assert max(ended) < returned_at + 1.5


def test_redirects_are_not_followed(hostile_app, faults, target):
    response, _ = timed_call(hostile_app, faults.url("redirect"))
    assert response.status_code == 412
    assert "answered 302" in response.json["error"]["message"]
    assert target.seen("ok") == []


def test_endless_paging_stops_after_five_pages_per_query(hostile_app, faults):
    response, seconds = timed_call(hostile_app, faults.url("paging"))
    assert response.status_code == 200
    assert seconds < DEADLINE + 1
    searches = [path for path in faults.seen("paging") if "?" in path]
    queries = {path.split("&page=")[0] for path in searches}
    assert len(searches) <= 5 * len(queries)


def test_a_searchset_of_odd_shape_is_read_as_empty_not_a_server_error(hostile_app, faults):
    """A number for entry and links without a URL: no data found, the call still answered."""
    response, _ = timed_call(hostile_app, faults.url("odd-bundle"))
    assert response.status_code == 200, response.json
    assert len(faults.seen("odd-bundle")) >= 1
