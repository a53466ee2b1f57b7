"""The SMART client's reads from the EHR stop at their deadline and their size cap.

A real loopback server drips its answer a byte at a time (each byte well within the read
timeout) or sends 50 MB; fhir_get, discovery and the id_token key set fetch give up with a
readable error instead of holding the request thread or buffering the whole answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests

import app.smart.discovery as discovery
import app.smart.fhir as fhir
import app.smart.id_tokens as id_tokens
import app.smart.oauth as oauth
from app import create_app
from app.db import close_stores
from app.smart.bounded_reads import MAX_REDIRECTS
from app.smart.discovery import Discovery
from app.smart.id_tokens import fetch_key_set
from app.smart.smart_errors import FhirRequestError, SmartLaunchError
from tests.hostile.fetch_faults import HUGE_BYTES, FaultServer
from tests.smart.helpers import ehr_launch, execute, stored_sessions
from tests.support.smart_sessions import smart_session

SHORT_DEADLINE = 0.5
GUARD_SECONDS = 20  # far past every deadline here: only an unbounded read gets near it


@pytest.fixture(scope="module")
def faults():
    """The misbehaving EHR: its first path segment picks the fault (drip, huge, …)."""
    with FaultServer() as server:
        yield server


@pytest.fixture
def smart_app(instance_path):
    """Bedside with its SMART client, talking to loopback servers over real sockets."""
    app = create_app({"TESTING": True}, instance_path=instance_path)
    yield app
    close_stores(app)


@pytest.fixture
def short_deadlines(monkeypatch):
    """Give every SMART read a deadline of half a second."""
    for module in (fhir, discovery, id_tokens):
        monkeypatch.setattr(module, "DEADLINE_SECONDS", SHORT_DEADLINE)


def failure_of(call: Callable[[], object]) -> BaseException | None:
    """Run a call in a thread; return what it raised (None if nothing), failing if it hangs."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # handed back to the test thread
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(GUARD_SECONDS)
    assert not thread.is_alive(), f"the read was still going after {GUARD_SECONDS} s"
    return raised[0] if raised else None


def read_from(app, issuer: str) -> Callable[[], object]:
    """A fhir_get of a Patient in a session whose FHIR server is `issuer`."""

    def read() -> object:
        with app.test_request_context("/app/"):
            _, stored = app.extensions["smart"].sessions.create(smart_session(issuer))
            return fhir.fhir_get(stored, "Patient/p1")

    return read


def discover(issuer: str) -> object:
    """Discover the SMART configuration of `issuer`."""
    return Discovery(requests.Session).configuration(issuer)


def fetch_keys(issuer: str) -> object:
    """Fetch the key set published under `issuer`."""
    with requests.Session() as http:
        return fetch_key_set(http, f"{issuer}/jwks")


def drip_ended_soon(faults: FaultServer, ended_before: int, returned_at: float) -> bool:
    """Tell whether the dripping server saw its client leave, soon after the read returned."""
    time.sleep(1.5)  # the drip notices the closed connection at its next byte
    ended = faults.drip_ended_at[ended_before:]
    return bool(ended) and max(ended) < returned_at + 1.5


def test_a_dripping_fhir_server_is_let_go_at_the_deadline(smart_app, faults, short_deadlines):
    ended_before = len(faults.drip_ended_at)
    error = failure_of(read_from(smart_app, faults.url("drip")))
    assert isinstance(error, FhirRequestError)
    assert error.message == (
        "The EHR's FHIR server's answer could not be read: the response did not arrive in time."
    )
    assert drip_ended_soon(faults, ended_before, time.monotonic())


