"""Learners, attempts, answers and reporting identities: SQL over one connection each.

The SQL is the subset SQLite and PostgreSQL share (named parameters, `ON CONFLICT`).

These are working records (an attempt is completed once; a profile may change); the evidence is
the credit chain, which copies what a credit rests on into each record's `evidence`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from sqlalchemy import Connection, bindparam, text

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
IDENTITY_FIELDS = (
    "first_name",
    "last_name",
    "board_id",
    "licence_state",
    "licence_id",
    "birth_month_day",
    "credentials",
    "npi",
)
IDENTITY_COLUMNS = ("learner_id", *IDENTITY_FIELDS, "consented_at")
# Replaces every field, as SQLite's INSERT OR REPLACE did (the table has no triggers).
UPSERT_IDENTITY = (
    f"INSERT INTO ledger_reporting_identities ({', '.join(IDENTITY_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in IDENTITY_COLUMNS)}) "
    "ON CONFLICT (learner_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in IDENTITY_COLUMNS[1:])
)


def insert_learner(connection: Connection, learner_id: str, issuer: str, now: datetime):
    """Create the learner row once (later calls change nothing)."""
    connection.execute(
        text(
            "INSERT INTO ledger_learners (learner_id, issuer, created_at) "
            "VALUES (:learner, :issuer, :at) ON CONFLICT DO NOTHING"
        ),
        {"learner": learner_id, "issuer": issuer, "at": timestamp(now)},
    )


def read_learner(connection: Connection, learner_id: str) -> Learner | None:
    """Return a learner's row."""
    row = connection.execute(
        text(
            "SELECT learner_id, issuer, created_at, profession, specialty, language "
            "FROM ledger_learners WHERE learner_id = :learner"
        ),
        {"learner": learner_id},
    ).fetchone()
    return Learner(*row) if row else None


def update_profile(connection: Connection, learner_id: str, profile: dict, now: datetime):
    """Set profile fields (profession, specialty, language) the learner entered."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    check_free_of_patient_data(profile, "profile")
    assignments = ", ".join(f"{name} = :{name}" for name in profile)  # names checked above
    cursor = connection.execute(
        text(
            f"UPDATE ledger_learners SET {assignments}, updated_at = :at "
            "WHERE learner_id = :learner"
        ),
        {**profile, "at": timestamp(now), "learner": learner_id},
    )
    if cursor.rowcount != 1:
        raise UnknownRecord("No learner has that id.")


def insert_attempt(connection: Connection, attempt: Attempt, activity: tuple) -> Attempt:
    """Record the start of an attempt once; a retry with the same id returns the stored attempt."""
    if read_learner(connection, attempt.learner_id) is None:
        raise UnknownRecord("No learner has that id; call ensure_learner first.")
    activity_type, module_id, module_version = activity
    connection.execute(
        text(
            "INSERT INTO ledger_activities VALUES (:key, :type, :module, :version) "
            "ON CONFLICT DO NOTHING"
        ),
        {
            "key": attempt.activity_key,
            "type": activity_type,
            "module": module_id,
            "version": module_version,
        },
    )
    connection.execute(
        text(
            "INSERT INTO ledger_attempts (attempt_id, learner_id, activity_key, started_at) "
            "VALUES (:attempt, :learner, :key, :at) ON CONFLICT DO NOTHING"
        ),
        {
            "attempt": attempt.attempt_id,
            "learner": attempt.learner_id,
            "key": attempt.activity_key,
            "at": timestamp(attempt.started_at),
        },
    )
    stored = read_attempt(connection, attempt.attempt_id)
    if stored is None or (stored.learner_id, stored.activity_key) != (
        attempt.learner_id,
        attempt.activity_key,
    ):
        raise IdempotencyConflict("This attempt id belongs to another learner or activity.")
    return stored


def complete(connection: Connection, attempt_id: str, score: tuple, now: datetime):
    """Record an attempt's score once; repeating the same score is a harmless retry."""
    correct, total, pass_mark = score
    connection.execute(
        text(
            "UPDATE ledger_attempts SET completed_at = :at, correct = :correct, total = :total, "
            "pass_mark_percent = :pass_mark WHERE attempt_id = :attempt AND completed_at IS NULL"
        ),
        {
            "at": timestamp(now),
            "correct": correct,
            "total": total,
            "pass_mark": pass_mark,
            "attempt": attempt_id,
        },
    )
    stored = read_attempt(connection, attempt_id)
    if stored is None:
        raise UnknownRecord("No attempt has that id.")
    if (stored.correct, stored.total, stored.pass_mark_percent) != score:
        raise IdempotencyConflict("This attempt was already completed with another score.")
    return stored


ATTEMPT_COLUMNS = (
    "attempt_id, learner_id, activity_key, started_at, completed_at, correct, total, "
    "pass_mark_percent"
)


