"""Bad input to `bedside ledger checkpoint | verify | export`: one sentence, never a traceback."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from joserfc import jws

from app.ledger.checkpoints import ALGORITHM, TYPE, checkpoint_key
from app.ledger.ledger_commands import checkpoint_command, export_command, init, verify
from tests.ledger.test_command_failures import assert_one_sentence


@pytest.fixture
def kept(ledger, cli_app, tmp_path):
    """A checkpoint of the ledger, with its public key next to it."""
    (tmp_path / "audit").mkdir()
    target = tmp_path / "audit" / "cp.jws"
    result = cli_app(checkpoint_command, "--database", str(ledger), "-o", str(target))
    assert result.exit_code == 0, result.output
    return target


def test_a_checkpoint_into_a_missing_folder_is_one_sentence(cli_app, ledger, tmp_path):
    target = tmp_path / "nodir" / "cp.jws"
    result = cli_app(checkpoint_command, "--database", str(ledger), "-o", str(target))
    assert_one_sentence(result, 1, f"Cannot write {target}: No such file or directory.")
    assert not (tmp_path / "nodir").exists()


def test_a_public_key_into_a_missing_folder_is_one_sentence(cli_app, tmp_path):
    target = tmp_path / "nodir" / "key.json"
    result = cli_app(checkpoint_command, "--public-key", "-o", str(target))
    assert_one_sentence(result, 1, f"Cannot write {target}: No such file or directory.")


def test_an_export_under_a_file_is_one_sentence(cli_app, ledger, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / "credits.csv"
    result = cli_app(
        export_command, "--format", "csv", "--database", str(ledger), "-o", str(target)
    )
    assert_one_sentence(result, 1, f"Cannot write {target}: Not a directory.")


def test_until_the_last_representable_day_means_no_end(cli_app, ledger):
    result = cli_app(
        export_command, "--format", "csv", "--database", str(ledger), "--until", "9999-12-31"
    )
    everything = cli_app(export_command, "--format", "csv", "--database", str(ledger))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert len(rows) == 1 + 10 and result.output == everything.output


def signed_statement(app, statement: dict) -> str:
    """A checkpoint JWS signed with the instance's real key over any statement."""
    key = checkpoint_key(app.instance_path)
    header = {"alg": ALGORITHM, "kid": key.thumbprint(), "typ": TYPE}
    return jws.serialize_compact(header, json.dumps(statement).encode(), key, [ALGORITHM])


@pytest.mark.parametrize(
    "sequence",
    ["5", 10**400, -1, 2**63, 5.0, True],
    ids=["text", "400 digits", "negative", "past SQLite", "float", "boolean"],
)
def test_a_signed_checkpoint_with_a_bad_sequence_fails_in_words(
    app, cli_app, ledger, kept, sequence
):
    statement = json.loads(jws.extract_compact(kept.read_text().strip().encode()).payload)
    kept.write_text(signed_statement(app, statement | {"sequence": sequence}) + "\n")
    result = cli_app(verify, "--database", str(ledger), "--checkpoint", str(kept))
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"Checkpoint {kept} fails: its sequence is not a whole number from 0 to {2**63 - 1}.\n"
    )


def test_a_signed_checkpoint_with_a_hash_that_is_not_text_fails_in_words(
    app, cli_app, ledger, kept
):
    statement = json.loads(jws.extract_compact(kept.read_text().strip().encode()).payload)
    kept.write_text(signed_statement(app, statement | {"head_hash": ["a"]}) + "\n")
    result = cli_app(verify, "--database", str(ledger), "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert result.output == f"Checkpoint {kept} fails: its head hash and time are not both text.\n"


def test_init_on_a_file_that_is_not_a_database_is_one_sentence(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n")
    result = CliRunner().invoke(init, ["--database", str(path)])
    assert_one_sentence(result, 1, f"The database file {path} cannot be opened (file is not a")
