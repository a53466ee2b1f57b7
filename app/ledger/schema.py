"""The ledger's tables, as the migration set "bedside.ledger" (sqlite-utils Migrations).

The CDS service's tables (JWT replay guard `cds_jti`, card exposures `cds_exposures`, feedback
`cds_feedback`) live in the same database file under their own set, "bedside.cds"
(cds_hooks/store.py); the ledger leaves them there. Every ledger table is prefixed `ledger_`.
Migrations are append-only too: never edit one that has shipped, add the next.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("bedside.ledger")

CREDITS_TABLE = """
CREATE TABLE ledger_credits (
    sequence INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('credit', 'reversal')),
    learner_id TEXT NOT NULL REFERENCES ledger_learners (learner_id),
    activity_key TEXT NOT NULL,
    activity_type TEXT NOT NULL CHECK (activity_type IN ('case', 'poc')),
    module_id TEXT,
    module_version TEXT,
    attempt_id TEXT,
    credit_type TEXT NOT NULL,
    amount_hundredths INTEGER NOT NULL,
    designated_hundredths INTEGER NOT NULL,
    earned_at TEXT NOT NULL,
    evidence TEXT NOT NULL,
    reverses INTEGER REFERENCES ledger_credits (sequence),
    reason TEXT,
    idempotency_hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    record_hash TEXT NOT NULL,
    CHECK ((kind = 'reversal') = (reverses IS NOT NULL))
) STRICT
"""

SUBMISSIONS_TABLE = """
CREATE TABLE ledger_submissions (
    idempotency_hash TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('recorded', 'refused')),
    first_sequence INTEGER,
    last_sequence INTEGER,
    refusal_reason TEXT,
    refusal_message TEXT,
    submitted_at TEXT NOT NULL
) STRICT
"""

APPEND_ONLY_TRIGGERS = """
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only: record a reversal instead'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only: record a reversal instead'); END;
"""


@migrations()
def m001_core_tables(db: Database) -> None:
    """Learners, activities, attempts and answers, credit records and idempotent submissions."""
    db["ledger_learners"].create(
        {
            "learner_id": str,
            "issuer": str,
            "created_at": str,
            "profession": str,
            "specialty": str,
            "language": str,
        },
        pk="learner_id",
        not_null={"issuer", "created_at"},
        strict=True,
    )
    db["ledger_activities"].create(
        {"activity_key": str, "activity_type": str, "module_id": str, "module_version": str},
        pk="activity_key",
        not_null={"activity_type"},
        strict=True,
    )
    create_attempt_tables(db)
    db.execute(CREDITS_TABLE)
    db.execute(SUBMISSIONS_TABLE)
    db["ledger_credits"].create_index(["learner_id", "activity_key"])
    db["ledger_credits"].create_index(["learner_id", "earned_at"])
    db.execute(
        "CREATE UNIQUE INDEX ledger_credits_reversed_once ON ledger_credits (reverses) "
        "WHERE reverses IS NOT NULL"
    )
    for table in ("ledger_credits", "ledger_submissions"):
        for statement in APPEND_ONLY_TRIGGERS.format(table=table).strip().split(";\n"):
            db.execute(statement)


def create_attempt_tables(db: Database) -> None:
    """Attempts at an activity and the answers (or point-of-care steps) recorded in them."""
    db["ledger_attempts"].create(
        {
            "attempt_id": str,
            "learner_id": str,
            "activity_key": str,
            "started_at": str,
            "completed_at": str,
            "correct": int,
            "total": int,
            "pass_mark_percent": int,
        },
        pk="attempt_id",
        not_null={"learner_id", "activity_key", "started_at"},
        foreign_keys=[
            ("learner_id", "ledger_learners", "learner_id"),
            ("activity_key", "ledger_activities", "activity_key"),
        ],
        strict=True,
    )
    db["ledger_attempts"].create_index(["learner_id", "started_at"])
    db["ledger_answers"].create(
        {
            "attempt_id": str,
            "item_id": str,
            "response": str,
            "correct": int,
            "answered_at": str,
        },
        pk=("attempt_id", "item_id"),
        not_null={"response", "answered_at"},
        foreign_keys=[("attempt_id", "ledger_attempts", "attempt_id")],
        strict=True,
    )


@migrations()
def m002_reporting_identities(db: Database) -> None:
    """Identifiers for board reporting (ACCME PARS), kept only while the learner consents."""
    db["ledger_reporting_identities"].create(
        {
            "learner_id": str,
            "first_name": str,
            "last_name": str,
            "board_id": str,
            "licence_state": str,
            "licence_id": str,
            "birth_month_day": str,
            "consented_at": str,
        },
        pk="learner_id",
        not_null={"first_name", "last_name", "consented_at"},
        foreign_keys=[("learner_id", "ledger_learners", "learner_id")],
        strict=True,
    )
    db["ledger_learners"].add_column("updated_at", str)
