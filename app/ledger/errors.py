"""Named ledger errors; the web and CLI edges turn them into one clear message each."""

from __future__ import annotations


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
    """The ledger could not commit (database busy, disk full, I/O error); nothing was recorded."""
