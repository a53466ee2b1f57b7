"""`bedside ledger init | verify | stats` as commands: output and exit status."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner
from flask.cli import ScriptInfo

from app.ledger.ledger_commands import init, stats, verify
from tests.ledger.helpers import fill


def invoke(command, *args: str, app=None):
    """Run a ledger command, inside a Bedside app's ScriptInfo when one is given."""
    obj = ScriptInfo(create_app=lambda: app) if app is not None else None
    return CliRunner().invoke(command, list(args), obj=obj)


def test_init_creates_the_tables_then_reports_up_to_date(db_path):
    first = invoke(init, "--database", str(db_path))
    assert first.exit_code == 0
    assert "applied m001_core_tables, m002_reporting_identities" in first.output
    assert "is up to date" in invoke(init, "--database", str(db_path)).output


def test_verify_prints_the_count_and_the_head_and_exits_0(db_path):
    fill(db_path)
    result = invoke(verify, "--database", str(db_path))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Verified 4 records; chain intact."
    assert lines[1].startswith("Head: #4 ") and len(lines[1].split()[-1]) == 64


def test_verify_names_the_first_bad_record_and_exits_1(db_path):
    fill(db_path)
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("DROP TRIGGER ledger_credits_no_update")
    connection.execute(
        "UPDATE ledger_credits SET credit_type = 'aafp-prescribed' WHERE sequence = 2"
    )
    connection.close()
    result = invoke(verify, "--database", str(db_path))
    assert result.exit_code == 1
    assert result.output.startswith("Record #2 fails: hash mismatch (stored ")


def test_verify_without_a_ledger_exits_2(tmp_path):
    result = invoke(verify, "--database", str(tmp_path / "missing.db"))
    assert result.exit_code == 2 and "No ledger database at" in result.output
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    result = invoke(verify, "--database", str(empty))
    assert result.exit_code == 2 and "run `bedside ledger init`" in result.output
    assert not (tmp_path / "missing.db").exists()  # verify never creates a database


def test_verify_reads_the_database_setting_without_building_the_app(db_path):
    fill(db_path)

    def never():
        raise AssertionError("a read command built the app (its stores create the database)")

    result = CliRunner().invoke(
        verify, [], obj=ScriptInfo(create_app=never), env={"BEDSIDE_DATABASE": str(db_path)}
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Verified 4 records")


def test_verify_with_database_works_when_the_app_cannot_load(db_path):
    fill(db_path)

    def broken():
        raise RuntimeError("configuration is broken")

    result = CliRunner().invoke(
        verify, ["--database", str(db_path)], obj=ScriptInfo(create_app=broken)
    )
    assert result.exit_code == 0, result.output


def test_stats_counts_records_and_nets_reversals(db_path):
    fill(db_path)
    result = invoke(stats, "--database", str(db_path))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "3 credit records, 1 reversal, 1 learner with credit",
        "  ama-pra-category-1: 1.00",
    ]


def test_every_command_documents_itself_with_examples():
    for command in (init, verify, stats):
        assert "Examples:" in command.help
        assert invoke(command, "--help").exit_code == 0
