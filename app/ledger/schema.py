"""The ledger's tables, as the migration set "bedside.ledger": sqlite-utils steps and PostgreSQL's.

The CDS service's tables (JWT replay guard `cds_jti`, card exposures `cds_exposures`, feedback
`cds_feedback`) live in the same database file under their own set, "bedside.cds"
(cds_hooks/store.py); the ledger leaves them there. Every ledger table is prefixed `ledger_`.
Migrations are append-only too: never edit one that has shipped, add the next.

PostgreSQL gets the same tables, columns and Python values (TEXT timestamps, INTEGER 0/1, BIGINT
sequences), its text compared bytewise (COLLATE "C", as SQLite does), and the same append-only
rule: triggers raise on UPDATE, DELETE and TRUNCATE of credit records and submissions. The
application role should hold no UPDATE or DELETE on them at all: `application_role_grants`.
"""

from __future__ import annotations

import re
import zlib

from sqlalchemy import Connection
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.database import StoreSchema, role_script

migrations = Migrations("bedside.ledger")
CHAIN_LOCK = zlib.crc32(b"bedside.ledger.chain")  # the advisory lock that holds the chain head

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


PG_CORE_TABLES = """
CREATE TABLE ledger_learners (
    learner_id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    profession TEXT,
    specialty TEXT,
    language TEXT
);
CREATE TABLE ledger_activities (
    activity_key TEXT PRIMARY KEY,
    activity_type TEXT NOT NULL,
    module_id TEXT,
    module_version TEXT
);
CREATE TABLE ledger_attempts (
    attempt_id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL REFERENCES ledger_learners (learner_id),
    activity_key TEXT NOT NULL REFERENCES ledger_activities (activity_key),
    started_at TEXT NOT NULL,
    completed_at TEXT,
    correct INTEGER,
    total INTEGER,
    pass_mark_percent INTEGER
);
CREATE INDEX idx_ledger_attempts_learner_id_started_at ON ledger_attempts (learner_id, started_at);
CREATE TABLE ledger_answers (
    attempt_id TEXT REFERENCES ledger_attempts (attempt_id),
    item_id TEXT,
    response TEXT NOT NULL,
    correct INTEGER,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (attempt_id, item_id)
);
CREATE TABLE ledger_credits (
    sequence BIGINT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('credit', 'reversal')),
    learner_id TEXT NOT NULL REFERENCES ledger_learners (learner_id),
    activity_key TEXT NOT NULL,
    activity_type TEXT NOT NULL CHECK (activity_type IN ('case', 'poc')),
    module_id TEXT,
    module_version TEXT,
    attempt_id TEXT,
    credit_type TEXT NOT NULL,
    amount_hundredths BIGINT NOT NULL,
    designated_hundredths BIGINT NOT NULL,
    earned_at TEXT NOT NULL,
    evidence TEXT NOT NULL,
    reverses BIGINT REFERENCES ledger_credits (sequence),
    reason TEXT,
    idempotency_hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    record_hash TEXT NOT NULL,
    CHECK ((kind = 'reversal') = (reverses IS NOT NULL))
);
CREATE TABLE ledger_submissions (
    idempotency_hash TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('recorded', 'refused')),
    first_sequence BIGINT,
    last_sequence BIGINT,
    refusal_reason TEXT,
    refusal_message TEXT,
    submitted_at TEXT NOT NULL
);
CREATE INDEX idx_ledger_credits_learner_id_activity_key
    ON ledger_credits (learner_id, activity_key);
CREATE INDEX idx_ledger_credits_learner_id_earned_at ON ledger_credits (learner_id, earned_at);
CREATE UNIQUE INDEX ledger_credits_reversed_once ON ledger_credits (reverses)
    WHERE reverses IS NOT NULL
"""
# "%%" reaches PL/pgSQL as "%" (the driver reads placeholders even without parameters).
PG_REFUSE_CHANGE = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only: record a reversal instead', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""
PG_APPEND_ONLY_TRIGGERS = """
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
"""


