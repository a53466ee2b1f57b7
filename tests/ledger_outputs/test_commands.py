"""`bedside ledger export` and `verify-badge`: output, exit status, one-line errors."""

from __future__ import annotations

import csv
import io
import json

import click
import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from app.ledger import ledger_commands
from app.ledger.ledger_commands import export_command, verify_badge_command
from app.ledger.models import ReportingIdentity
from app.ledger.outputs.pars import COLUMNS
from app.ledger.outputs.records import Window
from app.ledger.outputs.transcript import CSV_COLUMNS


def invoke(command, *args: str, app=None):
    """Run a command, inside a Bedside app's ScriptInfo (and its databases) when one is given."""
    obj = ScriptInfo(create_app=lambda: app) if app is not None else None
    env = None
    if app is not None:
        env = {"BEDSIDE_DATABASE": str(app.config["DATABASE"])}
        if app.config.get("DATABASE_URL"):
            env["BEDSIDE_DATABASE_URL"] = app.config["DATABASE_URL"]
    return CliRunner().invoke(command, list(args), obj=obj, env=env)


def test_csv_export_to_stdout_uses_the_apps_database_and_titles(outputs_app, store, world):
    result = invoke(export_command, "--format", "csv", app=outputs_app)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + store.referenced_head()
    assert rows[1][2].startswith("Atrial fibrillation")


def test_learner_and_period_filters(outputs_app, world):
    alice = world.learners["alice"]
    result = invoke(
        export_command,
        "--format",
        "csv",
        "--learner",
        alice,
        "--since",
        "2026-03-10",
        "--until",
        "2026-03-10",
        app=outputs_app,
    )
    rows = list(csv.reader(io.StringIO(result.stdout)))[1:]
    assert rows and {row[0] for row in rows} == {alice}
    later = invoke(export_command, "--format", "csv", "--since", "2026-03-12", app=outputs_app)
    assert later.stdout.strip() == ",".join(CSV_COLUMNS)


def test_xapi_export_writes_a_file_and_ndjson(outputs_app, world, tmp_path):
    target = tmp_path / "statements.json"
    result = invoke(export_command, "--format", "xapi", "-o", str(target), app=outputs_app)
    assert result.exit_code == 0, result.output
    statements = json.loads(target.read_text())
    assert statements[0]["actor"]["account"]["homePage"] == "https://bedside.test"
    assert "X-Experience-API-Version: 1.0.3" in result.stderr
    ndjson = invoke(export_command, "--format", "xapi", "--ndjson", app=outputs_app)
    assert len(ndjson.stdout.splitlines()) == len(statements)


def test_xapi_exports_name_their_version_header_and_set_no_version(outputs_app, world):
    result = invoke(export_command, "--format", "xapi", "--xapi-version", "2.0.0", app=outputs_app)
    assert result.exit_code == 0, result.output
    assert "X-Experience-API-Version: 2.0.0" in result.stderr
    statements = json.loads(result.stdout)
    assert statements and all("version" not in statement for statement in statements)
    default = invoke(export_command, "--format", "xapi", app=outputs_app)
    assert "X-Experience-API-Version: 1.0.3" in default.stderr
    assert json.loads(default.stdout) == statements


def test_an_unknown_xapi_version_is_one_sentence_and_exit_2(outputs_app, world):
    result = invoke(export_command, "--format", "xapi", "--xapi-version", "2.0", app=outputs_app)
    assert result.exit_code == 2
    assert result.output == ("Error: xAPI version '2.0' is not supported: choose 1.0.3 or 2.0.0.\n")


def test_pars_export_reports_whom_it_skipped(outputs_app, world):
    result = invoke(export_command, "--format", "pars", app=outputs_app)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "\t".join(COLUMNS)
    assert "1 learner skipped: no consent to share" in result.stderr
    assert "skipped: no month/day of birth" not in result.stderr
    separate = invoke(export_command, "--format", "pars", "--separate-poc", app=outputs_app)
    assert "bedside-internet-poc" not in separate.stdout


def test_pars_export_says_who_was_skipped_for_no_month_day_of_birth(outputs_app, store, world):
    identity = ReportingIdentity("Carol", "Li", board_id="ABP-7")
    store.set_reporting_identity(world.learners["carol"], identity)
    result = invoke(export_command, "--format", "pars", app=outputs_app)
    assert result.exit_code == 0 and "Carol" not in result.stdout
    assert "1 learner skipped: no month/day of birth (PARS requires it)" in result.stderr
    assert "no registered PARS activity ID for bedside-internet-poc" in result.stderr


