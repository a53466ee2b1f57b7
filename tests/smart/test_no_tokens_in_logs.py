"""No access token, refresh token, id_token or authorization code ever reaches a log line."""

from __future__ import annotations

import logging

from app.smart.fhir import fhir_get
from app.smart.sessions import current_smart_session
from tests.smart.helpers import ehr_launch, query_of, sessions_rows


def test_a_whole_launch_and_fhir_read_log_no_credentials(demo_app, browser, caplog):
    caplog.set_level(logging.DEBUG)
    server = demo_app.extensions["demo_auth"]
    flow = ehr_launch(browser, server, app_context='{"module": "sepsis-hour-1-bundle"}')
    code = query_of(flow.authorize.headers["Location"])["code"]
    (row,) = sessions_rows(demo_app)
    cookie = browser.get_cookie("bedside_session")
    with demo_app.test_request_context(headers={"Cookie": f"bedside_session={cookie.value}"}):
        session = current_smart_session()
        assert fhir_get(session, "Patient/sepsis-adult")["id"] == "sepsis-adult"
    secrets = [code] + [value for name, value in row.items() if "token" in name and value]
    assert len(secrets) >= 3  # code, access token, refresh token (id_token claims are not a token)
    for secret in secrets:
        assert str(secret) not in caplog.text