@migrations()
def m003_certificate_credentials(db: Database) -> None:
    """Credentials (e.g. MD, RN) and an optional NPI, printed on certificates with consent."""
    db["ledger_reporting_identities"].add_column("credentials", str)
    db["ledger_reporting_identities"].add_column("npi", str)


PG_CERTIFICATE_CREDENTIALS = """
ALTER TABLE ledger_reporting_identities ADD COLUMN credentials TEXT;
ALTER TABLE ledger_reporting_identities ADD COLUMN npi TEXT
"""
PG_REPORTING_IDENTITIES = """
CREATE TABLE ledger_reporting_identities (
    learner_id TEXT PRIMARY KEY REFERENCES ledger_learners (learner_id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    board_id TEXT,
    licence_state TEXT,
    licence_id TEXT,
    birth_month_day TEXT,
    consented_at TEXT NOT NULL
);
ALTER TABLE ledger_learners ADD COLUMN updated_at TEXT
"""
# A claim decided before the chain lock, appended under it (m004/m005; since m007 the ledger calls
# ledger_append_claims_locked below, and these stay for hosts still running older code:
# ledger_append_claims calls this once per claim in order, in one round trip): the key must still
# be unused and the learner's records as they were read (else 'replay' or 'stale', and the
# caller runs the general path); then the attempt is
# completed if asked, the entries numbered and hashed after the head exactly as chain.py does in
# Python (the sequence is the last key of the canonical JSON), and the submission stored. An error
# rolls back this claim's own writes and returns 'failed <SQLSTATE>'.
PG_APPEND_CLAIM = """
CREATE FUNCTION ledger_append_claim(
    p_key TEXT, p_fingerprint TEXT, p_learner TEXT, p_seen_sequence BIGINT, p_entries JSONB,
    p_refusal_reason TEXT, p_refusal_message TEXT, p_submitted_at TEXT, p_completion JSONB,
    OUT outcome TEXT, OUT first_number BIGINT, OUT head_before TEXT, OUT new_hashes TEXT[]
) LANGUAGE plpgsql AS $$
DECLARE
    last_number BIGINT;
    head TEXT;
    entry JSONB;
    sealed TEXT;
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_submissions AS s WHERE s.idempotency_hash = p_key) THEN
        outcome := 'replay';
        RETURN;
    END IF;
    IF (SELECT coalesce(max(c.sequence), 0) FROM ledger_credits AS c
        WHERE c.learner_id = p_learner) <> p_seen_sequence THEN
        outcome := 'stale';
        RETURN;
    END IF;
    IF p_completion IS NOT NULL THEN
        UPDATE ledger_attempts AS a SET
            completed_at = p_completion ->> 'completed_at',
            correct = (p_completion ->> 'correct')::INTEGER,
            total = (p_completion ->> 'total')::INTEGER,
            pass_mark_percent = (p_completion ->> 'pass_mark_percent')::INTEGER
        WHERE a.attempt_id = p_completion ->> 'attempt_id' AND a.completed_at IS NULL;
        IF NOT FOUND THEN
            outcome := 'stale';
            RETURN;
        END IF;
    END IF;
    SELECT c.sequence, c.record_hash INTO last_number, head
        FROM ledger_credits AS c ORDER BY c.sequence DESC LIMIT 1;
    last_number := coalesce(last_number, 0);
    head := coalesce(head, repeat('0', 64));
    head_before := head;
    first_number := last_number + 1;
    new_hashes := ARRAY[]::TEXT[];
    FOR entry IN SELECT value FROM jsonb_array_elements(p_entries) LOOP
        last_number := last_number + 1;
        sealed := encode(sha256(convert_to(
            head || (entry ->> 'text_before_sequence') || last_number::TEXT || '}', 'UTF8'
        )), 'hex');
        INSERT INTO ledger_credits SELECT * FROM jsonb_populate_record(
            NULL::ledger_credits,
            entry || jsonb_build_object(
                'sequence', last_number, 'prev_hash', head, 'record_hash', sealed
            )
        );
        new_hashes := new_hashes || sealed;
        head := sealed;
    END LOOP;
    INSERT INTO ledger_submissions VALUES (
        p_key,
        p_fingerprint,
        CASE WHEN p_refusal_reason IS NULL THEN 'recorded' ELSE 'refused' END,
        CASE WHEN last_number >= first_number THEN first_number END,
        CASE WHEN last_number >= first_number THEN last_number END,
        p_refusal_reason,
        p_refusal_message,
        p_submitted_at
    );
    outcome := 'appended';
EXCEPTION WHEN OTHERS THEN
    outcome := 'failed ' || SQLSTATE;
    first_number := NULL;
    head_before := NULL;
    new_hashes := NULL;
END
$$
"""
PG_APPEND_CLAIMS = """
CREATE FUNCTION ledger_append_claims(p_claims JSONB)
RETURNS TABLE (outcome TEXT, first_number BIGINT, head_before TEXT, new_hashes TEXT[])
LANGUAGE plpgsql AS $$
DECLARE
    claim JSONB;
    appended RECORD;
BEGIN
    FOR claim IN SELECT c.value FROM jsonb_array_elements(p_claims) WITH ORDINALITY AS c
                 ORDER BY c.ordinality LOOP
        SELECT * INTO appended FROM ledger_append_claim(
            claim ->> 'key', claim ->> 'fingerprint', claim ->> 'learner',
            (claim ->> 'seen')::BIGINT, claim -> 'entries', claim ->> 'reason',
            claim ->> 'message', claim ->> 'at', nullif(claim -> 'completion', 'null'::JSONB)
        );
        outcome := appended.outcome;
        first_number := appended.first_number;
        head_before := appended.head_before;
        new_hashes := appended.new_hashes;
        RETURN NEXT;
    END LOOP;
END
$$
"""
# The batch append as the ledger calls it since m007 (ledger_append_claim and _claims stay for hosts
# still running older code): the same checks and writes, in one function that takes the chain lock
# itself, first (the client sends no lock statement: a round trip fewer per batch), reads the head
# once per batch and carries it from claim to claim, and reads a claim's key and learner in one
# statement. The server's CPU per claim went mostly to starting statements (bench/README.md), so
# fewer statements per claim. Each claim still runs in its own block: an error undoes that claim's
# writes only, returns 'failed <SQLSTATE>', and leaves the head as the claim before it left it.
PG_APPEND_CLAIMS_LOCKED = """
CREATE FUNCTION ledger_append_claims_locked(p_claims JSONB)
RETURNS TABLE (outcome TEXT, first_number BIGINT, head_before TEXT, new_hashes TEXT[])
LANGUAGE plpgsql AS $$
DECLARE
    claim JSONB;
    entry JSONB;
    completion JSONB;
    last_number BIGINT;
    head TEXT;
    claim_number BIGINT;
    claim_head TEXT;
    used BOOLEAN;
    newest BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(:chain_lock);
    SELECT c.sequence, c.record_hash INTO last_number, head
        FROM ledger_credits AS c ORDER BY c.sequence DESC LIMIT 1;
    last_number := coalesce(last_number, 0);
    head := coalesce(head, repeat('0', 64));
    FOR n IN 0 .. jsonb_array_length(p_claims) - 1 LOOP
        claim := p_claims -> n;
        outcome := NULL;
        first_number := NULL;
        head_before := NULL;
        new_hashes := NULL;
        BEGIN
            SELECT EXISTS (SELECT 1 FROM ledger_submissions AS s
                           WHERE s.idempotency_hash = claim ->> 'key'),
                   (SELECT coalesce(max(c.sequence), 0) FROM ledger_credits AS c
                    WHERE c.learner_id = claim ->> 'learner')
                INTO used, newest;
            IF used THEN
                outcome := 'replay';
            ELSIF newest <> (claim ->> 'seen')::BIGINT THEN
                outcome := 'stale';
            ELSE
                completion := nullif(claim -> 'completion', 'null'::JSONB);
                IF completion IS NOT NULL THEN
                    UPDATE ledger_attempts AS a SET
                        completed_at = completion ->> 'completed_at',
                        correct = (completion ->> 'correct')::INTEGER,
                        total = (completion ->> 'total')::INTEGER,
                        pass_mark_percent = (completion ->> 'pass_mark_percent')::INTEGER
                    WHERE a.attempt_id = completion ->> 'attempt_id' AND a.completed_at IS NULL;
                    IF NOT FOUND THEN
                        outcome := 'stale';
                    END IF;
                END IF;
            END IF;
            IF outcome IS NULL THEN
                claim_number := last_number;
                claim_head := head;
                new_hashes := ARRAY[]::TEXT[];
                FOR e IN 0 .. jsonb_array_length(claim -> 'entries') - 1 LOOP
                    entry := claim -> 'entries' -> e;
                    claim_number := claim_number + 1;
                    new_hashes := new_hashes || encode(sha256(convert_to(
                        claim_head || (entry ->> 'text_before_sequence') || claim_number::TEXT
                        || '}', 'UTF8'
                    )), 'hex');
                    INSERT INTO ledger_credits SELECT * FROM jsonb_populate_record(
                        NULL::ledger_credits,
                        entry || jsonb_build_object(
                            'sequence', claim_number,
                            'prev_hash', claim_head,
                            'record_hash', new_hashes[e + 1]
                        )
                    );
                    claim_head := new_hashes[e + 1];
                END LOOP;
                INSERT INTO ledger_submissions VALUES (
                    claim ->> 'key',
                    claim ->> 'fingerprint',
                    CASE WHEN claim ->> 'reason' IS NULL THEN 'recorded' ELSE 'refused' END,
                    CASE WHEN claim_number > last_number THEN last_number + 1 END,
                    CASE WHEN claim_number > last_number THEN claim_number END,
                    claim ->> 'reason',
                    claim ->> 'message',
                    claim ->> 'at'
                );
                outcome := 'appended';
                first_number := last_number + 1;
                head_before := head;
                last_number := claim_number;
                head := claim_head;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            outcome := 'failed ' || SQLSTATE;
            first_number := NULL;
            head_before := NULL;
            new_hashes := NULL;
        END;
        RETURN NEXT;
    END LOOP;
END
$$
""".replace(":chain_lock", str(CHAIN_LOCK))
APPEND_ONLY_TABLES = ("ledger_credits", "ledger_submissions")
EVIDENCE_TABLES = (*APPEND_ONLY_TABLES, "ledger_badge_status")  # append-only, for the role too
# What the application role may do: append evidence, keep working records, erase consent.
APPLICATION_GRANTS = (
    ("SELECT, INSERT", (*EVIDENCE_TABLES, "ledger_activities")),
    ("SELECT, INSERT", ("ledger_answers",)),
    ("SELECT, INSERT, UPDATE", ("ledger_learners", "ledger_attempts")),
    ("SELECT, INSERT, UPDATE, DELETE", ("ledger_reporting_identities",)),
)


