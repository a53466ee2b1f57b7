"""Measure cases grouped into rates: by clinician, by month or quarter, before vs after a date.

Linking a rate change to a completed module is observational: report counts and intervals, never
a causal claim.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, date, datetime

from app.outcomes.cases import MeasureCase
from app.stats import Rate

UNATTRIBUTED = "unattributed"


def summarize(cases: Iterable[MeasureCase]) -> Rate:
    """Count the denominator, exclusions and numerator of cases (of one measure)."""
    numerator = denominator = excluded = 0
    for case in cases:
        if case.in_denominator:
            denominator += 1
            excluded += case.excluded
            numerator += case.in_numerator and not case.excluded
    return Rate(numerator, denominator, excluded)


def rate_by(
    cases: Iterable[MeasureCase], key: Callable[[MeasureCase], Hashable | None]
) -> dict[Hashable, Rate]:
    """Group cases by key (cases whose key is None are left out) and summarise each group."""
    groups: dict[Hashable, list[MeasureCase]] = {}
    for case in cases:
        group = key(case)
        if group is not None:
            groups.setdefault(group, []).append(case)
    return {group: summarize(groups[group]) for group in sorted(groups, key=str)}


def by_clinician(cases: Iterable[MeasureCase]) -> dict[Hashable, Rate]:
    """Rates per attributed clinician (unattributed cases under 'unattributed')."""
    return rate_by(cases, lambda case: case.clinician or UNATTRIBUTED)


def by_month(cases: Iterable[MeasureCase]) -> dict[Hashable, Rate]:
    """Rates per calendar month (UTC) of the case's period start, keyed 'YYYY-MM'."""
    return rate_by(cases, lambda case: month_key(case.period_start))


def by_quarter(cases: Iterable[MeasureCase]) -> dict[Hashable, Rate]:
    """Rates per calendar quarter (UTC) of the case's period start, keyed 'YYYY-Qn'."""
    return rate_by(cases, lambda case: quarter_key(case.period_start))


def before_after(
    cases: Iterable[MeasureCase], when: date | datetime, clinician: str | None = None
) -> tuple[Rate, Rate]:
    """Rates before `when` and from `when` on (optionally for one clinician).

    A date means midnight UTC at its start; cases without a period start are left out.
    """
    cutoff = as_instant(when)
    chosen = [c for c in cases if clinician is None or c.clinician == clinician]
    before = [c for c in chosen if c.period_start is not None and c.period_start < cutoff]
    after = [c for c in chosen if c.period_start is not None and c.period_start >= cutoff]
    return summarize(before), summarize(after)


def element_rates(cases: Iterable[MeasureCase]) -> dict[str, Rate]:
    """Per-element rates of a composite measure, over eligible cases where the element applies."""
    met: dict[str, int] = {}
    applies: dict[str, int] = {}
    for case in cases:
        if not case.eligible:
            continue
        for name, value in case.elements.items():
            if value is not None:
                applies[name] = applies.get(name, 0) + 1
                met[name] = met.get(name, 0) + bool(value)
    return {name: Rate(met[name], applies[name]) for name in applies}


def as_instant(when: date | datetime) -> datetime:
    """A datetime as given (UTC if naive), or midnight UTC at the start of a date."""
    if isinstance(when, datetime):
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return datetime(when.year, when.month, when.day, tzinfo=UTC)


def month_key(moment: datetime | None) -> str | None:
    """'YYYY-MM' of a time in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m") if moment else None


def quarter_key(moment: datetime | None) -> str | None:
    """'YYYY-Qn' of a time in UTC."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return f"{utc.year}-Q{(utc.month - 1) // 3 + 1}"
