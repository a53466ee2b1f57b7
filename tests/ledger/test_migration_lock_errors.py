"""Commands that migrate say in one sentence when the migration lock file cannot be created."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.config import INSTANCE_KEYS
from tests.ledger.folders import unwritable


def run(args: list[str], **env: str):
    """Run `bedside …` in-process with these BEDSIDE_* variables."""
    return CliRunner().invoke(cli, args, env=env)


def lock_sentence(lock, why: str) -> str:
    """What a command says when `<database>.lock` cannot be created."""
    return (
        f"Error: Bedside cannot create the lock file {lock} ({why}): it must be in a folder "
        "Bedside may write to, and nothing else may have its name.\n"
    )


def assert_said(result, output: str, exit_code: int = 1) -> None:
    """The command printed exactly this, exited so, and printed no traceback."""
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.output == output


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (["ledger", "init", "--database", "{database}"], 1),
        (["db", "migrate", "--database-url", "sqlite:///{database}"], 1),
        (["routes"], 2),  # any command that builds the app (its stores migrate): a config error
    ],
    ids=["ledger init", "db migrate", "app start"],
)
def test_a_folder_in_the_way_of_the_lock_file_is_one_sentence(tmp_path, args, exit_code):
    database = tmp_path / "bedside.db"
    lock = tmp_path / "bedside.db.lock"
    lock.mkdir()
    keys = {f"BEDSIDE_{name}": "k" * 64 for name in INSTANCE_KEYS}  # no key files written
    command = [arg.format(database=database) for arg in args]
    result = run(command, BEDSIDE_DATABASE=str(database), **keys)
    assert_said(result, lock_sentence(lock, "Is a directory"), exit_code)


def test_ledger_init_in_a_folder_bedside_may_not_write_is_one_sentence(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    database = folder / "bedside.db"
    with unwritable(folder) as why:
        result = run(["ledger", "init", "--database", str(database)])
    assert_said(result, lock_sentence(folder / "bedside.db.lock", why))
