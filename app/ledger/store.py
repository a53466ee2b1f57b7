"""The ledger's one storage interface (LedgerStore) and its implementation on a `Database`.

Everything the app and the CLI need goes through these methods. Credit writes are exactly-once:
the idempotency key, the chain head and the new records are read and written in one transaction
that holds the chain: `BEGIN IMMEDIATE` on SQLite (concurrent processes serialise on its write
lock) and `pg_advisory_xact_lock` on PostgreSQL (concurrent hosts serialise on the server).
Threads of one process share a commit (app/ledger/groupcommit.py).

Only INSERTs: no code path updates or deletes a credit record or a submission. The credit write
transactions (submit_claim, submit_finished_claim, submit_reversal) follow the store, each the body
of one write transaction.

PostgreSQL plan (issue #16, item 2), so the ledger keeps every promise it makes on SQLite:
- one store on a `Database` (app/database.py; the ledger's own, with LEDGER_SETTINGS, so SQLite
  keeps synchronous=FULL), its SQL written once with named parameters and `ON CONFLICT`;
- the chain head serialised on PostgreSQL by `pg_advisory_xact_lock`, taken once per write
  transaction before its first write (replay check, held credits, head, inserts all after it),
  as BEGIN IMMEDIATE serialises them on SQLite; the idempotency key's primary key stays the last
  line of defence;
- on PostgreSQL a claim is read and decided before the lock and appended under it in one round
  trip for the whole batch (the function `ledger_append_claims_locked`, schema.py, which takes
  the lock itself), which checks that the key is still unused and the learner's records are as
  read; otherwise, or on any doubt, the claim runs the general path under the lock. Hosts queue
  on the lock, so what it holds decides credits/s: nine round trips a claim before, one a batch
  now (figures in bench/README.md);
- group commit serves both engines (one code path): a batch takes the chain lock once and
  commits (one WAL flush) once. Measured before the one-statement append, 2 host processes x 8
  threads, PostgreSQL 15 on the same shared 2-core machine, fsync and synchronous_commit on:
  ~290-360 credits/s with group commit, ~155-200/s with one transaction per claim, ~160-210/s
  with one per claim and finer locks (key, then learner, then chain head; not kept); with the
  one-statement append 655-1,032/s (bench/README.md);
- append-only in the database: triggers raising on UPDATE, DELETE and TRUNCATE, and the SQL
  that grants a least-privilege application role SELECT and INSERT only on those tables;
- durability: the ledger refuses to start on a server whose synchronous_commit or fsync is off.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, String, bindparam, text
from sqlalchemy.exc import DBAPIError

from app import db
from app.database import POSTGRESQL, Database, DatabaseUrl, sqlite_path_url
from app.db import LEDGER_SETTINGS
from app.errors import ConfigError
from app.identity import idempotency_hash, learner_id, normalise_issuer, request_hash
from app.ledger import attempts, badge_status
from app.ledger.chain import (
    GENESIS,
    RECORD_COLUMNS,
    CreditRecord,
    canonical_json,
    from_hundredths,
    parse_timestamp,
    seal,
    seal_text,
    text_before_sequence,
    timestamp,
    to_hundredths,
)
from app.ledger.groupcommit import BatchedRead, GroupCommit
from app.ledger.models import (
    AlreadyReversed,
    Answer,
    Attempt,
    ClaimRequest,
    Decide,
    Decision,
    IdempotencyConflict,
    Learner,
    LedgerError,
    ReportingIdentity,
    Submission,
    UnknownRecord,
)
from app.ledger.privacy import check_free_of_patient_data, check_text
from app.ledger.rules import CreditAward, HeldCredit, Refusal, activity_key
from app.ledger.schema import CHAIN_LOCK, LEDGER_SCHEMA, migrations

Clock = Callable[[], datetime]
# A finished attempt's claim: the request and the rule that decides it, or why there is none yet.
Claim = tuple[ClaimRequest, Decide] | Refusal

COLUMNS = ", ".join(RECORD_COLUMNS)
CREDITS_OF = text(
    f"SELECT {COLUMNS} FROM ledger_credits WHERE learner_id IN :learners ORDER BY sequence"
).bindparams(bindparam("learners", expanding=True, type_=String))
INSERT_RECORD = (
    f"INSERT INTO ledger_credits ({COLUMNS}) "
    f"VALUES ({', '.join(':' + name for name in RECORD_COLUMNS)})"
)


def held_credits_sql(learner: str, activity: str, start: str, end: str, history: str) -> str:
    """The learner's unreversed credits for an activity, in a window or of a kind, as SQL.

    `history` is a LIKE pattern of activity keys held whenever they were earned (point-of-care
    cycles: a question earns credit once, in any year); '' matches no key.
    """
    return f"""