def test_badge_export_then_verify_badge(outputs_app, world, tmp_path):
    target = tmp_path / "out" / "badges.jwt"
    target.parent.mkdir()
    result = invoke(export_command, "--format", "badge", "-o", str(target), app=outputs_app)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "issuer-jwks.json").is_file()
    assert "Signed 11 Open Badges 3.0 credentials" in result.stderr
    verified = invoke(verify_badge_command, str(target), app=outputs_app)  # its own list, locally
    assert verified.exit_code == 0, verified.output
    lines = verified.output.splitlines()
    assert len(lines) == 11 and all(line.startswith("Badge ") for line in lines)
    one = tmp_path / "out" / "one.jwt"
    one.write_text(target.read_text().splitlines()[0] + "\n")
    single = invoke(verify_badge_command, str(one), app=outputs_app)
    assert single.exit_code == 0 and single.output.startswith("Valid Open Badge ")


def test_verify_badge_exits_1_on_a_tampered_badge(outputs_app, world, tmp_path):
    target = tmp_path / "badges.jwt"
    invoke(export_command, "--format", "badge", "-o", str(target), app=outputs_app)
    header, payload, signature = target.read_text().splitlines()[0].split(".")
    tampered = tmp_path / "tampered.jwt"
    tampered.write_text(f"{header}.{payload[:-4]}AAAA.{signature}\n")
    result = invoke(
        verify_badge_command, str(tampered), "--jwks", str(tmp_path / "issuer-jwks.json")
    )
    assert result.exit_code == 1
    assert result.output.startswith("Invalid badge: ") and len(result.output.splitlines()) == 1


def test_verify_badge_exits_2_when_files_are_missing(tmp_path):
    missing = invoke(verify_badge_command, str(tmp_path / "none.jwt"))
    assert missing.exit_code == 2 and "Cannot read" in missing.output
    badge = tmp_path / "b.jwt"
    badge.write_text("a.b.c\n")
    no_keys = invoke(verify_badge_command, str(badge))
    assert no_keys.exit_code == 2 and "No public keys at" in no_keys.output
    (tmp_path / "issuer-jwks.json").write_text("[]")
    bad_keys = invoke(verify_badge_command, str(badge))
    assert bad_keys.exit_code == 2 and "is not a JWKS" in bad_keys.output
    assert "Traceback" not in no_keys.output + bad_keys.output + missing.output


def test_export_errors_are_one_line(ledger_file, world, tmp_path):
    no_ledger = invoke(export_command, "--format", "csv", "--database", str(tmp_path / "x.db"))
    assert no_ledger.exit_code == 2 and "No ledger database" in no_ledger.output
    no_url = invoke(export_command, "--format", "xapi", "--database", str(ledger_file))
    assert no_url.exit_code == 1
    assert no_url.output.strip().endswith("set BEDSIDE_PUBLIC_BASE_URL or give --base-url.")
    backwards = invoke(
        export_command,
        "--format",
        "csv",
        "--database",
        str(ledger_file),
        "--since",
        "2026-03-10",
        "--until",
        "2026-03-01",
    )
    assert backwards.exit_code == 1 and "--until is before --since" in backwards.output
    no_app = invoke(
        export_command,
        "--format",
        "badge",
        "--database",
        str(ledger_file),
        "--base-url",
        "https://x.test",
    )
    assert no_app.exit_code == 1 and "issuer key" in no_app.output
    for result in (no_ledger, no_url, backwards, no_app):
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_csv_and_pars_work_from_a_database_copy_without_an_app(ledger_file, world):
    result = invoke(export_command, "--format", "pars", "--database", str(ledger_file))
    assert result.exit_code == 0 and "Alice" in result.stdout
    xapi = invoke(
        export_command,
        "--format",
        "xapi",
        "--database",
        str(ledger_file),
        "--base-url",
        "https://x.test",
    )
    assert xapi.exit_code == 0 and "case:af-anticoagulation@1.2.0" in xapi.stdout


class FakeTerminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        """Pretend to be a terminal."""
        return True


@pytest.mark.parametrize(("threshold", "shown"), [(1, True), (1_000, False)])
def test_a_progress_bar_shows_on_a_terminal_for_long_exports(
    store, world, monkeypatch, threshold, shown
):
    terminal = FakeTerminal()
    monkeypatch.setattr(ledger_commands, "PROGRESS_THRESHOLD", threshold)
    monkeypatch.setattr(ledger_commands.sys, "stderr", terminal)
    with click.Context(export_command):
        records = ledger_commands.select_records(store, Window(), None)
    assert len(records) == store.referenced_head()
    assert ("Reading the ledger" in terminal.getvalue()) is shown


def test_every_command_documents_itself_with_examples():
    for command in (export_command, verify_badge_command):
        assert "Examples:" in command.help
        assert invoke(command, "--help").exit_code == 0
