"""Where each badge's revocation bit sits: one status-list index per credit record, allocated once.

A badge names its bit in a Bitstring Status List (W3C, Open Badges 3.0 `credentialStatus`): a
list number and an index in it. The index is allocated the first time a badge is issued for a
credit record and kept in `ledger_badge_status`, append-only like the credits: later badges for
the same record name the same bit, and no two records ever share one (the table's primary key is
the record, and (list, index) is unique). Allocation runs in one write transaction, so concurrent
exports serialise: on SQLite's write lock (`BEGIN IMMEDIATE`), on PostgreSQL on an advisory lock
held until commit. Indexes are drawn at random among the free
ones (the spec's SHOULD: the position must not tell when a badge was issued); when a list is
full, the next list starts.

The table is its own migration set ("bedside.badges"). On SQLite it is applied on first
allocation: reading a status list from a ledger that never issued a badge finds no table and no
revoked bit. On PostgreSQL the ledger store applies it with its own tables, since the
application role may not create tables.
A bit is set when the record it belongs to has a reversal in the chain; nothing is stored for it.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, inspect, text
from sqlite_utils import Database as SqliteUtilsDatabase
from sqlite_utils.migrations import Migrations

from app.database import POSTGRESQL, SQLITE, Database, StoreSchema
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
WHERE s.status_list = :status_list
"""
PG_STATUS_TABLE = """
CREATE TABLE ledger_badge_status (
    record_sequence BIGINT PRIMARY KEY REFERENCES ledger_credits (sequence),
    status_list INTEGER NOT NULL CHECK (status_list >= 1),
    status_index INTEGER NOT NULL CHECK (status_index >= 0 AND status_index < 131072),
    allocated_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (status_list, status_index)
)
"""
# ledger_refuse_change() comes with the ledger's own tables (app/ledger/schema.py).
PG_APPEND_ONLY = """
CREATE TRIGGER ledger_badge_status_no_{verb} BEFORE {verb} ON ledger_badge_status
    FOR EACH {scope} EXECUTE FUNCTION ledger_refuse_change()
"""
ALLOCATION_LOCK = zlib.crc32(b"bedside.ledger.badge_status")


@migrations()
def m001_badge_status(database: SqliteUtilsDatabase) -> None:
    """The status-list bit of every credit record a badge was issued for."""
    database.execute(STATUS_TABLE)
    for verb in ("UPDATE", "DELETE"):
        database.execute(APPEND_ONLY.format(verb=verb).strip())


def pg_badge_status(connection: Connection) -> None:
    """m001 on PostgreSQL: the table and its append-only triggers (TRUNCATE too)."""
    connection.exec_driver_sql(PG_STATUS_TABLE)
    for verb, scope in (("UPDATE", "ROW"), ("DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
        connection.exec_driver_sql(PG_APPEND_ONLY.format(verb=verb, scope=scope).strip())


BADGES_SCHEMA = StoreSchema(
    "bedside.badges", migrations, [(m001_badge_status.__name__, pg_badge_status)]
)


@dataclass(frozen=True)
class StatusSlot:
    """A badge's bit: which status list (1, 2, …) and which index in it."""

    status_list: int
    status_index: int


def allocate(database: Database, sequences: Iterable[int], now: datetime | None = None) -> dict:
    """Return the slot of every credit record, allocating the missing ones once (durably)."""
    wanted = list(dict.fromkeys(sequences))
    if database.dialect == SQLITE:
        database.migrate(BADGES_SCHEMA)
    with database.write() as connection:
        if database.dialect == POSTGRESQL:
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            connection.execute(lock, {"key": ALLOCATION_LOCK})
        return allocate_in(connection, wanted, timestamp(now or datetime.now(UTC)))


def allocate_in(connection: Connection, sequences: list[int], at: str) -> dict:
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
            text("INSERT INTO ledger_badge_status VALUES (:sequence, :list, :index, :at)"),
            {"sequence": sequence, "list": status_list, "index": index, "at": at},
        )
        slots[sequence] = StatusSlot(status_list, index)
    return slots


def existing_slots(connection: Connection, sequences: list[int]) -> dict:
    """Return the slots already allocated to these records."""
    slots = {}
    query = text(
        "SELECT status_list, status_index FROM ledger_badge_status "
        "WHERE record_sequence = :sequence"
    )
    for sequence in sequences:
        row = connection.execute(query, {"sequence": sequence}).fetchone()
        if row:
            slots[sequence] = StatusSlot(*row)
    return slots


def current_list(connection: Connection) -> int:
    """Return the list being filled (1 when none was started)."""
    return connection.execute(
        text("SELECT coalesce(max(status_list), 1) FROM ledger_badge_status")
    ).scalar_one()


def used_indexes(connection: Connection, status_list: int) -> set[int]:
    """Return the indexes already taken in a list."""
    rows = connection.execute(
        text("SELECT status_index FROM ledger_badge_status WHERE status_list = :list"),
        {"list": status_list},
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


def revoked_indexes(database: Database, status_list: int) -> set[int]:
    """Return the indexes of a list whose credit records were reversed (empty without badges)."""
    with database.read() as connection:
        if not has_status_table(connection):
            return set()
        rows = connection.execute(text(REVOKED), {"status_list": status_list})
        return {row[0] for row in rows}


def list_count(database: Database) -> int:
    """Return how many status lists exist (at least 1: the first is served even when empty)."""
    with database.read() as connection:
        if not has_status_table(connection):
            return 1
        highest = connection.execute(text("SELECT max(status_list) FROM ledger_badge_status"))
        return max(highest.scalar_one() or 1, 1)


def has_status_table(connection: Connection) -> bool:
    """Tell whether a badge was ever issued from this ledger (its table exists)."""
    return inspect(connection).has_table("ledger_badge_status")
