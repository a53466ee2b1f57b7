"""The bodies of the credit write transactions; each runs inside one BEGIN IMMEDIATE transaction.

Only INSERTs: no code path updates or deletes a credit record or a submission.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from app.ledger.chain import (
    GENESIS,
    RECORD_COLUMNS,
    CreditRecord,
    canonical_json,
    from_hundredths,
    parse_timestamp,
    seal,
    timestamp,
    to_hundredths,
)
from app.ledger.errors import AlreadyReversed, IdempotencyConflict, UnknownRecord
from app.ledger.models import ClaimRequest, Decide, Submission
from app.ledger.privacy import check_free_of_patient_data
from app.ledger.rules import CreditAward, HeldCredit, Refusal

# A finished attempt's claim: the request and the rule that decides it, or why there is none yet.
Claim = tuple[ClaimRequest, Decide] | Refusal

COLUMNS = ", ".join(RECORD_COLUMNS)
INSERT_RECORD = (
    f"INSERT INTO ledger_credits ({COLUMNS}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"
)
HELD_CREDITS = """
SELECT activity_key, credit_type, amount_hundredths, earned_at FROM ledger_credits AS c
WHERE learner_id = ? AND kind = 'credit' AND (activity_key = ? OR earned_at BETWEEN ? AND ?)
AND NOT EXISTS (SELECT 1 FROM ledger_credits AS r WHERE r.reverses = c.sequence)
"""


def submit_claim(
    connection: sqlite3.Connection,
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
        "SELECT 1 FROM ledger_learners WHERE learner_id = ?", (request.learner_id,)
    ).fetchone():
        raise UnknownRecord("No learner has that id; call ensure_learner first.")
    decision = decide(held_credits(connection, request))
    if isinstance(decision, Refusal):
        record_submission(connection, keys, now, refusal=decision)
        return Submission(created=True, refusal=decision)
    if not decision:
        raise ValueError("A decision grants at least one award, or refuses.")
    build = record_builder(request, idempotency_hash, now)
    records = append_records(connection, [build(award) for award in decision])
    record_submission(connection, keys, now, records=records)
    return Submission(created=True, records=tuple(records))


def submit_finished_claim(
    connection: sqlite3.Connection,
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
    connection: sqlite3.Connection,
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
            "SELECT 1 FROM ledger_credits WHERE reverses = ?", (sequence,)
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


def replay(connection: sqlite3.Connection, idempotency_hash: str, fingerprint: str):
    """Return the stored outcome of an earlier submission with this key (None when new)."""
    row = connection.execute(
        "SELECT request_hash FROM ledger_submissions WHERE idempotency_hash = ?",
        (idempotency_hash,),
    ).fetchone()
    if row is None:
        return None
    if row[0] != fingerprint:
        raise IdempotencyConflict(
            "This idempotency key was already used for a different submission; use a new key."
        )
    return stored_submission(connection, idempotency_hash)


def stored_submission(connection: sqlite3.Connection, idempotency_hash: str) -> Submission | None:
    """Return what the submission with this key recorded or refused (None when there was none)."""
    row = connection.execute(
        "SELECT outcome, first_sequence, last_sequence, refusal_reason, refusal_message "
        "FROM ledger_submissions WHERE idempotency_hash = ?",
        (idempotency_hash,),
    ).fetchone()
    if row is None:
        return None
    outcome, first, last, reason, message = row
    if outcome == "refused":
        return Submission(created=False, refusal=Refusal(reason, message))
    rows = connection.execute(
        f"SELECT {COLUMNS} FROM ledger_credits WHERE sequence BETWEEN ? AND ? ORDER BY sequence",
        (first, last),
    )
    return Submission(created=False, records=tuple(CreditRecord(*row) for row in rows))


def held_credits(connection: sqlite3.Connection, request: ClaimRequest) -> list[HeldCredit]:
    """Return the learner's unreversed credits for this activity or in the same UTC year."""
    year = request.earned_at.astimezone(UTC).year
    start = timestamp(datetime(year, 1, 1, tzinfo=UTC))
    end = timestamp(datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    rows = connection.execute(HELD_CREDITS, (request.learner_id, request.activity_key, start, end))
    return [
        HeldCredit(key, kind, from_hundredths(hundredths), parse_timestamp(earned_at))
        for key, kind, hundredths, earned_at in rows
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


def append_records(connection: sqlite3.Connection, entries: list[dict]) -> list[CreditRecord]:
    """Number and hash-chain the entries after the current head, and insert them."""
    head = connection.execute(
        "SELECT sequence, record_hash FROM ledger_credits ORDER BY sequence DESC LIMIT 1"
    ).fetchone()
    sequence, prev_hash = head if head else (0, GENESIS)
    records = []
    for entry in entries:
        sequence += 1
        record = seal(prev_hash, **{**entry, "sequence": sequence})
        records.append(record)
        prev_hash = record.record_hash
    connection.executemany(INSERT_RECORD, [record.as_row() for record in records])
    return records


def record_submission(
    connection: sqlite3.Connection,
    keys: tuple[str, str],
    now: datetime,
    *,
    records: list[CreditRecord] | None = None,
    refusal: Refusal | None = None,
) -> None:
    """Remember the key, the request fingerprint and the outcome (for exactly-once replays)."""
    first = records[0].sequence if records else None
    last = records[-1].sequence if records else None
    connection.execute(
        "INSERT INTO ledger_submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *keys,
            "refused" if refusal else "recorded",
            first,
            last,
            refusal.reason if refusal else None,
            refusal.message if refusal else None,
            timestamp(now),
        ),
    )


def read_record(connection: sqlite3.Connection, sequence: int) -> CreditRecord | None:
    """Return one credit record by sequence number."""
    row = connection.execute(
        f"SELECT {COLUMNS} FROM ledger_credits WHERE sequence = ?", (sequence,)
    ).fetchone()
    return CreditRecord(*row) if row else None
