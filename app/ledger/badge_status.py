"""Where each badge's revocation bit sits: one status-list index per credit record, allocated once.

A badge names its bit in a Bitstring Status List (W3C, Open Badges 3.0 `credentialStatus`): a
list number and an index in it. The index is allocated the first time a badge is issued for a
credit record and kept in `ledger_badge_status`, append-only like the credits: later badges for
the same record name the same bit, and no two records ever share one (the table's primary key is
the record, and (list, index) is unique). Allocation runs in one `BEGIN IMMEDIATE` transaction, so
concurrent exports serialise on SQLite's write lock. Indexes are drawn at random among the free
ones (the spec's SHOULD: the position must not tell when a badge was issued); when a list is
full, the next list starts.

The table is its own migration set ("bedside.badges"), applied on first allocation: reading a
status list from a ledger that never issued a badge finds no table and no revoked bit.
A bit is set when the record it belongs to has a reversal in the chain; nothing is stored for it.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app import db
from app.db import LEDGER_SETTINGS, ConnectionSettings, connect
from app.ledger.chain import timestamp

LIST_SIZE = 131_072  # entries per list: the spec's minimum, 16 KB uncompressed
migrations = Migrations("bedside.badges")

STATUS_TABLE = """
CREATE TABLE ledger_badge_status (
    record_sequence INTEGER PRIMARY KEY REFERENCES ledger_credits (sequence),
    status_list INTEGER NOT NULL CHECK (status_list >= 1),
    status_index INTEGER NOT NULL CHECK (status_index >= 0 AND status_index < 131072),
    allocated_at TEXT NOT NULL,
    UNIQUE (status_list, status_index)
) STRICT
"""
APPEND_ONLY = """
CREATE TRIGGER ledger_badge_status_no_{verb} BEFORE {verb} ON ledger_badge_status
BEGIN SELECT RAISE(ABORT, 'ledger_badge_status is append-only'); END
"""
REVOKED = """
SELECT s.status_index FROM ledger_badge_status AS s
JOIN ledger_credits AS r ON r.reverses = s.record_sequence
WHERE s.status_list = ?
"""


@migrations()
def m001_badge_status(database: Database) -> None:
    """The status-list bit of every credit record a badge was issued for."""
    database.execute(STATUS_TABLE)
    for verb in ("UPDATE", "DELETE"):
        database.execute(APPEND_ONLY.format(verb=verb).strip())


@dataclass(frozen=True)
class StatusSlot:
    """A badge's bit: which status list (1, 2, …) and which index in it."""

    status_list: int
    status_index: int


def allocate(path: Path, sequences: Iterable[int], now: datetime | None = None) -> dict:
    """Return the slot of every credit record, allocating the missing ones once (durably)."""
    wanted = list(dict.fromkeys(sequences))
    db.apply_migrations(path, migrations, LEDGER_SETTINGS)
    connection = connect(path, LEDGER_SETTINGS)
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            slots = allocate_in(connection, wanted, timestamp(now or datetime.now(UTC)))
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        connection.close()
    return slots


def allocate_in(connection: sqlite3.Connection, sequences: list[int], at: str) -> dict:
    """Inside a write transaction: keep existing slots, draw free random ones for the rest."""
    slots = existing_slots(connection, sequences)
    missing = [sequence for sequence in sequences if sequence not in slots]
    if not missing:
        return slots
    status_list = current_list(connection)
    used = used_indexes(connection, status_list)
    for sequence in missing:
        if len(used) >= LIST_SIZE:
            status_list, used = status_list + 1, set()
        index = free_index(used)
        used.add(index)
        connection.execute(
            "INSERT INTO ledger_badge_status VALUES (?, ?, ?, ?)",
            (sequence, status_list, index, at),
        )
        slots[sequence] = StatusSlot(status_list, index)
    return slots


def existing_slots(connection: sqlite3.Connection, sequences: list[int]) -> dict:
    """Return the slots already allocated to these records."""
    slots = {}
    for sequence in sequences:
        row = connection.execute(
            "SELECT status_list, status_index FROM ledger_badge_status WHERE record_sequence = ?",
            (sequence,),
        ).fetchone()
        if row:
            slots[sequence] = StatusSlot(*row)
    return slots


def current_list(connection: sqlite3.Connection) -> int:
    """Return the list being filled (1 when none was started)."""
    return connection.execute(
        "SELECT coalesce(max(status_list), 1) FROM ledger_badge_status"
    ).fetchone()[0]


def used_indexes(connection: sqlite3.Connection, status_list: int) -> set[int]:
    """Return the indexes already taken in a list."""
    rows = connection.execute(
        "SELECT status_index FROM ledger_badge_status WHERE status_list = ?", (status_list,)
    )
    return {row[0] for row in rows}


def free_index(used: set[int]) -> int:
    """Draw an index at random, then take the first free one from there (wrapping round)."""
    start = secrets.randbelow(LIST_SIZE)
    for offset in range(LIST_SIZE):
        index = (start + offset) % LIST_SIZE
        if index not in used:
            return index
    raise ValueError("the status list is full")  # callers start a new list first


def revoked_indexes(
    path: Path, status_list: int, settings: ConnectionSettings = LEDGER_SETTINGS
) -> set[int]:
    """Return the indexes of a list whose credit records were reversed (empty without badges)."""
    connection = connect(path, settings)
    try:
        return {row[0] for row in connection.execute(REVOKED, (status_list,))}
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return set()
        raise
    finally:
        connection.close()


def list_count(path: Path, settings: ConnectionSettings = LEDGER_SETTINGS) -> int:
    """Return how many status lists exist (at least 1: the first is served even when empty)."""
    connection = connect(path, settings)
    try:
        row = connection.execute("SELECT max(status_list) FROM ledger_badge_status").fetchone()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return 1
        raise
    finally:
        connection.close()
    return max(row[0] or 1, 1)