@pytest.mark.parametrize("fault", ["huge", "huge-undeclared"])
def test_a_fhir_answer_over_the_cap_is_refused_without_reading_it_all(smart_app, faults, fault):
    before = faults.sent(fault)
    error = failure_of(read_from(smart_app, faults.url(fault)))
    assert isinstance(error, FhirRequestError)
    assert error.message == (
        "The EHR's FHIR server's answer could not be read: "
        f"the response is larger than {fhir.MAX_RESPONSE_BYTES} bytes."
    )
    time.sleep(0.5)  # let the server notice the closed connection
    assert faults.sent(fault) - before < HUGE_BYTES


@pytest.mark.parametrize("read", [discover, fetch_keys], ids=["discovery", "key-set"])
def test_a_dripping_ehr_is_let_go_at_the_deadline_when_launching(faults, short_deadlines, read):
    ended_before = len(faults.drip_ended_at)
    error = failure_of(lambda: read(faults.url("drip")))
    assert isinstance(error, SmartLaunchError)
    assert error.title in {"EHR unreachable", "EHR keys unavailable"}
    assert drip_ended_soon(faults, ended_before, time.monotonic())


@pytest.mark.parametrize("read", [discover, fetch_keys], ids=["discovery", "key-set"])
@pytest.mark.parametrize("fault", ["huge", "huge-undeclared"])
def test_a_huge_launch_document_is_refused_without_reading_it_all(faults, read, fault):
    before = faults.sent(fault)
    error = failure_of(lambda: read(faults.url(fault)))
    assert isinstance(error, SmartLaunchError)
    assert error.title in {"EHR unreachable", "EHR keys unavailable"}
    time.sleep(0.5)  # let the server notice the closed connection
    assert faults.sent(fault) - before < HUGE_BYTES


@pytest.fixture
def endless_redirects():
    """A server whose every answer is a redirect to itself, forever."""
    with FaultServer() as server:
        server.redirect_to = server.url("redirect") + "/"
        yield server


@pytest.mark.parametrize("read", [discover, fetch_keys])
def test_a_redirect_loop_is_followed_three_times_then_refused(endless_redirects, read):
    error = failure_of(lambda: read(endless_redirects.url("redirect")))
    assert isinstance(error, SmartLaunchError)
    assert len(endless_redirects.seen("redirect")) <= 2 * (MAX_REDIRECTS + 1)


def refresh_at(demo_app, token_endpoint: str) -> Callable[[], object]:
    """A refresh of the launched session, its token endpoint moved to `token_endpoint`."""
    execute(demo_app, f"UPDATE smart_sessions SET token_endpoint = '{token_endpoint}'")

    def refresh() -> object:
        with demo_app.test_request_context("/app/"):
            [session] = stored_sessions(demo_app)
            return fhir.refresh_session(demo_app.extensions["smart"], session)

    return refresh


def test_a_dripping_token_endpoint_is_let_go_well_within_the_refresh_lock(
    browser, auth_server, demo_app, faults, monkeypatch
):
    monkeypatch.setattr(oauth, "TOKEN_SECONDS", SHORT_DEADLINE)
    ehr_launch(browser, auth_server)
    ended_before = len(faults.drip_ended_at)
    error = failure_of(refresh_at(demo_app, faults.url("drip") + "/token"))
    assert isinstance(error, FhirRequestError) and error.status == 503
    assert drip_ended_soon(faults, ended_before, time.monotonic())
    [session] = stored_sessions(demo_app)  # kept, and its refresh lock let go for the next try
    assert demo_app.extensions["smart"].sessions.claim_refresh(session.session_key)


@pytest.mark.parametrize("fault", ["huge", "huge-undeclared"])
def test_a_huge_token_answer_is_refused_without_reading_it_all(
    browser, auth_server, demo_app, faults, fault
):
    ehr_launch(browser, auth_server)
    before = faults.sent(fault)
    error = failure_of(refresh_at(demo_app, faults.url(fault) + "/token"))
    assert isinstance(error, FhirRequestError) and error.status == 503
    time.sleep(0.5)  # let the server notice the closed connection
    assert faults.sent(fault) - before < HUGE_BYTES
