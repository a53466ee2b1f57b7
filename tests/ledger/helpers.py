"""Shared test helpers for the ledger: a settable clock, modules, requests and awards."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.ledger.models import ClaimRequest
from app.ledger.rules import CreditAward
from app.ledger.store import SqlLedgerStore, ledger_database

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
KEY = b"test-identity-key"
ISSUER = "https://ehr.example.org/fhir"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        """Return the current test time."""
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move time forward and return the new time."""
        self.now += timedelta(**delta)
        return self.now


def module(
    module_id: str = "sepsis-hour-1-bundle",
    version: str = "1.0.0",
    pass_mark: int = 75,
    credit: list | None = None,
) -> dict:
    """A content module with just the fields credit depends on."""
    return {
        "id": module_id,
        "version": version,
        "pass_mark_percent": pass_mark,
        "credit": credit
        if credit is not None
        else [
            {"type": "ama-pra-category-1", "amount": 0.25},
            {"type": "aafp-prescribed", "amount": 0.25},
        ],
    }


def request(learner_id: str, number: int = 1, earned_at: datetime = T0) -> ClaimRequest:
    """A case claim request for module-<number>."""
    return ClaimRequest(
        learner_id=learner_id,
        activity_type="case",
        activity_key=f"case:module-{number}@1.0.0",
        earned_at=earned_at,
        module_id=f"module-{number}",
        module_version="1.0.0",
        attempt_id=str(uuid.UUID(int=number)),
        evidence={"correct": 3, "total": 4, "pass_mark_percent": 75},
    )


def award(amount: str = "0.25", credit_type: str = "ama-pra-category-1") -> CreditAward:
    """A credit award of an exact amount."""
    return CreditAward(credit_type, Decimal(amount), Decimal(amount))


def fill(path, count: int = 3) -> None:
    """Write a few credit records (one learner, one reversal)."""
    store = SqlLedgerStore(ledger_database(path), KEY)
    try:
        learner = store.ensure_learner(ISSUER, "Practitioner/1")
        for number in range(1, count + 1):
            store.append_credit(request(learner, number), [award("0.50")], f"key-{number}")
        store.append_reversal(1, "recorded in error", "undo-1")
    finally:
        store.close()
