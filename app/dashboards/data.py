"""Dashboard data: the synthetic dataset or the stored practice cases, and pure aggregations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from app.library.measure_definitions import MeasureDefinition, load_measures
from app.outcomes import stats
from app.outcomes.cases import MeasureCase
from app.outcomes.measures import cases_by_measure, evaluate_patients
from app.outcomes.practice_store import StoredPractice, day_start
from app.outcomes.synthetic import LearningEvent, generate_dataset

PRACTITIONER = "Practitioner/"


@dataclass(frozen=True)
class DashboardData:
    """Measure definitions, their cases per measure, learning events and the data period."""

    measures: dict[str, MeasureDefinition]
    cases: dict[str, list[MeasureCase]]
    events: tuple[LearningEvent, ...]
    start: datetime | None
    end: datetime
    synthetic: bool = True
    imported_at: str | None = None

    def clinicians(self) -> list[str]:
        """Every attributed clinician reference ('Practitioner/C03'), sorted."""
        found = {c.clinician for cases in self.cases.values() for c in cases if c.clinician}
        return sorted(found)

    def last_day(self) -> date:
        """The last day the data cover (the day before the end)."""
        return (self.end - timedelta(days=1)).date()

    def events_for(self, clinician: str) -> list[LearningEvent]:
        """The clinician's module completions, oldest first."""
        mine = [e for e in self.events if e.clinician == clinician]
        return sorted(mine, key=lambda e: e.completed)


@dataclass(frozen=True)
class BeforeAfter:
    """One clinician's rate before and from a linked module's completion date."""

    measure_id: str
    module_id: str
    completed: date
    before: stats.Rate
    after: stats.Rate


@dataclass(frozen=True)
class PooledBeforeAfter:
    """Cases of the clinicians who completed a linked module, split at each one's completion."""

    measure_id: str
    clinicians: int
    before: stats.Rate
    after: stats.Rate


@dataclass(frozen=True)
class MonthCompletions:
    """How many clinicians completed a module in a month ('YYYY-MM')."""

    module_id: str
    month: str
    clinicians: int

    @property
    def first_day(self) -> date:
        """The month's first day (where its marker is drawn)."""
        return date.fromisoformat(f"{self.month}-01")


@lru_cache(maxsize=4)
def measures_in(content_dir: str) -> dict[str, MeasureDefinition]:
    """The measure definitions of a content folder (cached)."""
    return load_measures(Path(content_dir))


@lru_cache(maxsize=4)
def synthetic_data(content_dir: str) -> DashboardData:
    """Evaluate the measures on the default synthetic dataset (cached per content folder)."""
    dataset = generate_dataset()
    measures = measures_in(content_dir)
    cases = evaluate_patients(measures.values(), dataset.patient_groups(), as_of=dataset.as_of)
    grouped = group_cases(measures, cases)
    starts = [c.period_start for items in grouped.values() for c in items if c.period_start]
    return DashboardData(
        measures=measures,
        cases=grouped,
        events=tuple(dataset.learning_events),
        start=min(starts) if starts else None,
        end=dataset.as_of,
    )


def stored_data(measures: dict[str, MeasureDefinition], stored: StoredPractice) -> DashboardData:
    """Dashboard data over stored practice cases (no patient ids); completions are added later."""
    cases = [case.as_measure_case() for case in stored.cases if case.measure_id in measures]
    return DashboardData(
        measures=measures,
        cases=group_cases(measures, cases),
        events=(),
        start=day_start(stored.start),
        end=day_start(stored.end),
        synthetic=False,
        imported_at=stored.imported_at.replace("T", " ").removesuffix("Z")[:16],
    )


def with_events(data: DashboardData, events: Iterable[LearningEvent]) -> DashboardData:
    """The same data with these module completions."""
    return replace(data, events=tuple(events))


def group_cases(
    measures: dict[str, MeasureDefinition], cases: Iterable[MeasureCase]
) -> dict[str, list[MeasureCase]]:
    """Cases per measure id, every measure present (possibly with no cases), sorted by id."""
    grouped: dict[str, list[MeasureCase]] = {measure_id: [] for measure_id in measures}
    for measure_id, items in cases_by_measure(cases).items():
        grouped.setdefault(measure_id, []).extend(items)
    return dict(sorted(grouped.items()))