JOURNAL_CLUB_TYPES = "activity_type IN ('case', 'poc', 'journal-club')"


@migrations(transactional=False)
def m006_journal_club_activity(db: Database) -> None:
    """Let credit records name the journal-club activity type: rebuild the table, rows unchanged.

    SQLite cannot alter a CHECK, so this is its documented twelve-step table rebuild: foreign keys
    off (other tables, such as the badge status, reference the credits), then in one transaction
    copy every row (columns and hashes as they were) into a table with the wider CHECK, drop the
    old one (no row triggers fire), rename, make the indexes and append-only triggers again and
    check every foreign key; then foreign keys on again. Run again, it finds the CHECK widened.
    """
    if JOURNAL_CLUB_TYPES in db["ledger_credits"].schema:
        return
    wider = CREDITS_TABLE.replace("activity_type IN ('case', 'poc')", JOURNAL_CLUB_TYPES)
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        with db.atomic():
            db.execute(wider.replace("ledger_credits", "ledger_credits_widened"))
            db.execute("INSERT INTO ledger_credits_widened SELECT * FROM ledger_credits")
            db.execute("DROP TABLE ledger_credits")
            db.execute("ALTER TABLE ledger_credits_widened RENAME TO ledger_credits")
            db["ledger_credits"].create_index(["learner_id", "activity_key"])
            db["ledger_credits"].create_index(["learner_id", "earned_at"])
            db.execute(
                "CREATE UNIQUE INDEX ledger_credits_reversed_once ON ledger_credits (reverses) "
                "WHERE reverses IS NOT NULL"
            )
            for statement in (
                APPEND_ONLY_TRIGGERS.format(table="ledger_credits").strip().split(";\n")
            ):
                db.execute(statement)
            broken = db.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"Rebuilding ledger_credits broke foreign keys: {broken[:3]}")
    finally:
        db.execute("PRAGMA foreign_keys = ON")


