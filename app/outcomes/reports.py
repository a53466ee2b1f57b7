"""Export measure results as FHIR R4 `MeasureReport` resources (summary and individual).

Summary reports: per measure, one programme-wide report and one per attributed clinician whose
`subject` is that Practitioner (R4 allows Practitioner as a MeasureReport subject). In a
programme bundle, groups with fewer than 5 eligible cases are left out (small-cell suppression).
Individual reports (one per case) are built only on request, for the clinician's own cases, and
carry the patient only when the data have one (synthetic data; stored practice data do not).
Populations use http://terminology.hl7.org/CodeSystem/measure-population: initial-population and
denominator are the cases in the denominator, denominator-exclusion the excluded ones, numerator
the met ones; `measureScore` is numerator / (denominator - exclusions) (absent when 0/0).
The functions take a period as [start, end), end exclusive (midnight after the last day); a
report's `period.end` is inclusive, as FHIR's Period is: the last second before that end.
A Bundle with no report has no `entry` (FHIR has no empty arrays).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from app import stats
from app.library.loader import CANONICAL_BASE
from app.outcomes import case_rates
from app.outcomes.cases import MeasureCase
from app.outcomes.measures import cases_by_measure

POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
IMPROVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
IMPROVEMENT = {"higher-is-better": "increase", "lower-is-better": "decrease"}
LAST_SECOND = timedelta(seconds=1)  # an exclusive end's inclusive FHIR Period.end is 1 s before
POPULATIONS = (
    ("initial-population", "Initial Population"),
    ("denominator", "Denominator"),
    ("denominator-exclusion", "Denominator Exclusion"),
    ("numerator", "Numerator"),
)


def measure_url(measure_id: str) -> str:
    """The canonical URL of a Bedside measure."""
    return f"{CANONICAL_BASE}/Measure/{measure_id}"


def improvement_notation(direction: str | None) -> dict | None:
    """The improvementNotation CodeableConcept of a measure direction (None when unknown)."""
    code = IMPROVEMENT.get(direction or "")
    if code is None:
        return None
    return {"coding": [{"system": IMPROVEMENT_SYSTEM, "code": code, "display": code.title()}]}


def _group(rate: stats.Rate) -> dict:
    """The one group of a report: the four population counts and the score."""
    counts = {
        "initial-population": rate.denominator,
        "denominator": rate.denominator,
        "denominator-exclusion": rate.excluded,
        "numerator": rate.numerator,
    }
    group: dict = {
        "population": [
            {
                "code": {"coding": [{"system": POPULATION_SYSTEM, "code": code, "display": text}]},
                "count": counts[code],
            }
            for code, text in POPULATIONS
        ]
    }
    if rate.rate is not None:
        group["measureScore"] = {"value": round(rate.rate, 6)}
    return group


def measure_report(
    measure_id: str,
    rate: stats.Rate,
    start: datetime,
    end: datetime,
    *,
    clinician: str | None = None,
    created: datetime | None = None,
    direction: str | None = None,
) -> dict:
    """One `summary` MeasureReport (for a clinician when given, e.g. 'Practitioner/C03')."""
    report = _report("summary", measure_id, rate, start, end, created, direction)
    if clinician:
        report["subject"] = {"reference": clinician}
    return report


def _report(
    kind: str,
    measure_id: str,
    rate: stats.Rate,
    start: datetime,
    end: datetime,
    created: datetime | None,
    direction: str | None,
) -> dict:
    """The fields every report shares, in FHIR's element order."""
    report: dict = {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": kind,
        "measure": measure_url(measure_id),
        "date": _instant(created or datetime.now(UTC)),
        "period": period(start, end),
    }
    notation = improvement_notation(direction)
    if notation:
        report["improvementNotation"] = notation
    report["group"] = [_group(rate)]
    return report