SELECT activity_key, credit_type, amount_hundredths, earned_at, attempt_id
FROM ledger_credits AS c
WHERE learner_id = {learner} AND kind = 'credit'
AND (activity_key = {activity} OR earned_at BETWEEN {start} AND {end}
     OR activity_key LIKE {history})
AND NOT EXISTS (SELECT 1 FROM ledger_credits AS r WHERE r.reverses = c.sequence)
"""


HELD_CREDITS = held_credits_sql(":learner", ":activity", ":start", ":end", ":history")
SUBMISSION_COLUMNS = (
    "idempotency_hash",
    "request_hash",
    "outcome",
    "first_sequence",
    "last_sequence",
    "refusal_reason",
    "refusal_message",
    "submitted_at",
)
INSERT_SUBMISSION = (
    f"INSERT INTO ledger_submissions ({', '.join(SUBMISSION_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in SUBMISSION_COLUMNS)})"
)
NO_SUCH_LEARNER = "No learner has that id; call ensure_learner first."
LEARNERS_PER_READ = 500  # learner ids bound in one statement (SQLite allows 32,766 variables)
#: Activity types whose rule reads the learner's credits of that kind from every year (LIKE).
WHOLE_HISTORY = {"poc": "poc:%"}


def claim_field(name: str) -> str:
    """One field of a claim in CLAIM_STATES' JSON array, as SQL text."""
    return f"(claim.fields ->> '{name}')"


# On PostgreSQL a batch's claims are read in one statement: per claim (in order) the key's earlier
# fingerprint, whether the learner exists, the learner's newest record (for ledger_append_claim to
# check) and the held credits.
CLAIMS_HELD = held_credits_sql(
    *map(claim_field, ("learner", "activity", "start", "end", "history"))
)
CLAIM_STATES = f"""
SELECT (SELECT request_hash FROM ledger_submissions WHERE idempotency_hash = {claim_field("key")}),
       EXISTS (SELECT 1 FROM ledger_learners WHERE learner_id = {claim_field("learner")}),
       (SELECT coalesce(max(sequence), 0) FROM ledger_credits
        WHERE learner_id = {claim_field("learner")}),
       (SELECT coalesce(json_agg(json_build_array(
            activity_key, credit_type, amount_hundredths, earned_at, attempt_id)), '[]')
        FROM ({CLAIMS_HELD}) AS held)
FROM jsonb_array_elements(CAST(%(claims)s AS JSONB)) WITH ORDINALITY AS claim(fields, n)
ORDER BY claim.n
"""
APPEND_CLAIMS = (
    "SELECT outcome, first_number, head_before, new_hashes "
    "FROM ledger_append_claims_locked(CAST(%(claims)s AS JSONB))"
)


