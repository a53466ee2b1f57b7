"""Which data a dashboard request sees, whose completions, and who may see patient-level cases.

Demo mode: the synthetic dataset, every page open. Otherwise: the cases `bedside outcomes compute
--save` stored without patient identifiers, with module completions read from the CME ledger for
the viewer's EHR; a clinician's page is for that clinician only (the SMART session's fhirUser).

Patient-level cases are computed in memory for one request and never stored. They are shown only
on a clinician's own page: when the SMART session's fhirUser is that clinician; in demo mode,
without a signed-in fhirUser, the visitor plays the synthetic clinician whose page they opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app

from app.dashboards import data as d
from app.dashboards.completions import is_clinician, ledger_completions
from app.outcomes.cases import MeasureCase
from app.outcomes.practice_store import PracticeStore
from app.smart import current_smart_session

STORE = "practice_store"
EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OwnCase:
    """One of the viewer's own cases: day, measure, outcome and (synthetic data only) patient."""

    day: date | None
    measure_id: str
    outcome: str  # met | not-met | excluded
    patient: str | None


def practice_store() -> PracticeStore:
    """The app's store of practice cases without patient identifiers."""
    return current_app.extensions[STORE]


def is_demo() -> bool:
    """Demo mode is on."""
    return bool(current_app.config.get("DEMO"))


def dashboard_data() -> d.DashboardData | None:
    """The synthetic data in demo mode, else the stored practice cases (None when none)."""
    content = str(current_app.config["CONTENT_DIR"])
    if is_demo():
        return d.synthetic_data(content)
    stored = practice_store().load()
    return None if stored is None else d.stored_data(d.measures_in(content), stored)


def with_completions(data: d.DashboardData, clinician: str) -> d.DashboardData:
    """Stored data plus the clinician's completions from the ledger (synthetic has its own)."""
    return with_ledger_completions(data, [clinician])


def with_all_completions(data: d.DashboardData) -> d.DashboardData:
    """Stored data plus every clinician's completions from the ledger (programme markers)."""
    return with_ledger_completions(data, data.clinicians())


def with_ledger_completions(data: d.DashboardData, clinicians: list[str]) -> d.DashboardData:
    """Stored data plus these clinicians' ledger completions at the viewer's EHR."""
    session = current_smart_session()
    if data.synthetic or session is None:
        return data
    key = str(current_app.config["LEDGER_IDENTITY_KEY"]).encode()
    store = current_app.extensions["ledger"].store
    events = [
        event
        for clinician in clinicians
        for event in ledger_completions(store, key, session.issuer, clinician)
    ]
    return d.with_events(data, events)


def viewer_clinician(data: d.DashboardData) -> str | None:
    """The data's clinician the signed-in SMART session is, if any."""
    session = current_smart_session()
    if session is None or not session.fhir_user:
        return None
    found = (c for c in data.clinicians() if is_clinician(session.issuer, session.fhir_user, c))
    return next(found, None)


def may_open(clinician: str) -> bool:
    """A clinician's page: open in demo mode, else only for that clinician themself."""
    return is_demo() or _session_is(clinician)


def may_see_cases(clinician: str) -> bool:
    """The viewer is this clinician (demo without a signed-in fhirUser: plays them)."""
    session = current_smart_session()
    if session is not None and session.fhir_user:
        return _session_is(clinician)
    return is_demo()


def _session_is(clinician: str) -> bool:
    """The SMART session's fhirUser is this clinician at this EHR."""
    session = current_smart_session()
    return session is not None and is_clinician(session.issuer, session.fhir_user, clinician)


def own_cases(data: d.DashboardData, clinician: str) -> list[OwnCase]:
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