def for_clinician(cases: Iterable[MeasureCase], clinician: str | None) -> list[MeasureCase]:
    """The cases attributed to one clinician (all cases when clinician is None)."""
    return [c for c in cases if clinician is None or c.clinician == clinician]


def monthly_series(
    cases: Iterable[MeasureCase], months: list[str], clinician: str | None = None
) -> list[tuple[str, stats.Rate]]:
    """The rate in each month (empty months get 0/0), for one clinician or the programme."""
    found = stats.by_month(for_clinician(cases, clinician))
    return [(month, found.get(month, stats.Rate(0, 0))) for month in months]


def month_range(start: datetime | None, end: datetime) -> list[str]:
    """Every 'YYYY-MM' from start's month to the last month before end (the data's as-of)."""
    if start is None:
        return []
    year, month = start.year, start.month
    months = []
    last = (end.year, end.month) if end.day > 1 or end.time() != datetime.min.time() else None
    while (year, month) < (end.year, end.month) or (year, month) == last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def before_after_for(data: DashboardData, clinician: str) -> list[BeforeAfter]:
    """Before/after rates for each module the clinician completed and each measure it links to."""
    results = []
    for event in data.events_for(clinician):
        for measure_id, definition in data.measures.items():
            if event.module_id not in definition.modules:
                continue
            before, after = stats.before_after(data.cases[measure_id], event.completed, clinician)
            results.append(BeforeAfter(measure_id, event.module_id, event.completed, before, after))
    return results


def first_linked(data: DashboardData, measure_id: str) -> dict[str, date]:
    """Each clinician's first completion of any module linked to the measure."""
    modules = data.measures[measure_id].modules
    first: dict[str, date] = {}
    for event in data.events:
        if event.module_id in modules:
            earlier = first.get(event.clinician, event.completed)
            first[event.clinician] = min(event.completed, earlier)
    return first


def pooled_before_after(data: DashboardData, measure_id: str) -> PooledBeforeAfter | None:
    """Pooled before/after over the clinicians who completed a linked module (None if none did)."""
    first = first_linked(data, measure_id)
    if not first:
        return None
    pairs = [
        stats.before_after(data.cases[measure_id], when, who) for who, when in sorted(first.items())
    ]
    before = add_rates(pair[0] for pair in pairs)
    after = add_rates(pair[1] for pair in pairs)
    return PooledBeforeAfter(measure_id, len(first), before, after)


def add_rates(rates: Iterable[stats.Rate]) -> stats.Rate:
    """The counts of several rates added up."""
    numerator = denominator = excluded = 0
    for rate in rates:
        numerator += rate.numerator
        denominator += rate.denominator
        excluded += rate.excluded
    return stats.Rate(numerator, denominator, excluded)


def completions_by_month(data: DashboardData, measure_id: str) -> list[MonthCompletions]:
    """Per linked module and month, the number of clinicians who completed it, oldest first."""
    modules = data.measures[measure_id].modules
    who: dict[tuple[str, str], set[str]] = {}
    for event in data.events:
        if event.module_id in modules:
            month = event.completed.strftime("%Y-%m")
            who.setdefault((month, event.module_id), set()).add(event.clinician)
    return [
        MonthCompletions(module, month, len(clinicians))
        for (month, module), clinicians in sorted(who.items())
    ]


def peer_rates(cases: Iterable[MeasureCase]) -> dict[str, stats.Rate]:
    """Each attributed clinician's rate over the period, leaving out small cells (< 5 eligible)."""
    return {
        str(who): rate
        for who, rate in stats.by_clinician(cases).items()
        if who != stats.UNATTRIBUTED and not rate.small_cell
    }


def short_id(clinician: str) -> str:
    """'Practitioner/C03' → 'C03' (the id used in dashboard URLs)."""
    return clinician.removeprefix(PRACTITIONER)
