"""At LOG_LEVEL=DEBUG the logs still never name the launched patient (FHIR paths carry its id)."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import ClassVar

import pytest

from app import create_app
from app.db import close_stores
from app.redaction import QUIET_LOGGERS, install_redaction
from app.smart.sessions import COOKIE_NAME
from tests.support.loopback import FhirHandler, serving
from tests.support.smart_sessions import smart_session

PATIENT_ID = "sepsis-adult"
PATIENT = {
    "resourceType": "Patient",
    "id": PATIENT_ID,
    "name": [{"family": "Harlow", "given": ["Maeve"]}],
    "birthDate": "1958-07-22",
}


class FhirServer(FhirHandler):
    """A FHIR server on loopback: the patient for Patient/<id>, 404 for anything else."""

    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        found = self.path == f"/fhir/Patient/{PATIENT_ID}"
        body = json.dumps(PATIENT if found else {"resourceType": "OperationOutcome"}).encode()
        self.send_fhir(200 if found else 404, body)


@pytest.fixture
def fhir_server():
    """The EHR's FHIR server, on a real loopback port."""
    FhirServer.paths = []
    with serving(FhirServer) as server:
        yield server


@pytest.fixture
def debug_app(instance_path):
    """The app at LOG_LEVEL=DEBUG; the loggers' levels are put back afterwards."""
    loggers = [logging.getLogger(), *map(logging.getLogger, QUIET_LOGGERS)]
    levels = [logger.level for logger in loggers]
    config = {"TESTING": True, "DATABASE": str(instance_path / "b.db"), "LOG_LEVEL": "DEBUG"}
    app = create_app(config, instance_path=instance_path)
    yield app
    close_stores(app)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_a_fhir_read_at_debug_level_logs_no_patient_id(debug_app, fhir_server, caplog):
    issuer = f"http://127.0.0.1:{fhir_server.server_port}/fhir"
    signed_in = smart_session(issuer, fhir_user=f"{issuer}/Practitioner/dr-ed-okafor")
    launched = dataclasses.replace(signed_in, patient=PATIENT_ID, need_patient_banner=True)
    session_id, _ = debug_app.extensions["smart"].sessions.create(launched)
    browser = debug_app.test_client()
    browser.set_cookie(COOKIE_NAME, session_id)
    home = browser.get("/app/")
    assert home.status_code == 200
    assert "Harlow" in home.get_data(as_text=True)  # the banner: read over HTTP
    assert f"/fhir/Patient/{PATIENT_ID}" in FhirServer.paths
    assert logging.getLogger().isEnabledFor(logging.DEBUG)
    assert not [record for record in caplog.records if PATIENT_ID in record.getMessage()]


def test_a_level_the_operator_set_higher_on_a_quiet_logger_is_kept():
    root, quiet = logging.getLogger(), logging.getLogger("urllib3")
    kept = root.level, quiet.level
    try:
        quiet.setLevel(logging.ERROR)
        install_redaction("DEBUG")
        assert quiet.level == logging.ERROR
    finally:
        root.setLevel(kept[0])
        quiet.setLevel(kept[1])
