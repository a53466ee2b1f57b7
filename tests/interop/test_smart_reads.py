"""The SMART app's FHIR reads after a launch, served by Medplum instead of the demo EHR."""

from __future__ import annotations

import dataclasses

import pytest

from app.db import close_stores
from app.smart import fhir_get
from app.smart.sessions import COOKIE_NAME, current_smart_session
from app.ui.facts import read_record
from app.ui.learner_profile import read_ehr_specialty
from tests.interop.conftest import TOKEN
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ehr_launch


@pytest.fixture
def demo_app(instance_path, monkeypatch):
    """Bedside in demo mode: the demo EHR authorises the launch."""
    app = build_demo_app(instance_path, monkeypatch)
    yield app
    close_stores(app)


def launch(app) -> str:
    """Run an EHR launch for the sepsis patient; return the browser's session id."""
    browser = app.test_client()
    flow = ehr_launch(browser, app.extensions["demo_auth"])
    assert flow.callback.status_code == 302, flow.callback.get_data(as_text=True)
    return browser.get_cookie(COOKIE_NAME).value


def moved_to(app, session_id: str, fhir_base: str) -> str:
    """The same launch, its FHIR base and token now those of another server; its session id."""
    store = app.extensions["smart"].sessions
    session = store.load(session_id)
    moved = dataclasses.replace(session, issuer=fhir_base, access_token=TOKEN, refresh_token=None)
    return store.create(moved)[0]


def smart_reads(app, session_id: str) -> dict:
    """What the app reads for a page: the patient, the record searches and the EHR specialty."""
    with app.test_request_context(headers={"Cookie": f"{COOKIE_NAME}={session_id}"}):
        session = current_smart_session()
        record, complete = read_record(session)
        return {
            "patient": fhir_get(session, f"Patient/{session.patient}")["id"],
            "record": {kind: sorted(r["id"] for r in found) for kind, found in record.items()},
            "complete": complete,
            "specialty": read_ehr_specialty(),
        }


def test_the_app_reads_the_same_record_from_medplum(demo_app, medplum):
    session_id = launch(demo_app)
    from_demo_ehr = smart_reads(demo_app, session_id)
    from_medplum = smart_reads(demo_app, moved_to(demo_app, session_id, medplum.base_url))
    assert from_demo_ehr["complete"] and all(from_demo_ehr["record"].values())
    assert from_demo_ehr["specialty"] is not None
    assert from_medplum == from_demo_ehr
