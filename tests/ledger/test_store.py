"""The SQLite ledger store: exactly-once submissions, reversals, append-only, learners, attempts."""

from __future__ import annotations

import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

import app.ledger
from app.identity import learner_id
from app.ledger.models import (
    AlreadyReversed,
    Answer,
    IdempotencyConflict,
    LedgerError,
    ReportingIdentity,
    UnknownRecord,
)
from app.ledger.rules import Refusal
from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from tests.ledger.helpers import ISSUER, KEY, T0, award, request

LEDGER_SOURCE = Path(app.ledger.__file__).parent

# --- exactly-once submissions ----------------------------------------------------------------


def test_a_submission_appends_one_record_per_award(store, learner):
    submission = store.append_credit(
        request(learner), [award("0.25"), award("0.25", "aafp-prescribed")], "key-1"
    )
    assert submission.created
    assert [r.sequence for r in submission.records] == [1, 2]
    assert [r.amount for r in submission.records] == [Decimal("0.25"), Decimal("0.25")]


def test_the_same_key_and_request_returns_the_stored_records(store, learner):
    first = store.append_credit(request(learner), [award()], "key-1")
    again = store.append_credit(request(learner), [award()], "key-1")
    assert not again.created
    assert again.records == first.records
    assert len(store.credits_for(learner)) == 1


def test_the_same_key_with_a_different_request_is_a_conflict(store, learner):
    store.append_credit(request(learner), [award()], "key-1")
    with pytest.raises(IdempotencyConflict):
        store.append_credit(request(learner, 2), [award()], "key-1")
    with pytest.raises(IdempotencyConflict):
        store.append_credit(request(learner), [award("0.50")], "key-1")


def test_a_refusal_is_replayed_for_the_same_key(store, learner):
    refuse = lambda held: Refusal("below-pass-mark", "2 of 4 correct is below 75%.")  # noqa: E731
    first = store.submit(request(learner), "key-1", refuse)
    again = store.submit(request(learner), "key-1", lambda held: [award()])
    assert first.created and not again.created
    assert again.refusal == first.refusal
    assert store.credits_for(learner) == []


def test_the_rule_sees_the_learners_held_credits(store, learner):
    store.append_credit(request(learner, 1), [award("0.50")], "key-1")
    seen = []
    store.submit(request(learner, 2), "key-2", lambda held: seen.extend(held) or [award()])
    assert [(h.activity_key, h.amount) for h in seen] == [("case:module-1@1.0.0", Decimal("0.50"))]


def test_credit_for_an_unknown_learner_is_refused(store):
    with pytest.raises(UnknownRecord):
        store.append_credit(request("no-such-learner"), [award()], "key-1")


def test_amounts_finer_than_hundredths_are_refused(store, learner):
    with pytest.raises(ValueError, match="two decimals"):
        store.append_credit(request(learner), [award("0.125")], "key-1")
    assert store.credits_for(learner) == []


# --- reversals and append-only ---------------------------------------------------------------


def test_a_reversal_is_a_new_record_that_cancels_the_original(store, learner):
    original = store.append_credit(request(learner), [award("0.50")], "key-1").records[0]
    reversal = store.append_reversal(original.sequence, "recorded in error", "key-2").records[0]
    assert (reversal.kind, reversal.reverses, reversal.amount) == ("reversal", 1, Decimal("-0.50"))
    assert reversal.earned_at == original.earned_at  # it corrects the original's year
    assert sum(r.amount for r in store.credits_for(learner)) == 0
    assert store.credits_for(learner)[0] == original  # the original is untouched
    assert verify_chain(store).ok


def test_a_reversed_activity_is_no_longer_held(store, learner):
    store.append_credit(request(learner), [award()], "key-1")
    store.append_reversal(1, "recorded in error", "key-2")
    seen = []
    store.submit(request(learner), "key-3", lambda held: seen.extend(held) or [award()])
    assert seen == []


def test_a_record_is_reversed_once_and_a_reversal_never(store, learner):
    store.append_credit(request(learner), [award()], "key-1")
    store.append_reversal(1, "recorded in error", "key-2")
    assert not store.append_reversal(1, "recorded in error", "key-2").created  # a retry
    with pytest.raises(AlreadyReversed):
        store.append_reversal(1, "recorded in error", "key-3")
    with pytest.raises(AlreadyReversed):
        store.append_reversal(2, "undo", "key-4")
    with pytest.raises(UnknownRecord):
        store.append_reversal(99, "nothing there", "key-5")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_credits SET amount_hundredths = 500",
        "DELETE FROM ledger_credits",
        "UPDATE ledger_submissions SET outcome = 'refused'",
        "DELETE FROM ledger_submissions",
    ],
)
def test_triggers_block_updates_and_deletes(store, learner, db_path, statement):
    store.append_credit(request(learner), [award()], "key-1")
    connection = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute(statement)
    finally:
        connection.close()


# --- learners and privacy --------------------------------------------------------------------


