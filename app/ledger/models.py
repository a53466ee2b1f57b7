"""The ledger's vocabulary: the plain data going into and out of the store, and its named errors.

The web and CLI edges turn each error into one clear message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.ledger.chain import CreditRecord, timestamp
from app.ledger.rules import CreditAward, HeldCredit, Refusal

Decision = list[CreditAward] | Refusal
Decide = Callable[[list[HeldCredit]], Decision]


@dataclass(frozen=True)
class ClaimRequest:
    """A request for credit: who, for which activity and attempt, earned when, on what evidence."""

    learner_id: str
    activity_type: str  # case | poc
    activity_key: str
    earned_at: datetime
    module_id: str | None = None
    module_version: str | None = None
    attempt_id: str | None = None
    evidence: Mapping[str, object] = field(default_factory=dict)

    def fingerprint_fields(self) -> dict[str, object]:
        """Return the request as plain JSON values (what a retry must repeat exactly)."""
        return {
            "learner_id": self.learner_id,
            "activity_type": self.activity_type,
            "activity_key": self.activity_key,
            "earned_at": timestamp(self.earned_at),
            "module_id": self.module_id,
            "module_version": self.module_version,
            "attempt_id": self.attempt_id,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True)
class Submission:
    """What a submission produced: its records or its refusal; created is False on a replay."""

    created: bool
    records: tuple[CreditRecord, ...] = ()
    refusal: Refusal | None = None


@dataclass(frozen=True)
class Attempt:
    """A learner's attempt at an activity (a case, or a point-of-care cycle)."""

    attempt_id: str
    learner_id: str
    activity_key: str
    started_at: datetime
    completed_at: datetime | None = None
    correct: int | None = None
    total: int | None = None
    pass_mark_percent: int | None = None


@dataclass(frozen=True)
class Answer:
    """One answered question, or one point-of-care step (question, sources, application)."""

    attempt_id: str
    item_id: str
    response: Mapping[str, object]
    answered_at: datetime
    correct: bool | None = None


@dataclass(frozen=True)
class Learner:
    """A learner as the ledger knows them: an opaque id, the EHR issuer and profile fields."""

    learner_id: str
    issuer: str
    created_at: str
    profession: str | None = None
    specialty: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ReportingIdentity:
    """Identifiers a board needs (ACCME PARS), entered by the learner with consent to share them."""

    first_name: str
    last_name: str
    board_id: str | None = None
    licence_state: str | None = None
    licence_id: str | None = None
    birth_month_day: str | None = None  # MM/DD, never the year
    credentials: str | None = None  # as printed after the name: "MD", "RN, MSN"
    npi: str | None = None  # US National Provider Identifier, 10 digits


class LedgerError(Exception):
    """Base class of every ledger error."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for a different submission."""


class UnknownRecord(LedgerError):
    """No credit record, attempt or learner has that identifier."""


class AlreadyReversed(LedgerError):
    """The credit record was already reversed (or is itself a reversal)."""


class AttemptNotFinished(LedgerError):
    """Credit was claimed for an attempt that is not completed yet."""


class PatientDataRefused(LedgerError):
    """Something that looks like a patient identifier was about to enter the ledger."""


class LedgerUnavailable(LedgerError):
    """The ledger could not confirm a commit (busy, disk full, lost connection); retry is safe."""