class LedgerStore(Protocol):
    """What Bedside asks of ledger storage."""

    def ensure_learner(self, issuer: str, fhir_user: str) -> str: ...
    def learner(self, learner_id: str) -> Learner | None: ...
    def update_profile(self, learner_id: str, **profile: str) -> None: ...
    def record_attempt(
        self, learner_id: str, activity: tuple[str, str, str], attempt_id: str, at: datetime
    ) -> Attempt: ...
    def record_answer(self, answer: Answer) -> bool: ...
    def complete_attempt(
        self, attempt_id: str, correct: int, total: int, pass_mark: int
    ) -> Attempt: ...
    def attempt(self, attempt_id: str) -> Attempt | None: ...
    def answers(self, attempt_id: str) -> list[Answer]: ...
    def attempts_of(self, learner_id: str) -> list[Attempt]: ...
    def submit(self, request: ClaimRequest, idempotency_key: str, decide: Decide) -> Submission: ...
    def complete_and_submit(
        self,
        attempt_id: str,
        score: tuple[int, int, int],
        claim: Callable[[Attempt], Claim],
        idempotency_key: str,
    ) -> Submission: ...
    def answer_and_submit(
        self,
        answer: Answer,
        claim: Callable[[Attempt, list[Answer]], Claim],
        idempotency_key: str,
    ) -> Submission: ...
    def submission(self, idempotency_key: str) -> Submission | None: ...
    def append_credit(
        self, request: ClaimRequest, awards: Sequence[CreditAward], idempotency_key: str
    ) -> Submission: ...
    def append_reversal(self, sequence: int, reason: str, idempotency_key: str) -> Submission: ...
    def credits_for(
        self, learner_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[CreditRecord]: ...
    def credits_of(self, learner_ids: Collection[str]) -> dict[str, list[CreditRecord]]: ...
    def iter_chain(self, after: int = 0) -> Iterator[CreditRecord]: ...
    def referenced_head(self) -> int: ...
    def set_reporting_identity(self, learner_id: str, identity: ReportingIdentity) -> None: ...
    def reporting_identity(self, learner_id: str) -> ReportingIdentity | None: ...
    def withdraw_reporting_consent(self, learner_id: str) -> None: ...
    def close(self) -> None: ...


class SqlLedgerStore:
    """The ledger in a SQLite file (WAL, synchronous=FULL) or on PostgreSQL (synchronous_commit)."""

    def __init__(
        self,
        database: Database,
        identity_key: bytes | None,
        *,
        clock: Clock | None = None,
        migrate: bool = True,
    ):
        self.database = database
        try:
            if migrate:
                database.migrate(LEDGER_SCHEMA)
            if database.dialect == POSTGRESQL:
                if migrate:  # the application role may not create tables later
                    database.migrate(badge_status.BADGES_SCHEMA)
                check_durability(database)
        except BaseException:
            database.dispose()  # the store owns its database: refused, it leaves nothing open
            raise
        self._key = identity_key
        self._clock = clock or (lambda: datetime.now(UTC))
        self._writer = GroupCommit(database, begin=lock_chain_head)
        self._one_trip = database.dialect == POSTGRESQL

    def close(self) -> None:
        """Close every connection this store opened (no work may be in flight)."""
        self.database.dispose()

    def ensure_learner(self, issuer: str, fhir_user: str) -> str:
        """Return the learner id for this EHR user, creating the learner once."""
        learner = learner_id(self._identity_key(), issuer, fhir_user)
        if self.learner(learner) is None:  # most launches are by known learners: no write, no sync
            now = self._clock()
            issuer = normalise_issuer(issuer)
            self._write(lambda c: attempts.insert_learner(c, learner, issuer, now))
        return learner

    def learner(self, learner_id: str) -> Learner | None:
        """Return a learner."""
        with self.database.read() as connection:
            return attempts.read_learner(connection, learner_id)

    def update_profile(self, learner_id: str, **profile: str) -> None:
        """Set profile fields the learner entered (profession, specialty, language)."""
        now = self._clock()
        self._write(lambda c: attempts.update_profile(c, learner_id, profile, now))

    def record_attempt(
        self, learner_id: str, activity: tuple[str, str, str], attempt_id: str, at: datetime
    ) -> Attempt:
        """Start an attempt at (type, module id, version); the id is a client-made UUID."""
        attempt = Attempt(str(uuid.UUID(attempt_id)), learner_id, activity_key(*activity), at)
        return self._write(lambda c: attempts.insert_attempt(c, attempt, activity))

    def record_answer(self, answer: Answer) -> bool:
        """Record an answer or point-of-care step once; False on a retry."""
        return self._write(lambda c: attempts.insert_answer(c, answer))

    def complete_attempt(
        self, attempt_id: str, correct: int, total: int, pass_mark: int
    ) -> Attempt:
        """Record an attempt's score once."""
        now = self._clock()
        score = (correct, total, pass_mark)
        return self._write(lambda c: attempts.complete(c, attempt_id, score, now))

    def attempt(self, attempt_id: str) -> Attempt | None:
        """Return an attempt."""
        with self.database.read() as connection:
            return attempts.read_attempt(connection, attempt_id)

    def answers(self, attempt_id: str) -> list[Answer]:
        """Return an attempt's answers."""
        with self.database.read() as connection:
            return attempts.read_answers(connection, attempt_id)

    def attempts_of(self, learner_id: str) -> list[Attempt]:
        """Return every attempt of a learner, oldest first."""
        with self.database.read() as connection:
            return attempts.read_attempts_of(connection, learner_id)

    def submit(self, request: ClaimRequest, idempotency_key: str, decide: Decide) -> Submission:
        """Decide (a pure rule, given the learner's held credits) and append, exactly once."""
        check_free_of_patient_data(dict(request.evidence), "evidence")
        keys = self._keys(idempotency_key, request.fingerprint_fields())
        now = self._clock()
        return self._claim(
            lambda c: submit_claim(c, request, keys, decide, now),
            BatchedRead(prepare_claims, ClaimInput(request, keys, decide, now)),
        )

    def complete_and_submit(
        self,
        attempt_id: str,
        score: tuple[int, int, int],
        claim: Callable[[Attempt], Claim],
        idempotency_key: str,
    ) -> Submission:
        """Record an attempt's score (correct, total, pass mark) and claim its credit, in one go."""
        now = self._clock()

        keys_for = self._keys_for(idempotency_key)

        def work(connection: Connection) -> Submission:
            """Complete (or find completed) the attempt, then submit the claim made from it."""
            attempt = attempts.complete(connection, attempt_id, score, now)
            return submit_finished_claim(connection, claim(attempt), keys_for, now)

        completing = CompletionInput(attempt_id, score, claim, keys_for, now)
        return self._claim(work, BatchedRead(prepare_completions, completing))

    def answer_and_submit(
        self,
        answer: Answer,
        claim: Callable[[Attempt, list[Answer]], Claim],
        idempotency_key: str,
    ) -> Submission:
        """Record an attempt's last step and claim its credit, in one go."""
        now = self._clock()

        def work(connection: Connection) -> Submission:
            """Record the step, then submit the claim made from the attempt and all its steps."""
            attempts.insert_answer(connection, answer)
            attempt = attempts.read_attempt(connection, answer.attempt_id)
            steps = attempts.read_answers(connection, answer.attempt_id)
            return submit_finished_claim(
                connection, claim(attempt, steps), self._keys_for(idempotency_key), now
            )

        return self._write(work)

    def submission(self, idempotency_key: str) -> Submission | None:
        """Return what the submission with this key recorded or refused (reads only)."""
        stored_key = idempotency_hash(self._identity_key(), idempotency_key)
        with self.database.read() as connection:
            return stored_submission(connection, stored_key)

    def append_credit(
        self, request: ClaimRequest, awards: Sequence[CreditAward], idempotency_key: str
    ) -> Submission:
        """Append credit decided elsewhere (imports, corrections), exactly once."""
        fields = request.fingerprint_fields()
        fields["awards"] = [[a.credit_type, str(a.amount), str(a.designated)] for a in awards]
        check_free_of_patient_data(dict(request.evidence), "evidence")
        keys = self._keys(idempotency_key, fields)
        now = self._clock()
        decision = list(awards)
        return self._claim(
            lambda c: submit_claim(c, request, keys, lambda _: decision, now),
            BatchedRead(prepare_claims, ClaimInput(request, keys, lambda _: decision, now)),
        )

    def append_reversal(self, sequence: int, reason: str, idempotency_key: str) -> Submission:
        """Cancel a credit record with a reversal entry, exactly once."""
        check_text(reason, "reversal reason")
        keys = self._keys(idempotency_key, {"reverses": sequence, "reason": reason})
        now = self._clock()
        return self._write(lambda c: submit_reversal(c, sequence, reason, keys, now))

    def credits_for(
        self, learner_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[CreditRecord]:
        """Return a learner's records (credits and reversals) earned in [start, end)."""
        window = {"learner": learner_id}
        if start:
            window["start"] = timestamp(start)
        if end:
            window["end"] = timestamp(end)
        bounds = "".join(
            condition
            for name, condition in (
                ("start", " AND earned_at >= :start"),
                ("end", " AND earned_at < :end"),
            )
            if name in window
        )
        query = f"SELECT {COLUMNS} FROM ledger_credits WHERE learner_id = :learner{bounds} "
        with self.database.read() as connection:
            rows = connection.execute(text(query + "ORDER BY sequence"), window)
            return [CreditRecord(*row) for row in rows]

    def credits_of(self, learner_ids: Collection[str]) -> dict[str, list[CreditRecord]]:
        """Every record (credits and reversals) of these learners, by learner, in chain order."""
        wanted = sorted(set(learner_ids))
        found: dict[str, list[CreditRecord]] = {learner: [] for learner in wanted}
        with self.database.read() as connection:
            for start in range(0, len(wanted), LEARNERS_PER_READ):
                rows = connection.execute(
                    CREDITS_OF, {"learners": wanted[start : start + LEARNERS_PER_READ]}
                )
                for row in rows:
                    record = CreditRecord(*row)
                    found[record.learner_id].append(record)
        return found

    def iter_chain(self, after: int = 0) -> Iterator[CreditRecord]:
        """Yield every credit record after a sequence number, in chain order (one snapshot)."""
        query = text(
            f"SELECT {COLUMNS} FROM ledger_credits WHERE sequence > :after ORDER BY sequence"
        )
        with self.database.read() as connection:
            streaming = connection.execution_options(stream_results=True, yield_per=1000)
            rows = streaming.execute(query, {"after": after})
            try:
                for row in rows:
                    yield CreditRecord(*row)
            finally:
                rows.close()  # a walk stopped early (checkpoints) closes PostgreSQL's cursor

    def referenced_head(self) -> int:
        """Return the highest sequence any submission refers to (0 when none)."""
        with self.database.read() as connection:
            return connection.execute(
                text("SELECT coalesce(max(last_sequence), 0) FROM ledger_submissions")
            ).scalar_one()

    def set_reporting_identity(self, learner_id: str, identity: ReportingIdentity) -> None:
        """Keep reporting identifiers the learner entered, with consent given now."""
        now = self._clock()
        self._write(lambda c: attempts.upsert_identity(c, learner_id, identity, now))

    def reporting_identity(self, learner_id: str) -> ReportingIdentity | None:
        """Return the learner's reporting identifiers, if they consented."""
        with self.database.read() as connection:
            return attempts.read_identity(connection, learner_id)

    def withdraw_reporting_consent(self, learner_id: str) -> None:
        """Erase the learner's reporting identifiers (credit records stay; they hold none)."""
        self._write(
            lambda c: c.execute(
                text("DELETE FROM ledger_reporting_identities WHERE learner_id = :learner"),
                {"learner": learner_id},
            )
        )

    def _keys(self, idempotency_key: str, fingerprint: dict) -> tuple[str, str]:
        """Return the stored forms of the idempotency key and the request fingerprint."""
        return idempotency_hash(self._identity_key(), idempotency_key), request_hash(fingerprint)

    def _keys_for(self, idempotency_key: str) -> Callable[[ClaimRequest], tuple[str, str]]:
        """Return a function giving the stored keys of a request made under this key."""
        return lambda request: self._keys(idempotency_key, request.fingerprint_fields())

    def _identity_key(self) -> bytes:
        """Return the identity key; a store opened without one (to verify) cannot write."""
        if not self._key:
            raise LedgerError("This ledger store was opened without an identity key (read-only).")
        return self._key

    def _write(self, work):
        """Run work(connection) in a durable write transaction (group-committed), chain first.

        A batch holding the chain lock may next write a row (a double-submitted answer) that
        another host already wrote and holds while it waits for the chain lock: the writer locks
        the chain before any row is written, one lock order, so hosts queue, not deadlock.
        """
        return self._writer.run(work)

    def _claim(
        self,
        work: Callable[[Connection], Submission],
        prepare: BatchedRead,
    ) -> Submission:
        """Write a claim: on PostgreSQL decided before the chain lock, appended in one trip."""
        if not self._one_trip:
            return self._writer.run(work)
        return self._writer.run(work, prepare=prepare, atomic=append_all_prepared)


def ledger_database(where: Path | str | DatabaseUrl) -> Database:
    """The ledger's own Database: a SQLite file (synchronous=FULL) or a PostgreSQL URL."""
    url = where if isinstance(where, DatabaseUrl) else sqlite_path_url(Path(where))
    return Database(url, LEDGER_SETTINGS)


def check_durability(database: Database) -> None:
    """Refuse a PostgreSQL server that could lose an acknowledged credit in a crash."""
    with database.read() as connection:
        synchronous = connection.execute(text("SHOW synchronous_commit")).scalar_one()
        fsync = connection.execute(text("SHOW fsync")).scalar_one()
    if synchronous == "off" or fsync == "off":
        raise ConfigError(
            f"PostgreSQL runs with synchronous_commit={synchronous} and fsync={fsync}: a credit "
            "acknowledged to a learner could be lost in a crash; the ledger needs both on "
            "(ALTER ROLE … SET synchronous_commit = on)."
        )


def lock_chain_head(connection: Connection) -> None:
    """Hold the chain head until commit (on SQLite, BEGIN IMMEDIATE's write lock already does)."""
    if connection.dialect.name == POSTGRESQL:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


def apply_migrations(path: Path) -> list[str]:
    """Apply pending ledger migrations under the migration lock; return the names applied."""
    return db.apply_migrations(path, migrations, LEDGER_SETTINGS)


def applied_migrations(path: Path) -> list[str]:
    """Return the ledger migrations already applied to a database file."""
    return db.applied_migrations(path, migrations, LEDGER_SETTINGS)


def submit_claim(
    connection: Connection,
    request: ClaimRequest,
    keys: tuple[str, str],
    decide: Decide,
    now: datetime,
) -> Submission:
    """Replay an earlier submission with this key, or decide and append the credit records."""
    idempotency_hash, fingerprint = keys
    earlier = replay(connection, idempotency_hash, fingerprint)
    if earlier is not None:
        return earlier
    if not connection.execute(
        text("SELECT 1 FROM ledger_learners WHERE learner_id = :learner"),
        {"learner": request.learner_id},
    ).fetchone():
        raise UnknownRecord(NO_SUCH_LEARNER)
    claim = decided_claim(request, keys, decide(held_credits(connection, request)), now)
    if claim.refusal is not None:
        record_submission(connection, keys, now, refusal=claim.refusal)
        return Submission(created=True, refusal=claim.refusal)
    records = append_records(connection, claim.entries)
    record_submission(connection, keys, now, records=records)
    return Submission(created=True, records=tuple(records))


@dataclass(frozen=True)
class PreparedClaim:
    """A claim read and decided before the chain lock, for ledger_append_claim to append."""

    keys: tuple[str, str]
    learner_id: str
    seen_sequence: int  # the learner's newest record when the claim was decided
    entries: list[dict]  # the records' fields, all but sequence and hashes
    refusal: Refusal | None
    submitted_at: str
    completion: dict | None = None  # the attempt to complete in the same statement


@dataclass(frozen=True)
class ClaimInput:
    """A claim to read and decide before the chain lock, with the rest of its batch."""

    request: ClaimRequest
    keys: tuple[str, str]
    decide: Decide
    now: datetime
    completion: dict | None = None  # the attempt to complete in the same statement


def prepare_claims(
    connection: Connection, inputs: list[ClaimInput]
) -> list[Submission | PreparedClaim | Exception]:
    """Read and decide a batch's claims in one statement, without the chain lock."""
    windows = [{"key": item.keys[0], **held_window(item.request)} for item in inputs]
    rows = driver_rows(connection, CLAIM_STATES, {"claims": canonical_json(windows)})
    return [claim_from_state(connection, item, row) for item, row in zip(inputs, rows, strict=True)]


def driver_rows(connection: Connection, statement: str, parameters: dict) -> list[tuple]:
    """Run a PostgreSQL statement (psycopg's %(name)s parameters) on the driver's own cursor.

    For the batch read and append, which every claim goes through: SQLAlchemy's execution and
    result machinery around them cost more CPU than psycopg's whole call (about 150 µs a call,
    measured). The statement joins the connection's transaction as SQLAlchemy's would.
    """
    with connection.connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        return cursor.fetchall()


def claim_from_state(
    connection: Connection, item: ClaimInput, row
) -> Submission | PreparedClaim | Exception:
    """One claim from its state: an earlier outcome, what to append, or why it cannot be made."""
    used, known, seen, held = row
    idempotency_hash, fingerprint = item.keys
    try:
        if used is not None:
            return replay(connection, idempotency_hash, fingerprint)
        if not known:
            raise UnknownRecord(NO_SUCH_LEARNER)
        decision = item.decide(held_from_rows(held))
        prepared = decided_claim(item.request, item.keys, decision, item.now, seen)
    except DBAPIError:
        raise
    except Exception as error:
        return error
    return prepared if item.completion is None else replace(prepared, completion=item.completion)


@dataclass(frozen=True)
class CompletionInput:
    """An attempt to complete and claim credit for, read with the rest of its batch."""

    attempt_id: str
    score: tuple[int, int, int]  # correct, total, pass mark
    claim: Callable[[Attempt], Claim]
    keys_for: Callable[[ClaimRequest], tuple[str, str]]
    now: datetime


def prepare_completions(
    connection: Connection, inputs: list[CompletionInput]
) -> list[PreparedClaim | Exception | None]:
    """Decide a batch's completed attempts' claims in two statements (None: the general path)."""
    found = attempts.read_attempts(connection, [item.attempt_id for item in inputs])
    outcomes: list[PreparedClaim | Exception | None] = [None] * len(inputs)
    claims: dict[int, ClaimInput] = {}
    for n, item in enumerate(inputs):
        try:
            made = completion_claim(found.get(item.attempt_id), item)
        except Exception as error:
            outcomes[n] = error
            continue
        if made is not None:
            claims[n] = made
    decided = prepare_claims(connection, list(claims.values())) if claims else []
    for n, outcome in zip(claims, decided, strict=True):
        outcomes[n] = None if isinstance(outcome, Submission) else outcome
    return outcomes


def completion_claim(attempt: Attempt | None, item: CompletionInput) -> ClaimInput | None:
    """The claim an attempt makes once completed with its score (None: the general path decides)."""
    if attempt is None or attempt.completed_at is not None:
        return None
    correct, total, pass_mark = item.score
    finished = replace(
        attempt, completed_at=item.now, correct=correct, total=total, pass_mark_percent=pass_mark
    )
    made = item.claim(finished)
    if isinstance(made, Refusal):
        return None
    request, decide = made
    check_free_of_patient_data(dict(request.evidence), "evidence")
    completion = {"attempt_id": item.attempt_id, "completed_at": timestamp(item.now)}
    completion.update(zip(("correct", "total", "pass_mark_percent"), item.score, strict=True))
    return ClaimInput(request, item.keys_for(request), decide, item.now, completion)


def decided_claim(
    request: ClaimRequest,
    keys: tuple[str, str],
    decision: Decision,
    now: datetime,
    seen_sequence: int = 0,
) -> PreparedClaim:
    """What a rule's decision makes of a claim: its records' fields, or its refusal."""
    refusal = decision if isinstance(decision, Refusal) else None
    if refusal is None and not decision:
        raise ValueError("A decision grants at least one award, or refuses.")
    build = record_builder(request, keys[0], now)
    entries = [] if refusal else [build(award) for award in decision]
    return PreparedClaim(keys, request.learner_id, seen_sequence, entries, refusal, timestamp(now))


def append_all_prepared(connection: Connection, batch: list) -> list[Submission | None]:
    """Append a batch's prepared claims in one statement; None where the general path decides."""
    outcomes: list[Submission | None] = [p if isinstance(p, Submission) else None for p in batch]
    ready = [(n, p) for n, p in enumerate(batch) if isinstance(p, PreparedClaim)]
    if not ready:
        return outcomes  # replays only: submissions never change once stored
    texts = [[text_before_sequence(e) for e in prepared.entries] for _, prepared in ready]
    claims = canonical_json(
        [append_parameters(p, t) for (_, p), t in zip(ready, texts, strict=True)]
    )
    rows = driver_rows(connection, APPEND_CLAIMS, {"claims": claims})
    for (n, prepared), before, row in zip(ready, texts, rows, strict=True):
        outcomes[n] = appended_submission(prepared, before, *row)
    return outcomes


def appended_submission(
    prepared: PreparedClaim,
    texts: list[str],
    outcome: str,
    first: int,
    prev_hash: str,
    made: list[str],
) -> Submission | None:
    """The submission one appended claim made; None for a replay, stale read or database refusal."""
    if outcome != "appended":
        return None
    if prepared.refusal is not None:
        return Submission(created=True, refusal=prepared.refusal)
    records = sealed_as_stored(prepared, texts, first, prev_hash, made)
    return Submission(created=True, records=tuple(records))


def append_parameters(prepared: PreparedClaim, texts: list[str]) -> dict:
    """One claim's arguments for ledger_append_claim, as an element of the batch's JSON array."""
    idempotency_hash, fingerprint = prepared.keys
    refusal = prepared.refusal
    entries = [
        {**entry, "text_before_sequence": before}
        for entry, before in zip(prepared.entries, texts, strict=True)
    ]
    return {
        "key": idempotency_hash,
        "fingerprint": fingerprint,
        "learner": prepared.learner_id,
        "seen": prepared.seen_sequence,
        "entries": entries,
        "reason": refusal.reason if refusal else None,
        "message": refusal.message if refusal else None,
        "at": prepared.submitted_at,
        "completion": prepared.completion,
    }


def sealed_as_stored(
    prepared: PreparedClaim, texts: list[str], first: int, prev_hash: str, made: list[str]
):
    """The appended records, each hash recomputed here; a difference fails the whole batch.

    The hash is taken over the very text sent (each record's JSON up to its sequence number),
    so Python and PostgreSQL agree only if the database kept that text's every character.
    """
    records = []
    for offset, (entry, before) in enumerate(zip(prepared.entries, texts, strict=True)):
        record = seal_text(prev_hash, before, first + offset, **entry)
        if record.record_hash != made[offset]:
            raise LedgerError(
                f"PostgreSQL hashed record #{record.sequence} differently from Bedside; nothing "
                "in this batch was recorded (is the database's encoding UTF8?)."
            )
        records.append(record)
        prev_hash = record.record_hash
    return records


def submit_finished_claim(
    connection: Connection,
    claim: Claim,
    keys_for: Callable[[ClaimRequest], tuple[str, str]],
    now: datetime,
) -> Submission:
    """Submit the claim of an attempt finished in this same transaction (a refusal is not kept)."""
    if isinstance(claim, Refusal):
        return Submission(created=False, refusal=claim)
    request, decide = claim
    check_free_of_patient_data(dict(request.evidence), "evidence")
    return submit_claim(connection, request, keys_for(request), decide, now)


def submit_reversal(
    connection: Connection,
    sequence: int,
    reason: str,
    keys: tuple[str, str],
    now: datetime,
) -> Submission:
    """Append a reversal entry that cancels one credit record (corrections never edit)."""
    idempotency_hash, fingerprint = keys
    earlier = replay(connection, idempotency_hash, fingerprint)
    if earlier is not None:
        return earlier
    original = read_record(connection, sequence)
    if original is None:
        raise UnknownRecord(f"There is no credit record #{sequence}.")
    if (
        original.kind == "reversal"
        or connection.execute(
            text("SELECT 1 FROM ledger_credits WHERE reverses = :sequence"), {"sequence": sequence}
        ).fetchone()
    ):
        raise AlreadyReversed(f"Record #{sequence} is a reversal or was already reversed.")
    fields = {name: getattr(original, name) for name in RECORD_COLUMNS[:-2]}
    fields.update(
        kind="reversal",
        amount_hundredths=-original.amount_hundredths,
        designated_hundredths=-original.amount_hundredths,
        evidence=canonical_json({"reverses_hash": original.record_hash}),
        reverses=sequence,
        reason=reason,
        idempotency_hash=idempotency_hash,
        recorded_at=timestamp(now),
    )
    records = append_records(connection, [fields])
    record_submission(connection, keys, now, records=records)
    return Submission(created=True, records=tuple(records))


def replay(connection: Connection, idempotency_hash: str, fingerprint: str):
    """Return the stored outcome of an earlier submission with this key (None when new)."""
    row = connection.execute(
        text("SELECT request_hash FROM ledger_submissions WHERE idempotency_hash = :key"),
        {"key": idempotency_hash},
    ).fetchone()
    if row is None:
        return None
    if row[0] != fingerprint:
        raise IdempotencyConflict(
            "This idempotency key was already used for a different submission; use a new key."
        )
    return stored_submission(connection, idempotency_hash)


def stored_submission(connection: Connection, idempotency_hash: str) -> Submission | None:
    """Return what the submission with this key recorded or refused (None when there was none)."""
    row = connection.execute(
        text(
            "SELECT outcome, first_sequence, last_sequence, refusal_reason, refusal_message "
            "FROM ledger_submissions WHERE idempotency_hash = :key"
        ),
        {"key": idempotency_hash},
    ).fetchone()
    if row is None:
        return None
    outcome, first, last, reason, message = row
    if outcome == "refused":
        return Submission(created=False, refusal=Refusal(reason, message))
    rows = connection.execute(
        text(
            f"SELECT {COLUMNS} FROM ledger_credits "
            "WHERE sequence BETWEEN :first AND :last ORDER BY sequence"
        ),
        {"first": first, "last": last},
    )
    return Submission(created=False, records=tuple(CreditRecord(*row) for row in rows))


def held_credits(connection: Connection, request: ClaimRequest) -> list[HeldCredit]:
    """Return the learner's unreversed credits for this activity, in its UTC year or its history."""
    return held_from_rows(connection.execute(text(HELD_CREDITS), held_window(request)))


def held_window(request: ClaimRequest) -> dict[str, str]:
    """The parameters of HELD_CREDITS: the learner, the activity, its UTC year and history."""
    start, end = year_bounds(request.earned_at.astimezone(UTC).year)
    return {
        "learner": request.learner_id,
        "activity": request.activity_key,
        "start": start,
        "end": end,
        "history": WHOLE_HISTORY.get(request.activity_type, ""),
    }


@functools.lru_cache(maxsize=8)
def year_bounds(year: int) -> tuple[str, str]:
    """The first and last ledger timestamps of a UTC year (claims mostly share one or two years)."""
    return (
        timestamp(datetime(year, 1, 1, tzinfo=UTC)),
        timestamp(datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    )


def held_from_rows(rows) -> list[HeldCredit]:
    """Held credits from (activity key, credit type, hundredths, earned at, attempt) rows."""
    return [
        HeldCredit(key, kind, from_hundredths(hundredths), parse_timestamp(earned_at), attempt)
        for key, kind, hundredths, earned_at, attempt in rows
    ]


def record_builder(
    request: ClaimRequest, idempotency_hash: str, now: datetime
) -> Callable[[CreditAward], dict]:
    """Return a function turning an award into the fields of a credit record."""
    common = {
        "kind": "credit",
        "learner_id": request.learner_id,
        "activity_key": request.activity_key,
        "activity_type": request.activity_type,
        "module_id": request.module_id,
        "module_version": request.module_version,
        "attempt_id": request.attempt_id,
        "earned_at": timestamp(request.earned_at),
        "evidence": canonical_json(dict(request.evidence)),
        "reverses": None,
        "reason": None,
        "idempotency_hash": idempotency_hash,
        "recorded_at": timestamp(now),
    }

    def build(award: CreditAward) -> dict:
        """Fill in one award's type and amounts."""
        return {
            **common,
            "credit_type": award.credit_type,
            "amount_hundredths": to_hundredths(award.amount),
            "designated_hundredths": to_hundredths(award.designated),
        }

    return build


def append_records(connection: Connection, entries: list[dict]) -> list[CreditRecord]:
    """Number and hash-chain the entries after the current head, and insert them."""
    head = connection.execute(
        text("SELECT sequence, record_hash FROM ledger_credits ORDER BY sequence DESC LIMIT 1")
    ).fetchone()
    sequence, prev_hash = head if head else (0, GENESIS)
    records = []
    for entry in entries:
        sequence += 1
        record = seal(prev_hash, **{**entry, "sequence": sequence})
        records.append(record)
        prev_hash = record.record_hash
    connection.execute(
        text(INSERT_RECORD),
        [{name: getattr(record, name) for name in RECORD_COLUMNS} for record in records],
    )
    return records


def record_submission(
    connection: Connection,
    keys: tuple[str, str],
    now: datetime,
    *,
    records: list[CreditRecord] | None = None,
    refusal: Refusal | None = None,
) -> None:
    """Remember the key, the request fingerprint and the outcome (for exactly-once replays)."""
    first = records[0].sequence if records else None
    last = records[-1].sequence if records else None
    values = (
        *keys,
        "refused" if refusal else "recorded",
        first,
        last,
        refusal.reason if refusal else None,
        refusal.message if refusal else None,
        timestamp(now),
    )
    connection.execute(text(INSERT_SUBMISSION), dict(zip(SUBMISSION_COLUMNS, values, strict=True)))


def read_record(connection: Connection, sequence: int) -> CreditRecord | None:
    """Return one credit record by sequence number."""
    row = connection.execute(
        text(f"SELECT {COLUMNS} FROM ledger_credits WHERE sequence = :sequence"),
        {"sequence": sequence},
    ).fetchone()
    return CreditRecord(*row) if row else None
