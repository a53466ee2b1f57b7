"""The hash chain: intact chains verify; edits made directly to the SQLite file are caught."""

from __future__ import annotations

import sqlite3
from itertools import pairwise

import pytest

from app.ledger.chain import (
    GENESIS,
    canonical_json,
    compute_hash,
    seal,
    seal_text,
    text_before_sequence,
)
from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from tests.ledger.helpers import KEY, award, request


@pytest.fixture
def chain(store, learner, db_path):
    """Ten records (one reversal among them); return the path with every connection closed."""
    for number in range(1, 10):
        store.append_credit(request(learner, number), [award()], f"key-{number}")
    store.append_reversal(4, "recorded in error", "key-reversal")
    store.close()
    return db_path


def tamper(path, *statements: str) -> None:
    """Edit the database directly, the way someone bypassing Bedside would."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("DROP TRIGGER ledger_credits_no_update")
        connection.execute("DROP TRIGGER ledger_credits_no_delete")
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def verify(path):
    """Verify the chain in a file."""
    store = SqlLedgerStore(ledger_database(path), None, migrate=False)
    try:
        return verify_chain(store)
    finally:
        store.close()


def test_canonical_json_is_sorted_compact_and_keeps_unicode():
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_a_record_sealed_from_its_text_before_the_sequence_is_the_record_sealed_whole(chain):
    store = SqlLedgerStore(ledger_database(chain), None, migrate=False)
    try:
        record = next(store.iter_chain())
    finally:
        store.close()
    fields = record.hashed_fields()
    fields.update(evidence=canonical_json({"nota": "Ñandú, 30 µg — «bien» ✓", "n": 10**12}))
    fields.pop("sequence")
    for sequence in (1, 9, 10, 12345678901):
        whole = seal(record.prev_hash, **fields, sequence=sequence)
        made = seal_text(record.prev_hash, text_before_sequence(fields), sequence, **fields)
        assert made == whole


def test_each_hash_covers_the_previous_hash_and_the_fields(chain):
    store = SqlLedgerStore(ledger_database(chain), None, migrate=False)
    try:
        records = list(store.iter_chain())
    finally:
        store.close()
    assert records[0].prev_hash == GENESIS
    for previous, record in pairwise(records):
        assert record.prev_hash == previous.record_hash
        assert record.record_hash == compute_hash(previous.record_hash, record.hashed_fields())


def test_an_intact_chain_verifies(chain):
    report = verify(chain)
    assert report.ok and report.checked == 10 and report.first_bad is None
    assert report.summary() == "Verified 10 records; chain intact."


def test_an_empty_ledger_verifies(store):
    report = verify_chain(store)
    assert (report.ok, report.checked, report.head_hash) == (True, 0, GENESIS)


def test_an_amount_edited_in_the_file_is_caught_at_that_record(chain):
    tamper(chain, "UPDATE ledger_credits SET amount_hundredths = 500 WHERE sequence = 6")
    report = verify(chain)
    assert not report.ok and report.checked == 5
    assert report.first_bad[0] == 6
    assert report.summary().startswith("Record #6 fails: hash mismatch (stored ")


def test_a_deleted_record_is_caught_as_a_gap(chain):
    tamper(chain, "DELETE FROM ledger_credits WHERE sequence = 3")
    report = verify(chain)
    assert report.first_bad == (3, "sequence gap (found #4 where #3 belongs)")


def test_a_truncated_tail_is_caught_by_the_submissions_that_refer_to_it(chain):
    tamper(chain, "DELETE FROM ledger_credits WHERE sequence >= 9")
    report = verify(chain)
    assert report.first_bad[0] == 9
    assert "chain truncated" in report.first_bad[1]


def test_a_record_rehashed_alone_breaks_the_next_link(chain):
    store = SqlLedgerStore(ledger_database(chain), None, migrate=False)
    try:
        record = next(r for r in store.iter_chain() if r.sequence == 5)
    finally:
        store.close()
    fields = record.hashed_fields() | {"amount_hundredths": 2500}
    forged = compute_hash(record.prev_hash, fields)
    tamper(
        chain,
        f"UPDATE ledger_credits SET amount_hundredths = 2500, record_hash = '{forged}' "
        "WHERE sequence = 5",
    )
    report = verify(chain)
    assert report.first_bad[0] == 6
    assert report.first_bad[1].startswith("link mismatch")


def test_bytes_changed_in_the_file_are_caught(chain):
    # Checkpoint so every record is in the main file, then flip one record's bytes in place.
    connection = sqlite3.connect(chain)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = chain.read_bytes()
    target = b"00000000-0000-0000-0000-000000000007"  # record #7's attempt id (not indexed)
    assert data.count(target) == 1
    chain.write_bytes(data.replace(target, b"00000000-0000-0000-0000-00000000000f"))
    report = verify(chain)
    assert not report.ok
    assert report.first_bad[0] == 7


def test_verify_streams_from_a_store_that_stays_usable(store, learner):
    store.append_credit(request(learner), [award()], "key-1")
    assert verify_chain(store).ok
    store.append_credit(request(learner, 2), [award()], "key-2")
    assert verify_chain(store).checked == 2


def test_the_key_is_not_needed_to_verify(chain):
    assert verify(chain).ok  # a third party can verify a copy without Bedside's secrets
    assert KEY not in chain.read_bytes()
