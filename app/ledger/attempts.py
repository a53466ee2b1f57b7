"""Learners, attempts, answers and reporting identities: SQL over one connection each.

These are working records (an attempt is completed once; a profile may change); the evidence is
the credit chain, which copies what a credit rests on into each record's `evidence`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime

from app.ledger.chain import canonical_json, parse_timestamp, timestamp
from app.ledger.models import (
    Answer,
    Attempt,
    IdempotencyConflict,
    Learner,
    ReportingIdentity,
    UnknownRecord,
)
from app.ledger.privacy import check_free_of_patient_data

MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])$")
PROFILE_FIELDS = ("profession", "specialty", "language")


def insert_learner(connection: sqlite3.Connection, learner_id: str, issuer: str, now: datetime):
    """Create the learner row once (later calls change nothing)."""
    connection.execute(
        "INSERT OR IGNORE INTO ledger_learners (learner_id, issuer, created_at) VALUES (?, ?, ?)",
        (learner_id, issuer, timestamp(now)),
    )


def read_learner(connection: sqlite3.Connection, learner_id: str) -> Learner | None:
    """Return a learner's row."""
    row = connection.execute(
        "SELECT learner_id, issuer, created_at, profession, specialty, language "
        "FROM ledger_learners WHERE learner_id = ?",
        (learner_id,),
    ).fetchone()
    return Learner(*row) if row else None


def update_profile(connection: sqlite3.Connection, learner_id: str, profile: dict, now: datetime):
    """Set profile fields (profession, specialty, language) the learner entered."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    check_free_of_patient_data(profile, "profile")
    assignments = ", ".join(f"{name} = ?" for name in profile)
    cursor = connection.execute(
        f"UPDATE ledger_learners SET {assignments}, updated_at = ? WHERE learner_id = ?",
        (*profile.values(), timestamp(now), learner_id),
    )
    if cursor.rowcount != 1:
        raise UnknownRecord("No learner has that id.")


def insert_attempt(connection: sqlite3.Connection, attempt: Attempt, activity: tuple) -> Attempt:
    """Record the start of an attempt once; a retry with the same id returns the stored attempt."""
    if read_learner(connection, attempt.learner_id) is None:
        raise UnknownRecord("No learner has that id; call ensure_learner first.")
    connection.execute(
        "INSERT OR IGNORE INTO ledger_activities VALUES (?, ?, ?, ?)",
        (attempt.activity_key, *activity),
    )
    connection.execute(
        "INSERT OR IGNORE INTO ledger_attempts (attempt_id, learner_id, activity_key, started_at) "
        "VALUES (?, ?, ?, ?)",
        (
            attempt.attempt_id,
            attempt.learner_id,
            attempt.activity_key,
            timestamp(attempt.started_at),
        ),
    )
    stored = read_attempt(connection, attempt.attempt_id)
    if stored is None or (stored.learner_id, stored.activity_key) != (
        attempt.learner_id,
        attempt.activity_key,
    ):
        raise IdempotencyConflict("This attempt id belongs to another learner or activity.")
    return stored


def complete(connection: sqlite3.Connection, attempt_id: str, score: tuple, now: datetime):
    """Record an attempt's score once; repeating the same score is a harmless retry."""
    correct, total, pass_mark = score
    connection.execute(
        "UPDATE ledger_attempts SET completed_at = ?, correct = ?, total = ?, "
        "pass_mark_percent = ? WHERE attempt_id = ? AND completed_at IS NULL",
        (timestamp(now), correct, total, pass_mark, attempt_id),
    )
    stored = read_attempt(connection, attempt_id)
    if stored is None:
        raise UnknownRecord("No attempt has that id.")
    if (stored.correct, stored.total, stored.pass_mark_percent) != score:
        raise IdempotencyConflict("This attempt was already completed with another score.")
    return stored


def read_attempt(connection: sqlite3.Connection, attempt_id: str) -> Attempt | None:
    """Return an attempt."""
    row = connection.execute(
        "SELECT attempt_id, learner_id, activity_key, started_at, completed_at, correct, total, "
        "pass_mark_percent FROM ledger_attempts WHERE attempt_id = ?",
        (attempt_id,),
    ).fetchone()
    if row is None:
        return None
    started, completed = parse_timestamp(row[3]), row[4] and parse_timestamp(row[4])
    return Attempt(row[0], row[1], row[2], started, completed or None, *row[5:])


def insert_answer(connection: sqlite3.Connection, answer: Answer) -> bool:
    """Record an answer once (first answer counts); False on an identical retry."""
    check_free_of_patient_data(dict(answer.response), f"answer {answer.item_id}")
    if read_attempt(connection, answer.attempt_id) is None:
        raise UnknownRecord(f"There is no attempt {answer.attempt_id}.")
    response = canonical_json(dict(answer.response))
    correct = None if answer.correct is None else int(answer.correct)
    cursor = connection.execute(
        "INSERT OR IGNORE INTO ledger_answers VALUES (?, ?, ?, ?, ?)",
        (answer.attempt_id, answer.item_id, response, correct, timestamp(answer.answered_at)),
    )
    if cursor.rowcount == 1:
        return True
    stored = connection.execute(
        "SELECT response, correct FROM ledger_answers WHERE attempt_id = ? AND item_id = ?",
        (answer.attempt_id, answer.item_id),
    ).fetchone()
    if tuple(stored) != (response, correct):
        raise IdempotencyConflict(f"Item {answer.item_id!r} was already answered differently.")
    return False


def read_answers(connection: sqlite3.Connection, attempt_id: str) -> list[Answer]:
    """Return an attempt's answers in the order they were given."""
    rows = connection.execute(
        "SELECT item_id, response, correct, answered_at FROM ledger_answers "
        "WHERE attempt_id = ? ORDER BY answered_at, item_id",
        (attempt_id,),
    )
    return [
        Answer(attempt_id, item, json.loads(response), parse_timestamp(at), _bool(correct))
        for item, response, correct, at in rows
    ]


def upsert_identity(
    connection: sqlite3.Connection, learner_id: str, identity: ReportingIdentity, at: datetime
):
    """Store reporting identifiers the learner entered and consented to share."""
    if identity.birth_month_day and not MONTH_DAY.match(identity.birth_month_day):
        raise ValueError("Month/day of birth is written MM/DD (no year).")
    values = (
        identity.first_name,
        identity.last_name,
        identity.board_id,
        identity.licence_state,
        identity.licence_id,
        identity.birth_month_day,
    )
    connection.execute(
        "INSERT OR REPLACE INTO ledger_reporting_identities VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (learner_id, *values, timestamp(at)),
    )


def read_identity(connection: sqlite3.Connection, learner_id: str) -> ReportingIdentity | None:
    """Return the learner's reporting identifiers (None without consent)."""
    row = connection.execute(
        "SELECT first_name, last_name, board_id, licence_state, licence_id, birth_month_day "
        "FROM ledger_reporting_identities WHERE learner_id = ?",
        (learner_id,),
    ).fetchone()
    return ReportingIdentity(*row) if row else None


def _bool(value: int | None) -> bool | None:
    """Turn a stored 0/1/NULL into False/True/None."""
    return None if value is None else bool(value)
