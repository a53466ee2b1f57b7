"""Module completions from the CME ledger, and who is looking: the links between a clinician's
practice reference ('Practitioner/C03') and their SMART identity (issuer + fhirUser).

The ledger keys learners by HMAC(issuer, fhirUser); a fhirUser is the Practitioner's URL at the
EHR (`{issuer}/Practitioner/C03`) or, at some EHRs, the relative reference. Both are tried.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.identity import fhir_user_forms, learner_id
from app.ledger.chain import CreditRecord
from app.ledger.outputs.records import standing_credits
from app.ledger.store import LedgerStore
from app.outcomes.practice_data import LearningEvent


def is_clinician(issuer: str, fhir_user: str | None, clinician: str) -> bool:
    """Tell whether a session's fhirUser is this clinician at this EHR."""
    return bool(fhir_user) and fhir_user.strip() in fhir_user_forms(issuer, clinician)


def first_completions(records: Iterable[CreditRecord], clinician: str) -> list[LearningEvent]:
    """The first day each module earned a credit that was not reversed, oldest first."""
    first: dict[str, date] = {}
    for record in standing_credits(list(records)):
        if not record.module_id:
            continue
        day = date.fromisoformat(record.earned_at[:10])
        first[record.module_id] = min(day, first.get(record.module_id, day))
    events = [LearningEvent(clinician, module, day) for module, day in first.items()]
    return sorted(events, key=lambda event: (event.completed, event.module_id))


def ledger_completions(
    store: LedgerStore, key: bytes, issuer: str, clinician: str
) -> list[LearningEvent]:
    """A clinician's module completions recorded in the ledger for this EHR."""
    candidates = {learner_id(key, issuer, form) for form in fhir_user_forms(issuer, clinician)}
    records = [record for found in sorted(candidates) for record in store.credits_for(found)]
    return first_completions(records, clinician)