def read_attempt(connection: Connection, attempt_id: str) -> Attempt | None:
    """Return an attempt."""
    row = connection.execute(
        text(f"SELECT {ATTEMPT_COLUMNS} FROM ledger_attempts WHERE attempt_id = :attempt"),
        {"attempt": attempt_id},
    ).fetchone()
    return None if row is None else attempt_from_row(row)


def read_attempts(connection: Connection, attempt_ids: list[str]) -> dict[str, Attempt]:
    """Return the attempts with these ids that exist, by id (one statement)."""
    statement = text(
        f"SELECT {ATTEMPT_COLUMNS} FROM ledger_attempts WHERE attempt_id IN :attempts"
    ).bindparams(bindparam("attempts", expanding=True))
    rows = connection.execute(statement, {"attempts": attempt_ids})
    return {row[0]: attempt_from_row(row) for row in rows}


def read_attempts_of(connection: Connection, learner_id: str) -> list[Attempt]:
    """Return every attempt of a learner, oldest first (for the learner's own data export)."""
    rows = connection.execute(
        text(
            f"SELECT {ATTEMPT_COLUMNS} FROM ledger_attempts WHERE learner_id = :learner "
            "ORDER BY started_at, attempt_id"
        ),
        {"learner": learner_id},
    )
    return [attempt_from_row(row) for row in rows]


def attempt_from_row(row) -> Attempt:
    """An Attempt from a row of ATTEMPT_COLUMNS."""
    started, completed = parse_timestamp(row[3]), row[4] and parse_timestamp(row[4])
    return Attempt(row[0], row[1], row[2], started, completed or None, *row[5:])


def insert_answer(connection: Connection, answer: Answer) -> bool:
    """Record an answer once (first answer counts); False on an identical retry."""
    check_free_of_patient_data(dict(answer.response), f"answer {answer.item_id}")
    if read_attempt(connection, answer.attempt_id) is None:
        raise UnknownRecord(f"There is no attempt {answer.attempt_id}.")
    response = canonical_json(dict(answer.response))
    correct = None if answer.correct is None else int(answer.correct)
    key = {"attempt": answer.attempt_id, "item": answer.item_id}
    cursor = connection.execute(
        text(
            "INSERT INTO ledger_answers VALUES (:attempt, :item, :response, :correct, :at) "
            "ON CONFLICT DO NOTHING"
        ),
        {**key, "response": response, "correct": correct, "at": timestamp(answer.answered_at)},
    )
    if cursor.rowcount == 1:
        return True
    stored = connection.execute(
        text(
            "SELECT response, correct FROM ledger_answers "
            "WHERE attempt_id = :attempt AND item_id = :item"
        ),
        key,
    ).fetchone()
    if tuple(stored) != (response, correct):
        raise IdempotencyConflict(f"Item {answer.item_id!r} was already answered differently.")
    return False


def read_answers(connection: Connection, attempt_id: str) -> list[Answer]:
    """Return an attempt's answers in the order they were given."""
    rows = connection.execute(
        text(
            "SELECT item_id, response, correct, answered_at FROM ledger_answers "
            "WHERE attempt_id = :attempt ORDER BY answered_at, item_id"
        ),
        {"attempt": attempt_id},
    )
    return [
        Answer(attempt_id, item, json.loads(response), parse_timestamp(at), _bool(correct))
        for item, response, correct, at in rows
    ]


def upsert_identity(
    connection: Connection, learner_id: str, identity: ReportingIdentity, at: datetime
):
    """Store reporting identifiers the learner entered and consented to share."""
    if identity.birth_month_day and not MONTH_DAY.match(identity.birth_month_day):
        raise ValueError("Month/day of birth is written MM/DD (no year).")
    if identity.npi and not valid_npi(identity.npi):
        raise ValueError("An NPI is 10 digits with a valid check digit.")
    values = {name: getattr(identity, name) for name in IDENTITY_FIELDS}
    connection.execute(
        text(UPSERT_IDENTITY), {"learner_id": learner_id, **values, "consented_at": timestamp(at)}
    )


def valid_npi(npi: str) -> bool:
    """Check an NPI: 10 digits whose Luhn check over "80840" + the digits holds (CMS's rule)."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def read_identity(connection: Connection, learner_id: str) -> ReportingIdentity | None:
    """Return the learner's reporting identifiers (None without consent)."""
    row = connection.execute(
        text(
            f"SELECT {', '.join(IDENTITY_FIELDS)} FROM ledger_reporting_identities "
            "WHERE learner_id = :learner"
        ),
        {"learner": learner_id},
    ).fetchone()
    return ReportingIdentity(*row) if row else None


def _bool(value: int | None) -> bool | None:
    """Turn a stored 0/1/NULL into False/True/None."""
    return None if value is None else bool(value)
