"""Verify the credit ledger: SQLite's own checks of the file, then the hash chain, streaming.

The chain walk reads only the records; a damaged index or page elsewhere would pass it, so the
file's integrity and foreign keys are checked first (`database_problem`). PostgreSQL enforces
foreign keys itself and has no whole-database check to ask for (page checksums are the server's,
with `initdb --data-checksums`), so there the chain walk is the check.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from app.database import SQLITE, Database
from app.ledger.chain import GENESIS, CreditRecord, compute_hash
from app.ledger.store import LedgerStore


@dataclass(frozen=True)
class VerifyReport:
    """The outcome: how many records were checked, the head, and the first failure if any."""

    ok: bool
    checked: int
    head_hash: str
    first_bad: tuple[int, str] | None = None

    def summary(self) -> str:
        """Say the outcome in one line, as `bedside ledger verify` prints it."""
        if self.first_bad is None:
            return f"Verified {self.checked} records; chain intact."
        sequence, reason = self.first_bad
        if sequence == 0:  # the file itself, before any record
            return f"The ledger file fails: {reason}."
        return f"Record #{sequence} fails: {reason}"


def verify_chain(store: LedgerStore) -> VerifyReport:
    """Recompute every record's hash and link; stop at the first record that does not match."""
    try:
        referenced = store.referenced_head()
        return walk(store, referenced)
    except DBAPIError as error:
        if is_busy(error):
            raise  # a lock held elsewhere says nothing about the chain
        return VerifyReport(False, 0, GENESIS, (1, f"the ledger cannot be read ({reason(error)})"))


def database_problem(database: Database) -> str | None:
    """Return what SQLite's integrity and foreign-key checks find wrong in the file, or None."""
    if database.dialect != SQLITE:
        return None
    with database.read() as connection:
        first = connection.exec_driver_sql("PRAGMA integrity_check(1)").fetchone()[0]
        if first != "ok":
            return f"SQLite reports the file corrupt ({first})"
        orphan = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchone()
        if orphan:
            table, rowid, parent, _ = orphan
            return f"a {table} row (rowid {rowid}) refers to a missing {parent} row"
        return None


def walk(store: LedgerStore, referenced: int) -> VerifyReport:
    """Walk the chain from the genesis; check sequence, link and hash of each record."""
    expected, prev_hash, checked = 1, GENESIS, 0
    try:
        for record in store.iter_chain():
            problem = record_problem(record, expected, prev_hash)
            if problem:
                return VerifyReport(False, checked, prev_hash, (expected, problem))
            prev_hash, expected, checked = record.record_hash, expected + 1, checked + 1
    except DBAPIError as error:
        if is_busy(error):
            raise
        return VerifyReport(False, checked, prev_hash, (expected, f"unreadable ({reason(error)})"))
    if referenced >= expected:
        missing = f"missing: submissions refer to records up to #{referenced} (chain truncated)"
        return VerifyReport(False, checked, prev_hash, (expected, missing))
    return VerifyReport(True, checked, prev_hash)


def record_problem(record: CreditRecord, expected: int, prev_hash: str) -> str | None:
    """Return why a record breaks the chain, or None when it is sound."""
    return link_problem(record, expected, prev_hash) or hash_problem(record)


def link_problem(record: CreditRecord, expected: int, prev_hash: str) -> str | None:
    """Return why a record does not follow the one before it (number, link), or None."""
    if record.sequence != expected:
        return f"sequence gap (found #{record.sequence} where #{expected} belongs)"
    if record.prev_hash != prev_hash:
        return (
            f"link mismatch (points to {short(record.prev_hash)}, "
            f"previous record is {short(prev_hash)})"
        )
    return None


def hash_problem(record: CreditRecord) -> str | None:
    """Return why a record's stored hash is not the hash of its fields and link, or None."""
    computed = compute_hash(record.prev_hash, record.hashed_fields())
    if computed != record.record_hash:
        return f"hash mismatch (stored {short(record.record_hash)}, computed {short(computed)})"
    return None


def first_failure(store: LedgerStore, wanted: set[int]) -> tuple[int, str] | None:
    """The first failure touching these records: a record's hash, its link, the next one's link.

    Named as `verify` names it. One walk, from the record before the first to the one after the
    last (linear); a failure elsewhere in the chain leaves these records' own checks alone.
    """
    if not wanted:
        return None
    first, last = min(wanted), max(wanted)
    before: CreditRecord | None = None
    with closing(store.iter_chain(after=max(first - 2, 0))) as chain:
        for record in chain:
            if before is None and record.sequence == first - 1:
                before = record  # the anchor: its hash is what the first record links to
                continue
            expected, prev_hash = (
                (before.sequence + 1, before.record_hash)
                if before
                else (max(first - 1, 1), GENESIS)
            )
            touched = {record.sequence, expected - 1} & wanted
            broken = link_problem(record, expected, prev_hash)
            if broken and touched:
                return expected, broken
            damaged = hash_problem(record) if record.sequence in wanted else None
            if damaged:
                return record.sequence, damaged
            if record.sequence > last:
                return None
            before = record
    return None


def short(digest: object) -> str:
    """Abbreviate a hash for messages."""
    return f"{str(digest)[:12]}…"


def reason(error: Exception) -> str:
    """The driver's own words for a database error (without SQLAlchemy's SQL and links)."""
    return str(getattr(error, "orig", None) or error)


def is_busy(error: Exception) -> bool:
    """Tell whether SQLite gave up waiting for another connection's lock."""
    code = getattr(getattr(error, "orig", None) or error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
