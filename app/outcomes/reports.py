"""Export measure results as FHIR R4 `MeasureReport` resources (summary, per clinician).

FHIR's `individual` type is one report per *patient*; Bedside never exports those. Instead it
writes, per measure, one programme-wide `summary` report and one `summary` report per attributed
clinician whose `subject` is that Practitioner (R4 allows Practitioner as a MeasureReport
subject). Reports hold population counts only, never patient ids. Populations use the codes of
http://terminology.hl7.org/CodeSystem/measure-population: initial-population and denominator
are the cases in the denominator, denominator-exclusion the excluded ones, numerator the met
ones; `measureScore` is numerator / (denominator - exclusions) as a decimal (absent when 0/0).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from app.library.loader import CANONICAL_BASE
from app.outcomes import stats
from app.outcomes.cases import MeasureCase
from app.outcomes.measures import cases_by_measure

POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
POPULATIONS = (
    ("initial-population", "Initial Population"),
    ("denominator", "Denominator"),
    ("denominator-exclusion", "Denominator Exclusion"),
    ("numerator", "Numerator"),
)


def measure_url(measure_id: str) -> str:
    """The canonical URL of a Bedside measure."""
    return f"{CANONICAL_BASE}/Measure/{measure_id}"


def measure_report(
    measure_id: str,
    rate: stats.Rate,
    start: datetime,
    end: datetime,
    *,
    clinician: str | None = None,
    created: datetime | None = None,
) -> dict:
    """One `summary` MeasureReport (for a clinician when given, e.g. 'Practitioner/C03')."""
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
    report: dict = {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "summary",
        "measure": measure_url(measure_id),
        "date": _instant(created or datetime.now(UTC)),
        "period": {"start": _instant(start), "end": _instant(end)},
        "group": [group],
    }
    if clinician:
        report["subject"] = {"reference": clinician}
    return report


def programme_reports(
    cases: Iterable[MeasureCase],
    start: datetime,
    end: datetime,
    *,
    created: datetime | None = None,
) -> dict:
    """A collection Bundle: per measure, the programme summary then one report per clinician."""
    entries = []
    for measure_id, measure_cases in sorted(cases_by_measure(cases).items()):
        overall = stats.summarize(measure_cases)
        entries.append(measure_report(measure_id, overall, start, end, created=created))
        for clinician, rate in stats.by_clinician(measure_cases).items():
            if clinician == stats.UNATTRIBUTED:
                continue
            report = measure_report(
                measure_id, rate, start, end, clinician=str(clinician), created=created
            )
            entries.append(report)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(created or datetime.now(UTC)),
        "entry": [{"resource": report} for report in entries],
    }


def _instant(moment: datetime) -> str:
    """A FHIR dateTime with seconds and timezone (UTC if naive)."""
    return stats.as_instant(moment).isoformat(timespec="seconds").replace("+00:00", "Z")
