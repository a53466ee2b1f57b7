"""Signed checkpoints catch what the chain alone cannot: a cut tail and a re-sealed chain.

Each attack below passes `bedside ledger verify` without a checkpoint (the chain links up), and
fails with the checkpoint an auditor kept; SQLite's own checks catch a damaged file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest
from joserfc.jwk import ECKey

from app.ledger.chain import GENESIS, CreditRecord, compute_hash
from app.ledger.checkpoints import KEY_FILE, PUBLIC_KEY_FILE
from app.ledger.ledger_commands import checkpoint_command, verify
from app.ledger.store import COLUMNS, SqlLedgerStore, ledger_database
from tests.ledger.helpers import ISSUER, KEY, award, request


@pytest.fixture
def kept(ledger, cli_app, tmp_path):
    """The checkpoint an auditor took of the ledger, kept in their own folder."""
    audit = tmp_path / "audit"
    audit.mkdir()
    result = cli_app(checkpoint_command, "--database", str(ledger), "-o", str(audit / "cp.jws"))
    assert result.exit_code == 0, result.output
    return audit / "cp.jws"


def verify_with(cli_app, ledger, checkpoint=None):
    """Run `bedside ledger verify`, with the kept checkpoint when given."""
    extra = ["--checkpoint", str(checkpoint)] if checkpoint else []
    return cli_app(verify, "--database", str(ledger), *extra)


def edit(path, *statements: str, parameters=()) -> None:
    """Change the file directly, as someone with write access to it would."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for trigger in ("credits", "submissions"):
            connection.execute(f"DROP TRIGGER IF EXISTS ledger_{trigger}_no_update")
            connection.execute(f"DROP TRIGGER IF EXISTS ledger_{trigger}_no_delete")
        for statement in statements:
            connection.execute(statement)
        for statement, values in parameters:
            connection.executemany(statement, values)
    finally:
        connection.close()


def reseal(path, sequence: int, amount_hundredths: int) -> None:
    """Edit one record's amount, then recompute every hash from it to the head."""
    connection = sqlite3.connect(path)
    rows = connection.execute(f"SELECT {COLUMNS} FROM ledger_credits ORDER BY sequence")
    records = [CreditRecord(*row) for row in rows]
    connection.close()
    updates, prev_hash = [], GENESIS
    for record in records:
        fields = record.hashed_fields()
        if record.sequence == sequence:
            fields["amount_hundredths"] = amount_hundredths
        record_hash = compute_hash(prev_hash, fields)
        updates.append((fields["amount_hundredths"], prev_hash, record_hash, record.sequence))
        prev_hash = record_hash
    edit(
        path,
        parameters=[
            (
                "UPDATE ledger_credits SET amount_hundredths = ?, prev_hash = ?, record_hash = ? "
                "WHERE sequence = ?",
                updates,
            )
        ],
    )


