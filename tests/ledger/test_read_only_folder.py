"""A ledger in a folder Bedside may not write (an archived copy) is read, not called damaged."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.ledger.store import SqlLedgerStore, ledger_database
from tests.ledger.folders import folder_sentence, unwritable
from tests.ledger.helpers import ISSUER, KEY, award, fill, request

READ_COMMANDS = {
    "verify": (["ledger", "verify"], "Verified 10 records; chain intact."),
    "stats": (["ledger", "stats"], "9 credit records, 1 reversal, 1 learner with credit"),
    "export": (["ledger", "export", "--format", "csv"], "learner_id,date,activity,"),
}


def run(args: list[str], tmp_path: Path):
    """Run `bedside …` in-process; the app's own database is a file that does not exist."""
    return CliRunner().invoke(cli, args, env={"BEDSIDE_DATABASE": str(tmp_path / "none.db")})


def ledger_with_records_in_its_wal(folder: Path, *, with_shm: bool) -> Path:
    """Copy a ledger whose last 3 records are still in its -wal file (not yet checkpointed)."""
    live = folder.parent / "live" / "ledger.db"
    live.parent.mkdir()
    fill(live, count=9)
    reader = sqlite3.connect(live)  # open: closing the store below leaves the -wal as it is
    reader.execute("SELECT count(*) FROM ledger_credits").fetchone()
    store = SqlLedgerStore(ledger_database(live), KEY)
    try:
        learner = store.ensure_learner(ISSUER, "Practitioner/1")
        for number in range(10, 13):
            store.append_credit(request(learner, number), [award("0.50")], f"key-{number}")
    finally:
        store.close()
    suffixes = ("", "-wal", "-shm") if with_shm else ("", "-wal")
    for suffix in suffixes:
        shutil.copy(f"{live}{suffix}", folder / f"ledger.db{suffix}")
    reader.close()
    return folder / "ledger.db"


def assert_one_sentence(result, exit_code: int, sentence: str) -> None:
    """The command failed with this status and printed exactly this `Error:` line."""
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    assert result.output == f"Error: {sentence}\n"


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_an_archived_ledger_in_a_read_only_folder_reads_as_intact(tmp_path, command):
    archive = tmp_path / "archive"
    archive.mkdir()
    fill(archive / "ledger.db", count=9)
    before = sorted(archive.iterdir())
    args, first_line = READ_COMMANDS[command]
    with unwritable(archive):
        result = run([*args, "--database", str(archive / "ledger.db")], tmp_path)
        assert sorted(archive.iterdir()) == before
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith(first_line)


def test_records_still_in_the_wal_are_read_in_a_read_only_folder(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    ledger = ledger_with_records_in_its_wal(archive, with_shm=True)
    with unwritable(archive):
        result = run(["ledger", "verify", "--database", str(ledger)], tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Verified 13 records; chain intact.")


def test_a_wal_without_its_shm_in_a_read_only_folder_is_not_called_damaged(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    ledger = ledger_with_records_in_its_wal(archive, with_shm=False)
    with unwritable(archive):
        result = run(["ledger", "verify", "--database", str(ledger)], tmp_path)
    assert_one_sentence(result, 1, folder_sentence(ledger))
