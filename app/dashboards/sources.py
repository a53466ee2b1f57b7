"""Which data a dashboard request sees, whose completions, and who may see patient-level cases.

Demo mode: the synthetic dataset, every page open. Otherwise: the cases `bedside outcomes compute
--save` stored without patient identifiers, with module completions read from the CME ledger at
the EHR whose Practitioner ids the data use (completions.practice_issuer); a clinician's page is
for that clinician only: a SMART session at that EHR whose fhirUser is the clinician.

Patient-level cases are computed in memory for one request and never stored. They are shown only
on a clinician's own page: when the SMART session's fhirUser is that clinician; in demo mode,
without a signed-in fhirUser, the visitor plays the synthetic clinician whose page they opened,
and a signed-in one at any EHR is the synthetic clinician of the same id (they are fictional).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app

from app.dashboards import data as d
from app.outcomes.cases import MeasureCase
from app.outcomes.completions import is_practice_clinician, ledger_completions, practice_issuer
from app.outcomes.practice_data import PracticeDataset, practice_source, with_events
from app.smart import SmartSession, current_smart_session

EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OwnCase:
    """One of the viewer's own cases: day, measure, outcome and (synthetic data only) patient."""

    day: date | None
    measure_id: str
    outcome: str  # met | not-met | excluded
    patient: str | None


def dashboard_data() -> PracticeDataset | None:
    """The deployment's practice data (None when none were loaded)."""
    return practice_source().dataset()


def with_completions(data: PracticeDataset, clinician: str) -> PracticeDataset:
    """Stored data plus the clinician's completions from the ledger (synthetic has its own)."""
    return with_ledger_completions(data, [clinician])


def with_all_completions(data: PracticeDataset) -> PracticeDataset:
    """Stored data plus every clinician's completions from the ledger (programme markers)."""
    return with_ledger_completions(data, data.clinicians())


def with_ledger_completions(data: PracticeDataset, clinicians: list[str]) -> PracticeDataset:
    """Stored data plus these clinicians' ledger completions at the EHR the data's ids are of."""
    issuer = practice_issuer()
    if data.synthetic or issuer is None:
        return data
    key = str(current_app.config["LEDGER_IDENTITY_KEY"]).encode()
    store = current_app.extensions["ledger"].store
    return with_events(data, ledger_completions(store, key, issuer, clinicians))


def viewer_clinician(data: PracticeDataset) -> str | None:
    """The data's clinician the signed-in SMART session is, if any."""
    session = current_smart_session()
    if session is None or not session.fhir_user:
        return None
    issuer = clinicians_issuer(session)
    found = (
        clinician
        for clinician in data.clinicians()
        if is_practice_clinician(session.issuer, session.fhir_user, clinician, issuer)
    )
    return next(found, None)


def may_open(clinician: str) -> bool:
    """A clinician's page: open for synthetic data, else only for that clinician themself."""
    return practice_source().open_to_all or session_is(current_smart_session(), clinician)


def may_see_cases(clinician: str) -> bool:
    """The viewer is this clinician (demo without a signed-in fhirUser: plays them)."""
    session = current_smart_session()
    if session is not None and session.fhir_user:
        return session_is(session, clinician)
    return practice_source().open_to_all


def session_is(session: SmartSession | None, clinician: str) -> bool:
    """The SMART session is this clinician of the data: at the EHR whose ids the data use."""
    if session is None:
        return False
    issuer = clinicians_issuer(session)
    return is_practice_clinician(session.issuer, session.fhir_user, clinician, issuer)


def clinicians_issuer(session: SmartSession) -> str | None:
    """The EHR whose Practitioner ids the data use: for the fictional synthetic clinicians the
    session's own, else completions.practice_issuer()."""
    return session.issuer if practice_source().open_to_all else practice_issuer()


def own_cases(data: PracticeDataset, clinician: str) -> list[OwnCase]:
    """The clinician's denominator cases, newest first, computed now and never stored."""
    mine = [
        case
        for cases in data.cases.values()
        for case in d.for_clinician(cases, clinician)
        if case.in_denominator
    ]
    mine.sort(key=lambda case: case.period_start or EARLIEST, reverse=True)
    return [own_case(case) for case in mine]


def own_case(case: MeasureCase) -> OwnCase:
    """A case as the viewer sees it: the day only, and the patient only when data have one."""
    outcome = "excluded" if case.excluded else "met" if case.in_numerator else "not-met"
    day = case.period_start.date() if case.period_start else None
    patient = f"Patient/{case.patient_key}" if case.patient_key else None
    return OwnCase(day, case.measure_id, outcome, patient)
