"""Read commands on a missing, damaged or locked ledger: one sentence, a non-zero exit, no file."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.ledger.ledger_commands import READ_BUSY_SECONDS
from tests.ledger.helpers import fill

READ_COMMANDS = {
    "verify": ["ledger", "verify"],
    "stats": ["ledger", "stats"],
    "export": ["ledger", "export", "--format", "csv"],
}


def run(args: list[str], **env: str):
    """Run `bedside …` in-process with these BEDSIDE_* variables."""
    return CliRunner().invoke(cli, args, env=env)


def assert_one_sentence(result, exit_code: int, *fragments: str) -> None:
    """The command failed with this status and said so in one `Error:` line, no traceback."""
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def ledger(tmp_path):
    """A real ledger file with every record checkpointed into the main file."""
    path = tmp_path / "ledger.db"
    fill(path, count=40)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_a_missing_configured_database_is_reported_and_not_created(tmp_path, command):
    missing = tmp_path / "nowhere" / "bedside.db"
    result = run(READ_COMMANDS[command], BEDSIDE_DATABASE=str(missing))
    assert_one_sentence(result, 2, "No ledger database at", str(missing))
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_a_missing_database_option_is_reported_and_not_created(tmp_path, command):
    missing = tmp_path / "missing.db"
    result = run([*READ_COMMANDS[command], "--database", str(missing)])
    assert_one_sentence(result, 2, "No ledger database at")
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_a_file_of_random_bytes_is_called_damaged(tmp_path, command):
    noise = tmp_path / "noise.db"
    noise.write_bytes(os.urandom(64 * 1024))
    result = run([*READ_COMMANDS[command], "--database", str(noise)])
    assert_one_sentence(result, 1, "cannot be read", "damaged")


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_a_truncated_ledger_is_called_damaged(ledger, command):
    ledger.write_bytes(ledger.read_bytes()[: 2 * 4096])
    result = run([*READ_COMMANDS[command], "--database", str(ledger)])
    assert_one_sentence(result, 1, "cannot be read", "damaged")


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_a_locked_ledger_is_called_busy_after_a_short_wait(ledger, command):
    holder = sqlite3.connect(ledger, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        result = run([*READ_COMMANDS[command], "--database", str(ledger)])
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_sentence(result, 3, "is busy", "locked")
    assert waited < READ_BUSY_SECONDS + 3


def test_the_same_ledger_reads_once_the_lock_is_gone(ledger):
    result = run(["ledger", "verify", "--database", str(ledger)])
    assert result.exit_code == 0 and result.output.startswith("Verified 41 records")