PG_JOURNAL_CLUB_ACTIVITY = f"""
ALTER TABLE ledger_credits DROP CONSTRAINT ledger_credits_activity_type_check;
ALTER TABLE ledger_credits ADD CONSTRAINT ledger_credits_activity_type_check
    CHECK ({JOURNAL_CLUB_TYPES})
"""


def pg_core_tables(connection: Connection) -> None:
    """m001 on PostgreSQL: the core tables, their indexes and the append-only triggers."""
    run_statements(connection, bytewise_text(PG_CORE_TABLES))
    connection.exec_driver_sql(PG_REFUSE_CHANGE)
    for table in APPEND_ONLY_TABLES:
        run_statements(connection, PG_APPEND_ONLY_TRIGGERS.format(table=table))


def pg_reporting_identities(connection: Connection) -> None:
    """m002 on PostgreSQL: reporting identifiers, and when a learner's profile changed."""
    run_statements(connection, bytewise_text(PG_REPORTING_IDENTITIES))


def pg_certificate_credentials(connection: Connection) -> None:
    """m003 on PostgreSQL: credentials and NPI for certificates."""
    run_statements(connection, bytewise_text(PG_CERTIFICATE_CREDENTIALS))


def pg_journal_club_activity(connection: Connection) -> None:
    """m006 on PostgreSQL: the journal-club activity type in the credit records' CHECK."""
    run_statements(connection, PG_JOURNAL_CLUB_ACTIVITY)