def programme_reports(
    cases: Iterable[MeasureCase],
    start: datetime,
    end: datetime,
    *,
    created: datetime | None = None,
    directions: Mapping[str, str] | None = None,
    min_cell: int = stats.SMALL_CELL,
) -> dict:
    """A collection Bundle: per measure, the programme summary then one report per clinician.

    Groups with fewer than `min_cell` eligible cases are left out, and so is the next smallest
    when only one would be (it could be worked out from the total); 0 keeps every group.
    """
    entries = []
    for measure_id, measure_cases in sorted(cases_by_measure(cases).items()):
        direction = (directions or {}).get(measure_id)
        rates = case_rates.by_clinician(measure_cases)
        hidden = stats.suppressed_groups(rates, [case_rates.UNATTRIBUTED]) if min_cell else set()
        groups = [(None, case_rates.summarize(measure_cases))]
        groups += [
            (str(who), rate)
            for who, rate in rates.items()
            if who != case_rates.UNATTRIBUTED and who not in hidden
        ]
        entries += [
            measure_report(
                measure_id, rate, start, end, clinician=who, created=created, direction=direction
            )
            for who, rate in groups
            if rate.eligible >= min_cell
        ]
    return collection(entries, created)


def clinician_reports(
    cases: Iterable[MeasureCase],
    clinician: str,
    start: datetime,
    end: datetime,
    *,
    created: datetime | None = None,
    directions: Mapping[str, str] | None = None,
) -> dict:
    """A collection Bundle of one clinician's summary per measure (for that clinician's own use)."""
    mine = [case for case in cases if case.clinician == clinician]
    entries = [
        measure_report(
            measure_id,
            case_rates.summarize(measure_cases),
            start,
            end,
            clinician=clinician,
            created=created,
            direction=(directions or {}).get(measure_id),
        )
        for measure_id, measure_cases in sorted(cases_by_measure(mine).items())
    ]
    return collection(entries, created)


def individual_report(
    case: MeasureCase, *, created: datetime | None = None, direction: str | None = None
) -> dict:
    """One `individual` MeasureReport for one dated denominator case: its day, flags, clinician."""
    if case.period_start is None:
        raise ValueError("an individual report needs a case with a period start")
    day = case_rates.as_instant(case.period_start.date())
    rate = case_rates.summarize([case])
    end = day + timedelta(days=1)
    report = _report("individual", case.measure_id, rate, day, end, created, direction)
    if case.patient_key:
        report["subject"] = {"reference": f"Patient/{case.patient_key}"}
    if case.clinician:
        report["reporter"] = {"reference": case.clinician}
    return report


def individual_reports(
    cases: Iterable[MeasureCase],
    clinician: str,
    *,
    created: datetime | None = None,
    directions: Mapping[str, str] | None = None,
) -> dict:
    """A collection Bundle: one individual report per dated denominator case of this clinician."""
    mine = [
        case
        for case in cases
        if case.clinician == clinician and case.in_denominator and case.period_start is not None
    ]
    mine.sort(key=lambda case: (case.period_start, case.measure_id))
    entries = [
        individual_report(case, created=created, direction=(directions or {}).get(case.measure_id))
        for case in mine
    ]
    return collection(entries, created)


def collection(reports: list[dict], created: datetime | None = None) -> dict:
    """A FHIR collection Bundle of these reports (no `entry` when there are none)."""
    bundle: dict = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(created or datetime.now(UTC)),
    }
    if reports:
        bundle["entry"] = [{"resource": report} for report in reports]
    return bundle


def period(start: datetime, end: datetime) -> dict:
    """The FHIR Period of [start, end): its end inclusive, the last second before `end`."""
    last = max(case_rates.as_instant(start), case_rates.as_instant(end) - LAST_SECOND)
    return {"start": _instant(start), "end": _instant(last)}


def _instant(moment: datetime) -> str:
    """A FHIR dateTime with seconds and timezone (UTC if naive)."""
    return case_rates.as_instant(moment).isoformat(timespec="seconds").replace("+00:00", "Z")
