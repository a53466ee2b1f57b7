"""The launched session's FHIR reads never follow a redirect, so the token goes nowhere else."""

from __future__ import annotations

from typing import ClassVar

import pytest

from app import create_app
from app.db import close_stores
from app.smart.fhir import fhir_get
from app.smart.smart_errors import FhirRequestError
from tests.support.loopback import FhirHandler, serving
from tests.support.smart_sessions import smart_session


class Handler(FhirHandler):
    """One loopback server playing both the EHR (which redirects) and the redirect's target."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/fhir/"):
            self.send_response(302)
            self.send_header("Location", "/elsewhere/Patient/p1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_fhir(200, b'{"resourceType": "Patient", "id": "p1"}')


@pytest.fixture
def redirecting_ehr():
    """The FHIR base URL of a server whose every FHIR read redirects elsewhere on its host."""
    Handler.seen = []
    with serving(Handler) as server:
        yield f"http://127.0.0.1:{server.server_port}/fhir"


def test_a_redirect_is_a_failed_read_and_the_token_is_not_sent_on(instance_path, redirecting_ehr):
    app = create_app({"TESTING": True}, instance_path=instance_path)
    session = smart_session(redirecting_ehr, access_token="secret-access-token")
    try:
        with app.test_request_context("/app/"):
            _, stored = app.extensions["smart"].sessions.create(session)
            with pytest.raises(FhirRequestError, match="redirect"):
                fhir_get(stored, "Patient/p1")
    finally:
        close_stores(app)
    assert Handler.seen == [("/fhir/Patient/p1", "Bearer secret-access-token")]