def pg_append_claim(connection: Connection) -> None:
    """m004, PostgreSQL only: the function that appends a prepared claim in one round trip."""
    connection.exec_driver_sql(PG_APPEND_CLAIM)


def pg_append_claims(connection: Connection) -> None:
    """m005, PostgreSQL only: append a whole batch's prepared claims in one round trip, in order."""
    connection.exec_driver_sql(PG_APPEND_CLAIMS)


def pg_append_claims_locked(connection: Connection) -> None:
    """m007, PostgreSQL only: the batch append that takes the chain lock itself, in fewer steps."""
    connection.exec_driver_sql(PG_APPEND_CLAIMS_LOCKED)


LEDGER_SCHEMA = StoreSchema(
    "bedside.ledger",
    migrations,
    [
        (m001_core_tables.__name__, pg_core_tables),
        (m002_reporting_identities.__name__, pg_reporting_identities),
        (m003_certificate_credentials.__name__, pg_certificate_credentials),
        ("m004_append_claim_function", pg_append_claim),
        ("m005_append_claims_function", pg_append_claims),
        (m006_journal_club_activity.__name__, pg_journal_club_activity),
        ("m007_append_claims_locked_function", pg_append_claims_locked),
    ],
    grants=APPLICATION_GRANTS,
)


def application_role_grants(role: str) -> str:
    """The SQL that lets an application role use the ledger but never edit its evidence.

    Credit records, submissions and badge status slots get SELECT and INSERT only (revoked
    first); `bedside db grants` prints this with every other store's grants.
    """
    return role_script([LEDGER_SCHEMA], role)


def bytewise_text(ddl: str) -> str:
    """Make every TEXT column compare bytewise, as SQLite does (timestamps, ids, ordering)."""
    return re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', ddl)


def run_statements(connection: Connection, script: str) -> None:
    """Run a script of DDL statements separated by semicolons at line ends."""
    for statement in script.strip().split(";\n"):
        connection.exec_driver_sql(statement)
