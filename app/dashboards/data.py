"""Dashboard aggregations of practice data: monthly series, before and after, completions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from app import stats
from app.outcomes import case_rates
from app.outcomes.cases import MeasureCase
from app.outcomes.practice_data import PracticeDataset


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
    clinicians_withheld: bool = False  # their number would give a suppressed marker away

    @property
    def suppressed(self) -> bool:
        """Fewer than 5 clinicians behind it: each one's rates could be read off."""
        return stats.small_count(self.clinicians)


@dataclass(frozen=True)
class MonthCompletions:
    """How many clinicians completed a module in a month ('YYYY-MM')."""

    module_id: str
    month: str
    clinicians: int

    @property
    def suppressed(self) -> bool:
        """Fewer than 5 clinicians: their number is not shown."""
        return stats.small_count(self.clinicians)

    @property
    def first_day(self) -> date:
        """The month's first day (where its marker is drawn)."""
        return date.fromisoformat(f"{self.month}-01")


def for_clinician(cases: Iterable[MeasureCase], clinician: str | None) -> list[MeasureCase]:
    """The cases attributed to one clinician (all cases when clinician is None)."""
    return [c for c in cases if clinician is None or c.clinician == clinician]


def monthly_series(
    cases: Iterable[MeasureCase], months: list[str], clinician: str | None = None
) -> list[tuple[str, stats.Rate]]:
    """The rate in each month (empty months get 0/0), for one clinician or the programme."""
    found = case_rates.by_month(for_clinician(cases, clinician))
    return [(month, found.get(month, stats.Rate(0, 0))) for month in months]


def before_after_for(data: PracticeDataset, clinician: str) -> list[BeforeAfter]:
    """Before/after rates for each module the clinician completed and each measure it links to."""
    results = []
    for event in data.events_for(clinician):
        for measure_id, definition in data.measures.items():
            if event.module_id not in definition.modules:
                continue
            before, after = case_rates.before_after(
                data.cases[measure_id], event.completed, clinician
            )
            results.append(BeforeAfter(measure_id, event.module_id, event.completed, before, after))
    return results


def first_linked(data: PracticeDataset, measure_id: str) -> dict[str, date]:
    """Each clinician's first completion of any module linked to the measure."""
    modules = data.measures[measure_id].modules
    first: dict[str, date] = {}
    for event in data.events:
        if event.module_id in modules:
            earlier = first.get(event.clinician, event.completed)
            first[event.clinician] = min(event.completed, earlier)
    return first


def pooled_before_after(data: PracticeDataset, measure_id: str) -> PooledBeforeAfter | None:
    """Pooled before/after over the clinicians who completed a linked module (None if none did);
    their number is withheld when any of the measure's completion markers is suppressed."""
    first = first_linked(data, measure_id)
    if not first:
        return None
    pairs = [
        case_rates.before_after(data.cases[measure_id], when, who)
        for who, when in sorted(first.items())
    ]
    before = add_rates(pair[0] for pair in pairs)
    after = add_rates(pair[1] for pair in pairs)
    withheld = any(marker.suppressed for marker in completions_by_month(data, measure_id))
    return PooledBeforeAfter(measure_id, len(first), before, after, withheld)


def add_rates(rates: Iterable[stats.Rate]) -> stats.Rate:
    """The counts of several rates added up."""
    numerator = denominator = excluded = 0
    for rate in rates:
        numerator += rate.numerator
        denominator += rate.denominator
        excluded += rate.excluded
    return stats.Rate(numerator, denominator, excluded)


def completions_by_month(data: PracticeDataset, measure_id: str) -> list[MonthCompletions]:
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
        for who, rate in case_rates.by_clinician(cases).items()
        if who != case_rates.UNATTRIBUTED and not rate.small_cell
    }
