"""`bedside hook` against Medplum: the same cards as from the fixture server, readable errors."""

from __future__ import annotations

import json

import pytest

from app import create_app
from app.db import close_stores
from cds_hooks.hook_cli import hook_command
from tests.cds_hooks.hook_requests import CEFTRIAXONE, draft_medication
from tests.interop.conftest import TOKEN
from tests.interop.test_prefetch_fallback import without_uuids


@pytest.fixture
def run(instance_path):
    """Invoke `bedside hook` through the Flask CLI runner of a test app."""
    config = {
        "TESTING": True,
        "DATABASE": str(instance_path / "db"),
        "CDS_AUTH": "off",
        "FHIR_INSECURE_HOSTS": "127.0.0.1",
    }
    app = create_app(config, instance_path=instance_path)

    def invoke(*args: object):
        return app.test_cli_runner().invoke(hook_command, [str(arg) for arg in args])

    yield invoke
    close_stores(app)


@pytest.fixture
def draft_order(tmp_path):
    """A ceftriaxone draft order file."""
    path = tmp_path / "ceftriaxone.json"
    order = draft_medication("sepsis-adult", CEFTRIAXONE)
    del order["status"], order["subject"]  # the command fills these in
    path.write_text(json.dumps(order))
    return path


@pytest.mark.parametrize(
    ("hook", "patient", "with_draft"),
    [("order-select", "sepsis-adult", True), ("patient-view", "hfref-adult", False)],
)
def test_json_cards_match_the_fixture_server(
    run, medplum, fixture_server, draft_order, hook, patient, with_draft
):
    drafts = ("--draft-order", draft_order) if with_draft else ()
    bodies = {}
    for server in (medplum, fixture_server):
        args = (hook, "--fhir-server", server.base_url, "--patient", patient, *drafts)
        result = run(*args, "--token", TOKEN, "--json")
        assert result.exit_code == 0, result.output
        bodies[server] = json.loads(result.stdout)
    assert bodies[fixture_server]["cards"]
    assert without_uuids(bodies[medplum]) == without_uuids(bodies[fixture_server])


def test_table_names_medplum_and_the_module(run, medplum, draft_order):
    args = ("order-select", "--fhir-server", medplum.base_url, "--patient", "sepsis-adult")
    result = run(*args, "--draft-order", draft_order, "--token", TOKEN)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith(f"FHIR server {medplum.base_url}")
    assert "sepsis-hour-1-bundle" in result.output
    assert TOKEN not in result.output


def test_wrong_token_is_one_readable_line(run, medplum):
    args = ("patient-view", "--fhir-server", medplum.base_url, "--patient", "hfref-adult")
    result = run(*args, "--token", "not-the-token")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: The FHIR server at {medplum.base_url} refused the token (401): "
        "check --token or BEDSIDE_HOOK_TOKEN."
    ]


def test_unknown_patient_is_named(run, medplum):
    args = ("patient-view", "--fhir-server", medplum.base_url, "--patient", "nobody-here")
    result = run(*args, "--token", TOKEN)
    assert result.exit_code == 1
    assert "has no Patient 'nobody-here' (404)" in result.output
    assert "Traceback" not in result.output
