"""What the OpenAPI document allows, the service accepts: schemathesis generates the requests.

schemathesis (an independent OpenAPI tester) draws request bodies from the document's schemas;
each must get an answer the document lists, never a 400 (the document and the validation would
disagree) and never a 5xx. Client authentication is off here: it is not what is being compared.
"""

from __future__ import annotations

import warnings

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app import create_app
from app.db import close_stores

EXAMPLES = 40
UNREACHABLE_FHIR = "https://127.0.0.1:9/fhir"  # loopback discard port: refused at once


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The app's own OpenAPI document, loaded by schemathesis from the running app."""
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({"TESTING": True, "CDS_AUTH": "off"}, instance_path=instance)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    yield schema
    close_stores(app)


def post_operations(schema) -> list:
    """Every POST operation of the document."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return [operation for operation in operations if operation.method.upper() == "POST"]


def test_every_body_the_document_allows_is_accepted(api):
    operations = post_operations(api)
    assert len(operations) == 6  # three services, each with its feedback endpoint
    for operation in operations:
        documented = {int(code) for code in operation.definition.raw["responses"]}
        check_operation(operation, documented)


def check_operation(operation, documented: set[int]) -> None:
    """Draw bodies for one operation and check each answer."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def answered_as_documented(case) -> None:
        if isinstance(case.body, dict) and "fhirServer" in case.body:
            case.body["fhirServer"] = UNREACHABLE_FHIR  # a valid URL that stays on this machine
        response = case.call()
        assert response.status_code != 400, (operation.path, case.body, response.text[:300])
        assert response.status_code < 500, (operation.path, response.text[:300])
        assert response.status_code in documented, (operation.path, response.status_code)

    answered_as_documented()
