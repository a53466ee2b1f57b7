"""A worker whose read was refused while another worker refreshed uses that worker's new token.

Refresh tokens rotate and are single-use: refreshing again with the one the other worker
already spent would be refused by the EHR and end the session that worker just renewed.
"""

from __future__ import annotations

import threading

import pytest

from app.smart import SmartSessionEnded, current_smart_session, fhir_get
from app.smart.sessions import COOKIE_NAME
from tests.smart.helpers import ehr_launch, sessions_rows, stored_sessions
from tests.smart.test_refresh import refresh_requests

WAIT_SECONDS = 10


@pytest.fixture
def smart_database_url(database_url):
    """Run on both engines: the refresh lock is SQL shared by every host."""
    return database_url


def read_patient(app, cookie: str) -> str:
    """Read the launched patient with fhir_get in a request of this browser; its id, or why not."""
    with app.test_request_context(headers={"Cookie": cookie}):
        try:
            return fhir_get(current_smart_session(), "Patient/sepsis-adult")["id"]
        except SmartSessionEnded:
            return "session ended"


def test_a_401_answered_during_another_workers_refresh_retries_with_its_new_token(
    browser, auth_server, demo_app, transport
):
    ehr_launch(browser, auth_server)
    [launched] = stored_sessions(demo_app)
    auth_server.store.revoke_access_tokens()  # both workers' first reads get 401
    cookie = f"{COOKIE_NAME}={browser.get_cookie(COOKIE_NAME).value}"
    late_401_held, first_worker_done = threading.Event(), threading.Event()

    def hold_the_late_workers_401(request, response):
        """Keep the late worker's first 401 in flight until the first worker has refreshed."""
        late = threading.current_thread().name == "late-worker"
        if late and response.status_code == 401 and not late_401_held.is_set():
            late_401_held.set()
            first_worker_done.wait(WAIT_SECONDS)

    transport.rewrites.append(hold_the_late_workers_401)
    outcomes = {}
    late_worker = threading.Thread(
        target=lambda: outcomes.update(late=read_patient(demo_app, cookie)), name="late-worker"
    )
    late_worker.start()
    assert late_401_held.wait(WAIT_SECONDS)
    outcomes["first"] = read_patient(demo_app, cookie)
    first_worker_done.set()
    late_worker.join(WAIT_SECONDS)

    assert outcomes == {"first": "sepsis-adult", "late": "sepsis-adult"}
    assert len(refresh_requests(transport)) == 1
    [renewed] = stored_sessions(demo_app)
    assert renewed.refresh_token != launched.refresh_token
    assert len(sessions_rows(demo_app)) == 1
