"""Module completions from the CME ledger, and who is looking: the links between a clinician's
practice reference ('Practitioner/C03') and their SMART identity (issuer + fhirUser).

The ledger keys learners by HMAC(issuer, fhirUser); a fhirUser is the Practitioner's URL at the
EHR (`{issuer}/Practitioner/C03`) or, at some EHRs, the relative reference. Both are tried.

Stored practice data name clinicians relatively (`Practitioner/C03`) and do not record which EHR
they came from, and a relative id names a different clinician at every EHR. So they are taken to
be the ids of the EHR `BEDSIDE_PRACTICE_ISSUER` names, else of the one EHR this deployment
trusts for SMART launches (`practice_issuer`); with several trusted EHRs and no such setting no
session is any of their clinicians, as the roles file refuses relative fhirUser keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask import current_app

from app.identity import fhir_user_forms, learner_id
from app.ledger.chain import CreditRecord
from app.ledger.outputs.records import standing_credits
from app.ledger.store import LedgerStore
from app.outcomes.practice_data import LearningEvent
from app.smart.clients import issuer_key


def is_clinician(issuer: str, fhir_user: str | None, clinician: str) -> bool:
    """Tell whether a session's fhirUser is this clinician at this EHR."""
    return bool(fhir_user) and fhir_user.strip() in fhir_user_forms(issuer, clinician)


def practice_issuer() -> str | None:
    """The EHR whose Practitioner ids the practice data use: as set, else the one trusted EHR.

    A setting naming a trusted EHR in another spelling gives that EHR's registered issuer, the
    one its sessions and ledger learner ids carry.
    """
    smart = current_app.extensions.get("smart")
    trusted = set(smart.clients.clients) if smart is not None else set()
    if configured := current_app.config.get("PRACTICE_ISSUER"):
        wanted = issuer_key(str(configured))
        return next((iss for iss in trusted if issuer_key(iss) == wanted), str(configured))
    return trusted.pop() if len(trusted) == 1 else None


def is_practice_clinician(
    issuer: str, fhir_user: str | None, clinician: str, practice: str | None
) -> bool:
    """Tell whether a session is this clinician of practice data keyed at EHR `practice`."""
    return (
        practice is not None
        and issuer_key(issuer) == issuer_key(practice)
        and is_clinician(issuer, fhir_user, clinician)
    )


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
    store: LedgerStore, key: bytes, issuer: str, clinicians: Iterable[str]
) -> list[LearningEvent]:
    """These clinicians' module completions recorded in the ledger for this EHR (one read)."""
    candidates = {
        clinician: sorted(
            {learner_id(key, issuer, form) for form in fhir_user_forms(issuer, clinician)}
        )
        for clinician in clinicians
    }
    held = store.credits_of([learner for found in candidates.values() for learner in found])
    return [
        event
        for clinician, learners in candidates.items()
        for event in first_completions([r for found in learners for r in held[found]], clinician)
    ]
