"""`bedside hook`: the real engine against a real loopback FHIR server, from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app import create_app
from app.db import close_stores
from app.devtools.fhir_server import FixtureFhirServer
from app.settings import REPO_ROOT
from cds_hooks.hook_cli import hook_command
from tests.cds_hooks.hook_requests import CEFTRIAXONE, draft_medication

TOKEN = "t0k"
PATIENTS_DIR = REPO_ROOT / "fhir_fixtures" / "patients"
DRAFT_ORDERS_DIR = REPO_ROOT / "fhir_fixtures" / "draft_orders"
SEPSIS_MODULE = "sepsis-hour-1-bundle"
HFREF_MODULE = "hfref-gdmt"


@pytest.fixture(scope="module")
def fhir_server():
    """The fixture patients on a loopback FHIR server that requires TOKEN."""
    with FixtureFhirServer(PATIENTS_DIR, token=TOKEN, now=datetime.now(UTC)) as server:
        yield server


@pytest.fixture
def hook_app(instance_path):
    """A test app with its own database (CDS auth off: the CLI never goes over HTTP)."""
    config = {
        "TESTING": True,
        "DATABASE": str(instance_path / "db"),
        "CDS_AUTH": "off",
        "FHIR_INSECURE_HOSTS": "127.0.0.1",  # the fixture FHIR server is plain http on loopback
    }
    app = create_app(config, instance_path=instance_path)
    yield app
    close_stores(app)


@pytest.fixture
def draft_order(tmp_path):
    """A ceftriaxone draft order file, as informatics staff would write it."""
    path = tmp_path / "ceftriaxone.json"
    order = draft_medication("sepsis-adult", CEFTRIAXONE)
    del order["status"], order["subject"]  # the command fills these in
    path.write_text(json.dumps(order))
    return path


@pytest.fixture
def run(hook_app):
    """Invoke `bedside hook` with the given arguments through the Flask CLI runner."""

    def invoke(*args: object, env: dict | None = None):
        runner = hook_app.test_cli_runner()
        return runner.invoke(hook_command, [str(arg) for arg in args], env=env)

    return invoke


def sepsis_args(server, draft_order, *extra):
    """order-select for the sepsis patient with the drafted ceftriaxone."""
    return (
        "order-select",
        *("--fhir-server", server.base_url, "--patient", "sepsis-adult"),
        *("--draft-order", draft_order, "--token", TOKEN, *extra),
    )


def test_order_select_shows_the_sepsis_card_as_a_table(run, fhir_server, draft_order):
    seen_before = len(fhir_server.requests_seen)
    result = run(*sepsis_args(fhir_server, draft_order))
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0]
    assert (
        header == f"Hook order-select | patient sepsis-adult | FHIR server {fhir_server.base_url}"
    )
    assert "matched; showing" in result.output
    for label in ("Indicator", "Summary", "Module", "Source", "Why", "Suggestions", "Links"):
        assert f"\n  {label} " in result.output
    assert SEPSIS_MODULE in result.output
    words = " ".join(result.output.split())
    assert "Draft order: ceftriaxone 1000 MG Injection (RxNorm 1665021)" in words  # why-line
    assert "**" not in result.output and "\\" not in result.output  # Markdown is unwrapped
    fetched = fhir_server.requests_seen[seen_before:]
    assert fetched and all(had_token for _, _, had_token in fetched)
    assert TOKEN not in result.output


def test_json_prints_the_raw_response_body(run, hook_app, fhir_server, draft_order):
    result = run(*sepsis_args(fhir_server, draft_order, "--json"))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    modules = [json.loads(card["links"][0]["appContext"])["module"] for card in body["cards"]]
    assert SEPSIS_MODULE in modules
    store = hook_app.extensions["cds"].engine.store
    assert all(store.exposure(card["uuid"]) is None for card in body["cards"])  # nothing stored
    assert body["cards"][0]["links"][0]["url"] == "http://127.0.0.1:8000/launch.html"
    assert TOKEN not in result.output


def test_the_token_can_come_from_the_environment(run, fhir_server, draft_order):
    args = [arg for arg in sepsis_args(fhir_server, draft_order) if arg not in ("--token", TOKEN)]
    result = run(*args, env={"BEDSIDE_HOOK_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert SEPSIS_MODULE in result.output
    assert TOKEN not in result.output


def test_patient_view_shows_the_hfref_card_every_time(run, fhir_server):
    args = ("patient-view", "--fhir-server", fhir_server.base_url, "--patient", "hfref-adult")
    first = run(*args, "--token", TOKEN)
    again = run(*args, "--token", TOKEN)
    assert first.exit_code == again.exit_code == 0, first.output
    assert HFREF_MODULE in first.output
    assert HFREF_MODULE in again.output  # nothing remembered: no fatigue rules between runs


def test_max_cards_caps_this_run(run, fhir_server, draft_order):
    result = run(*sepsis_args(fhir_server, draft_order, "--max-cards", "0"))
    assert result.exit_code == 0, result.output
    assert "showing 0 (cap 0)" in result.output
    assert "No cards shown" in result.output


def test_no_match_says_so_plainly(run, fhir_server):
    args = ("patient-view", "--fhir-server", fhir_server.base_url, "--patient", "uri-child")
    result = run(*args, "--token", TOKEN)
    assert result.exit_code == 0, result.output
    assert "0 modules matched" in result.output
    assert "No cards: nothing in this patient's data matched a module's triggers." in result.output


def test_spanish_cards(run, fhir_server, draft_order):
    english = run(*sepsis_args(fhir_server, draft_order, "--json"))
    spanish = run(*sepsis_args(fhir_server, draft_order, "--json", "--lang", "es"))
    card_en = json.loads(english.stdout)["cards"][0]
    card_es = json.loads(spanish.stdout)["cards"][0]
    assert card_es["links"][0]["label"] == "Abrir el caso breve en Bedside (CME)"
    assert card_es["summary"] != card_en["summary"]
    table = run(*sepsis_args(fhir_server, draft_order, "--lang", "es"))
    assert "Abrir el caso breve en Bedside (CME)" in table.output


def test_wrong_token_is_one_readable_line(run, fhir_server, draft_order):
    args = [
        arg if arg != TOKEN else "not-the-token" for arg in sepsis_args(fhir_server, draft_order)
    ]
    result = run(*args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: The FHIR server at {fhir_server.base_url} refused the token (401): "
        "check --token or BEDSIDE_HOOK_TOKEN."
    ]
    assert "not-the-token" not in result.output


def test_missing_token_says_one_is_needed(run, fhir_server):
    args = ("patient-view", "--fhir-server", fhir_server.base_url, "--patient", "hfref-adult")
    result = run(*args)
    assert result.exit_code == 1
    assert "requires a token (401)" in result.output
    assert "Traceback" not in result.output


def test_unknown_patient_is_named(run, fhir_server):
    args = ("patient-view", "--fhir-server", fhir_server.base_url, "--patient", "nobody-here")
    result = run(*args, "--token", TOKEN)
    assert result.exit_code == 1
    assert "has no Patient 'nobody-here' (404)" in result.output


def test_server_down_is_one_readable_line(run, draft_order):
    with FixtureFhirServer(PATIENTS_DIR) as server:
        base_url = server.base_url
    result = run("patient-view", "--fhir-server", base_url, "--patient", "hfref-adult")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: The FHIR server at {base_url} cannot be reached")
    assert len(result.output.strip().splitlines()) == 1


def test_plain_http_to_a_remote_host_is_refused(run):
    args = ("patient-view", "--fhir-server", "http://fhir.example.org/r4", "--patient", "p1")
    result = run(*args)
    assert result.exit_code == 2
    assert "must be https" in result.output


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_order_hooks_need_a_draft_order(run, fhir_server, hook):
    result = run(hook, "--fhir-server", fhir_server.base_url, "--patient", "sepsis-adult")
    assert result.exit_code == 2
    assert f"{hook} needs at least one --draft-order FILE" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read (No such file or directory)"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "is not a FHIR resource"),
        ('{"code": "1665021"}', "is not a FHIR resource"),
        ('{"resourceType": "Patient", "id": "x"}', "holds Patient, not draft orders"),
        ('{"resourceType": "Bundle", "entry": []}', "holds Bundle, not draft orders"),
        ('{"resourceType": "Bundle", "entry": ["x"]}', "holds Bundle, not draft orders"),
        ('{"resourceType": "Bundle", "entry": 5}', "holds Bundle, not draft orders"),
        (
            '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": ["x"]}}]}',
            "holds Bundle, not draft orders",
        ),
    ],
)
def test_bad_draft_order_file_is_one_readable_line(run, fhir_server, tmp_path, content, message):
    path = tmp_path / "order.json"
    if content is not None:
        path.write_text(content)
    result = run(*sepsis_args(fhir_server, path))
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[" + "1" * 5_000 + "]", "(a number has more than 4,300 digits)"),
        ("[" * 100_000 + "]" * 100_000, "(arrays or objects nested too deeply)"),
    ],
    ids=["a-5000-digit-number", "arrays-nested-100000-deep"],
)
def test_a_draft_order_python_cannot_parse_is_not_valid_json_in_one_line(
    run, fhir_server, tmp_path, content, reason
):
    path = tmp_path / "big.json"
    path.write_text(content)
    result = run(*sepsis_args(fhir_server, path))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: Draft order file {path} is not valid JSON {reason}")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_bundle_of_draft_orders_is_read(run, fhir_server, tmp_path):
    path = tmp_path / "order-set.json"
    orders = [json.loads((DRAFT_ORDERS_DIR / "ceftriaxone.json").read_text())]
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": orders[0]}]}))
    result = run(*sepsis_args(fhir_server, path))
    assert result.exit_code == 0, result.output
    assert SEPSIS_MODULE in result.output


def test_a_drafted_blood_culture_silences_the_sepsis_card(run, fhir_server):
    ceftriaxone = DRAFT_ORDERS_DIR / "ceftriaxone.json"
    cultures = ("--draft-order", DRAFT_ORDERS_DIR / "blood-culture.json")
    alone = run(*sepsis_args(fhir_server, ceftriaxone))
    together = run(*sepsis_args(fhir_server, ceftriaxone, *cultures))
    assert SEPSIS_MODULE in alone.output
    assert together.exit_code == 0, together.output
    assert SEPSIS_MODULE not in together.output


def test_help_has_examples(run):
    result = run("--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "BEDSIDE_HOOK_TOKEN=... bedside hook patient-view" in result.output
    assert "https://launch.smarthealthit.org/v/r4/fhir" in result.output
    assert "--draft-order" in result.output
