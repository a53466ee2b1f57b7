"""The ledger's one storage interface (LedgerStore) and its SQLite implementation.

Everything the app and the CLI need goes through these methods, so a server database can take
over by implementing the same protocol. Credit writes are exactly-once: the idempotency key, the
chain head and the new records are read and written in one `BEGIN IMMEDIATE` transaction, so
concurrent processes serialise on SQLite's write lock and threads of one process share a commit.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from app import db
from app.db import LEDGER_SETTINGS, SqliteStore, connect
from app.identity import idempotency_hash, learner_id, normalise_issuer, request_hash
from app.ledger import learning, writes
from app.ledger.chain import CreditRecord, timestamp
from app.ledger.errors import LedgerError
from app.ledger.groupcommit import GroupCommit
from app.ledger.models import (
    Answer,
    Attempt,
    ClaimRequest,
    Decide,
    Learner,
    ReportingIdentity,
    Submission,
)
from app.ledger.privacy import check_free_of_patient_data, check_text
from app.ledger.rules import CreditAward, activity_key
from app.ledger.schema import migrations

Clock = Callable[[], datetime]


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
    def submit(self, request: ClaimRequest, idempotency_key: str, decide: Decide) -> Submission: ...
    def complete_and_submit(
        self,
        attempt_id: str,
        score: tuple[int, int, int],
        claim: Callable[[Attempt], writes.Claim],
        idempotency_key: str,
    ) -> Submission: ...
    def answer_and_submit(
        self,
        answer: Answer,
        claim: Callable[[Attempt, list[Answer]], writes.Claim],
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
    def iter_chain(self, after: int = 0) -> Iterator[CreditRecord]: ...
    def referenced_head(self) -> int: ...
    def set_reporting_identity(self, learner_id: str, identity: ReportingIdentity) -> None: ...
    def reporting_identity(self, learner_id: str) -> ReportingIdentity | None: ...
    def withdraw_reporting_consent(self, learner_id: str) -> None: ...
    def close(self) -> None: ...


class SqliteLedgerStore(SqliteStore):
    """The ledger in the SQLite file shared with the CDS store (WAL, synchronous=FULL)."""

    def __init__(
        self,
        path: Path | str,
        identity_key: bytes | None,
        *,
        clock: Clock | None = None,
        migrate: bool = True,
    ):
        super().__init__(path, migrations, settings=LEDGER_SETTINGS, migrate=migrate)
        self._key = identity_key
        self._clock = clock or (lambda: datetime.now(UTC))
        self._writer = GroupCommit(self._connection)

    def ensure_learner(self, issuer: str, fhir_user: str) -> str:
        """Return the learner id for this EHR user, creating the learner once."""
        learner = learner_id(self._identity_key(), issuer, fhir_user)
        if self.learner(learner) is None:  # most launches are by known learners: no write, no sync
            now = self._clock()
            issuer = normalise_issuer(issuer)
            self._write(lambda c: learning.insert_learner(c, learner, issuer, now))
        return learner

    def learner(self, learner_id: str) -> Learner | None:
        """Return a learner."""
        return learning.read_learner(self._connection(), learner_id)

    def update_profile(self, learner_id: str, **profile: str) -> None:
        """Set profile fields the learner entered (profession, specialty, language)."""
        now = self._clock()
        self._write(lambda c: learning.update_profile(c, learner_id, profile, now))

    def record_attempt(
        self, learner_id: str, activity: tuple[str, str, str], attempt_id: str, at: datetime
    ) -> Attempt:
        """Start an attempt at (type, module id, version); the id is a client-made UUID."""
        attempt = Attempt(str(uuid.UUID(attempt_id)), learner_id, activity_key(*activity), at)
        return self._write(lambda c: learning.insert_attempt(c, attempt, activity))

    def record_answer(self, answer: Answer) -> bool:
        """Record an answer or point-of-care step once; False on a retry."""
        return self._write(lambda c: learning.insert_answer(c, answer))

    def complete_attempt(
        self, attempt_id: str, correct: int, total: int, pass_mark: int
    ) -> Attempt:
        """Record an attempt's score once."""
        now = self._clock()
        score = (correct, total, pass_mark)
        return self._write(lambda c: learning.complete(c, attempt_id, score, now))

    def attempt(self, attempt_id: str) -> Attempt | None:
        """Return an attempt."""
        return learning.read_attempt(self._connection(), attempt_id)

    def answers(self, attempt_id: str) -> list[Answer]:
        """Return an attempt's answers."""
        return learning.read_answers(self._connection(), attempt_id)

    def submit(self, request: ClaimRequest, idempotency_key: str, decide: Decide) -> Submission:
        """Decide (a pure rule, given the learner's held credits) and append, exactly once."""
        check_free_of_patient_data(dict(request.evidence), "evidence")
        keys = self._keys(idempotency_key, request.fingerprint_fields())
        now = self._clock()
        return self._write(lambda c: writes.submit_claim(c, request, keys, decide, now))

    def complete_and_submit(
        self,
        attempt_id: str,
        score: tuple[int, int, int],
        claim: Callable[[Attempt], writes.Claim],
        idempotency_key: str,
    ) -> Submission:
        """Record an attempt's score (correct, total, pass mark) and claim its credit, in one go."""
        now = self._clock()

        def work(connection: sqlite3.Connection) -> Submission:
            """Complete (or find completed) the attempt, then submit the claim made from it."""
            attempt = learning.complete(connection, attempt_id, score, now)
            return writes.submit_finished_claim(
                connection, claim(attempt), self._keys_for(idempotency_key), now
            )

        return self._write(work)

    def answer_and_submit(
        self,
        answer: Answer,
        claim: Callable[[Attempt, list[Answer]], writes.Claim],
        idempotency_key: str,
    ) -> Submission:
        """Record an attempt's last step and claim its credit, in one go."""
        now = self._clock()

        def work(connection: sqlite3.Connection) -> Submission:
            """Record the step, then submit the claim made from the attempt and all its steps."""
            learning.insert_answer(connection, answer)
            attempt = learning.read_attempt(connection, answer.attempt_id)
            steps = learning.read_answers(connection, answer.attempt_id)
            return writes.submit_finished_claim(
                connection, claim(attempt, steps), self._keys_for(idempotency_key), now
            )

        return self._write(work)

    def submission(self, idempotency_key: str) -> Submission | None:
        """Return what the submission with this key recorded or refused (reads only)."""
        stored_key = idempotency_hash(self._identity_key(), idempotency_key)
        return writes.stored_submission(self._connection(), stored_key)

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
        return self._write(lambda c: writes.submit_claim(c, request, keys, lambda _: decision, now))

    def append_reversal(self, sequence: int, reason: str, idempotency_key: str) -> Submission:
        """Cancel a credit record with a reversal entry, exactly once."""
        check_text(reason, "reversal reason")
        keys = self._keys(idempotency_key, {"reverses": sequence, "reason": reason})
        now = self._clock()
        return self._write(lambda c: writes.submit_reversal(c, sequence, reason, keys, now))

    def credits_for(
        self, learner_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[CreditRecord]:
        """Return a learner's records (credits and reversals) earned in [start, end)."""
        low = timestamp(start) if start else ""
        high = timestamp(end) if end else "~"
        rows = self._connection().execute(
            f"SELECT {writes.COLUMNS} FROM ledger_credits WHERE learner_id = ? "
            "AND earned_at >= ? AND earned_at < ? ORDER BY sequence",
            (learner_id, low, high),
        )
        return [CreditRecord(*row) for row in rows]

    def iter_chain(self, after: int = 0) -> Iterator[CreditRecord]:
        """Yield every credit record after a sequence number, in chain order (one snapshot)."""
        connection = connect(self.path, LEDGER_SETTINGS)
        try:
            rows = connection.execute(
                f"SELECT {writes.COLUMNS} FROM ledger_credits WHERE sequence > ? ORDER BY sequence",
                (after,),
            )
            for row in rows:
                yield CreditRecord(*row)
        finally:
            connection.close()

    def referenced_head(self) -> int:
        """Return the highest sequence any submission refers to (0 when none)."""
        row = (
            self._connection()
            .execute("SELECT coalesce(max(last_sequence), 0) FROM ledger_submissions")
            .fetchone()
        )
        return row[0]

    def set_reporting_identity(self, learner_id: str, identity: ReportingIdentity) -> None:
        """Keep reporting identifiers the learner entered, with consent given now."""
        now = self._clock()
        self._write(lambda c: learning.upsert_identity(c, learner_id, identity, now))

    def reporting_identity(self, learner_id: str) -> ReportingIdentity | None:
        """Return the learner's reporting identifiers, if they consented."""
        return learning.read_identity(self._connection(), learner_id)

    def withdraw_reporting_consent(self, learner_id: str) -> None:
        """Erase the learner's reporting identifiers (credit records stay; they hold none)."""
        self._write(
            lambda c: c.execute(
                "DELETE FROM ledger_reporting_identities WHERE learner_id = ?", (learner_id,)
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
        """Run work(connection) in a durable write transaction (group-committed)."""
        return self._writer.run(work)


def apply_migrations(path: Path) -> list[str]:
    """Apply pending ledger migrations under the migration lock; return the names applied."""
    return db.apply_migrations(path, migrations, LEDGER_SETTINGS)


def applied_migrations(path: Path) -> list[str]:
    """Return the ledger migrations already applied to a database file."""
    return db.applied_migrations(path, migrations, LEDGER_SETTINGS)