def test_the_learner_id_is_a_keyed_hash_of_issuer_and_fhir_user(store, learner):
    assert learner == learner_id(KEY, ISSUER, "Practitioner/123")
    assert store.ensure_learner(ISSUER + "/", "Practitioner/123") == learner
    assert store.ensure_learner(ISSUER, "Practitioner/124") != learner
    assert learner_id(b"another key", ISSUER, "Practitioner/123") != learner


def test_the_raw_fhir_user_and_idempotency_key_are_never_stored(store, learner, db_path):
    store.append_credit(request(learner), [award()], "client-key-Practitioner-123")
    store.close()
    raw = b"".join(path.read_bytes() for path in db_path.parent.iterdir() if path.is_file())
    assert b"Practitioner/123" not in raw
    assert b"client-key-Practitioner-123" not in raw
    assert learner.encode() in raw


def test_profile_fields_update_and_unknown_ones_are_refused(store, learner):
    store.update_profile(learner, specialty="emergency-medicine", language="es")
    assert store.learner(learner).specialty == "emergency-medicine"
    with pytest.raises(ValueError):
        store.update_profile(learner, email="someone@example.org")


def test_reporting_identifiers_are_kept_only_while_consent_lasts(store, learner):
    assert store.reporting_identity(learner) is None
    identity = ReportingIdentity("Ada", "Lovelace", board_id="ABIM-1", birth_month_day="12/10")
    store.set_reporting_identity(learner, identity)
    assert store.reporting_identity(learner) == identity
    store.withdraw_reporting_consent(learner)
    assert store.reporting_identity(learner) is None


def test_month_and_day_of_birth_carry_no_year(store, learner):
    with pytest.raises(ValueError, match="MM/DD"):
        store.set_reporting_identity(
            learner, ReportingIdentity("A", "B", birth_month_day="1980-12-10")
        )


def test_a_store_opened_without_a_key_cannot_write(db_path, store, learner):
    reader = SqlLedgerStore(ledger_database(db_path), None, migrate=False)
    try:
        with pytest.raises(LedgerError, match="without an identity key"):
            reader.append_credit(request(learner), [award()], "key-1")
    finally:
        reader.close()


# --- attempts and answers --------------------------------------------------------------------


def test_attempts_are_recorded_once_by_their_client_uuid(store, learner):
    attempt_id = str(uuid.uuid4())
    first = store.record_attempt(learner, ("case", "sepsis", "1.0.0"), attempt_id, T0)
    again = store.record_attempt(learner, ("case", "sepsis", "1.0.0"), attempt_id, T0)
    assert first == again and first.activity_key == "case:sepsis@1.0.0"
    with pytest.raises(IdempotencyConflict):
        store.record_attempt(learner, ("case", "other", "1.0.0"), attempt_id, T0)
    with pytest.raises(ValueError):
        store.record_attempt(learner, ("case", "sepsis", "1.0.0"), "not-a-uuid", T0)


def test_the_first_answer_counts_and_a_different_one_conflicts(store, learner):
    attempt_id = str(uuid.uuid4())
    store.record_attempt(learner, ("case", "sepsis", "1.0.0"), attempt_id, T0)
    answer = Answer(attempt_id, "q1", {"option": "b"}, T0, correct=True)
    assert store.record_answer(answer)
    assert not store.record_answer(answer)
    with pytest.raises(IdempotencyConflict):
        store.record_answer(Answer(attempt_id, "q1", {"option": "c"}, T0, correct=False))
    assert store.answers(attempt_id) == [answer]


def test_attempts_and_answers_need_a_known_learner_and_attempt(store, learner):
    with pytest.raises(UnknownRecord):
        store.record_attempt("nobody", ("case", "sepsis", "1.0.0"), str(uuid.uuid4()), T0)
    with pytest.raises(UnknownRecord):
        store.record_answer(Answer(str(uuid.uuid4()), "q1", {"option": "a"}, T0))
    with pytest.raises(UnknownRecord):
        store.complete_attempt(str(uuid.uuid4()), 1, 1, 75)


def test_an_attempt_is_completed_once(store, learner):
    attempt_id = str(uuid.uuid4())
    store.record_attempt(learner, ("case", "sepsis", "1.0.0"), attempt_id, T0)
    done = store.complete_attempt(attempt_id, 3, 4, 75)
    assert (done.correct, done.total, done.completed_at) == (3, 4, T0)
    assert store.complete_attempt(attempt_id, 3, 4, 75) == done
    with pytest.raises(IdempotencyConflict):
        store.complete_attempt(attempt_id, 4, 4, 75)


def test_no_ledger_code_updates_or_deletes_a_credit_record_or_submission():
    source = " ".join(path.read_text() for path in LEDGER_SOURCE.glob("*.py")).upper()
    for table in ("LEDGER_CREDITS", "LEDGER_SUBMISSIONS"):
        assert f"UPDATE {table}" not in source
        assert f"DELETE FROM {table}" not in source
        assert f"REPLACE INTO {table}" not in source