def flip_in_index(path, index: str, old: bytes, new: bytes) -> None:
    """Overwrite bytes inside one index's root page only (the table's copy stays)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    root = connection.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = ?", (index,)
    ).fetchone()[0]
    connection.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    page = bytes(data[start : start + page_size])
    assert page.count(old) == 1
    data[start : start + page_size] = page.replace(old, new)
    path.write_bytes(bytes(data))


def test_a_clean_ledger_matches_its_checkpoint(cli_app, ledger, kept):
    result = verify_with(cli_app, ledger, kept)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Verified 10 records; chain intact."
    assert lines[2].startswith("Checkpoint #10 of ") and lines[2].endswith(" matches.")


def test_records_added_after_the_checkpoint_still_match(cli_app, ledger, kept):
    store = SqlLedgerStore(ledger_database(ledger), KEY)
    try:
        learner = store.ensure_learner(ISSUER, "Practitioner/2")
        store.append_credit(request(learner, 20), [award()], "after-the-checkpoint")
    finally:
        store.close()
    result = verify_with(cli_app, ledger, kept)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Verified 11 records")


def test_a_tail_cut_with_its_submissions_fails_only_with_the_checkpoint(cli_app, ledger, kept):
    edit(
        ledger,
        "DELETE FROM ledger_credits WHERE sequence >= 8",
        "DELETE FROM ledger_submissions WHERE last_sequence >= 8",
    )
    assert verify_with(cli_app, ledger).exit_code == 0  # the chain alone links up
    result = verify_with(cli_app, ledger, kept)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].endswith(
        "fails: the chain no longer reaches record #10 (truncated)."
    )


def test_a_resealed_chain_fails_only_with_the_checkpoint(cli_app, ledger, kept):
    reseal(ledger, sequence=6, amount_hundredths=2500)
    assert verify_with(cli_app, ledger).exit_code == 0  # every hash recomputed
    result = verify_with(cli_app, ledger, kept)
    assert result.exit_code == 1
    assert "the chain was rewritten" in result.output.splitlines()[-1]


def test_a_byte_flipped_in_an_index_is_reported_as_corruption(cli_app, ledger, kept):
    flip_in_index(
        ledger,
        "idx_ledger_credits_learner_id_activity_key",
        b"case:module-7@1.0.0",
        b"case:module-7@1.0.9",
    )
    for checkpoint in (None, kept):
        result = verify_with(cli_app, ledger, checkpoint)
        assert result.exit_code == 1
        assert result.output.startswith("The ledger file fails: SQLite reports the file corrupt")


def test_a_credit_of_a_deleted_learner_is_reported(cli_app, ledger):
    edit(ledger, "DELETE FROM ledger_learners")
    result = verify_with(cli_app, ledger)
    assert result.exit_code == 1
    assert "refers to a missing ledger_learners row" in result.output


def test_a_checkpoint_signed_with_another_key_fails(cli_app, ledger, kept, tmp_path):
    other = json.loads((kept.parent / PUBLIC_KEY_FILE).read_text())
    forged_key = tmp_path / "forger-key.json"
    public = ECKey.generate_key("P-256").as_dict(private=False)
    other["keys"][0].update({k: public[k] for k in ("x", "y")})
    forged_key.write_text(json.dumps(other))
    result = cli_app(
        verify,
        "--database",
        str(ledger),
        "--checkpoint",
        str(kept),
        "--checkpoint-key",
        str(forged_key),
    )
    assert result.exit_code == 1
    assert (
        result.output
        == f"Checkpoint {kept} fails: its signature does not verify (bad_signature).\n"
    )


def test_a_checkpoint_with_an_edited_statement_fails(cli_app, ledger, kept):
    header, payload, signature = kept.read_text().strip().split(".")
    kept.write_text(f"{header}.{payload[:-2]}AA.{signature}\n")
    result = verify_with(cli_app, ledger, kept)
    assert result.exit_code == 1 and "its signature does not verify" in result.output


def test_a_missing_checkpoint_key_is_a_usage_error(cli_app, ledger, kept):
    (kept.parent / PUBLIC_KEY_FILE).unlink()
    result = verify_with(cli_app, ledger, kept)
    assert result.exit_code == 2 and "give --checkpoint-key FILE" in result.output


def test_a_broken_chain_is_not_signed(cli_app, ledger, tmp_path):
    edit(ledger, "UPDATE ledger_credits SET amount_hundredths = 500 WHERE sequence = 3")
    target = tmp_path / "cp.jws"
    result = cli_app(checkpoint_command, "--database", str(ledger), "-o", str(target))
    assert result.exit_code == 1
    assert result.output.startswith("Error: Not signed: Record #3 fails: hash mismatch")
    assert not target.exists()


def test_the_signing_key_is_private_and_only_the_public_key_is_exported(app, cli_app, kept):
    key_file = os.path.join(app.instance_path, KEY_FILE)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    result = cli_app(checkpoint_command, "--public-key")
    exported = json.loads(result.output)
    assert exported == json.loads((kept.parent / PUBLIC_KEY_FILE).read_text())
    assert "d" not in exported["keys"][0] and exported["keys"][0]["crv"] == "P-256"
