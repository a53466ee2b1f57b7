"""Practice data: measures, their cases per clinician, module completions and the data period."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app

from app.library.measure_definitions import MeasureDefinition, load_measures
from app.outcomes.cases import MeasureCase
from app.outcomes.measures import cases_by_measure
from app.outcomes.practice_store import (
    PracticeStore,
    PracticeVersion,
    StoredPractice,
    day_start,
)

PRACTITIONER = "Practitioner/"
SOURCE = "bedside_practice_source"


@dataclass(frozen=True)
class LearningEvent:
    """A clinician completed a module on a date (what the CME ledger would record)."""

    clinician: str
    module_id: str
    completed: date

    def as_json(self) -> dict:
        """Plain JSON form for linking files."""
        return {
            "clinician": self.clinician,
            "module_id": self.module_id,
            "completed": self.completed.isoformat(),
        }


@dataclass(frozen=True)
class PracticeDataset:
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


@lru_cache(maxsize=4)
def measures_in(content_dir: str) -> dict[str, MeasureDefinition]:
    """The measure definitions of a content folder (cached)."""
    return load_measures(Path(content_dir))


def stored_data(measures: dict[str, MeasureDefinition], stored: StoredPractice) -> PracticeDataset:
    """Practice data over stored practice cases (no patient ids); completions are added later."""
    cases = [case.as_measure_case() for case in stored.cases if case.measure_id in measures]
    return PracticeDataset(
        measures=measures,
        cases=group_cases(measures, cases),
        events=(),
        start=day_start(stored.start),
        end=day_start(stored.end),
        synthetic=False,
        imported_at=stored.imported_at.replace("T", " ").removesuffix("Z")[:16],
    )


def with_events(data: PracticeDataset, events: Iterable[LearningEvent]) -> PracticeDataset:
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


def short_id(clinician: str) -> str:
    """'Practitioner/C03' → 'C03' (the id used in dashboard URLs)."""
    return clinician.removeprefix(PRACTITIONER)


class PracticeSource:
    """The cases `bedside outcomes compute --save` stored: each clinician sees their own.

    Every dashboard page and the learner's "next" page ask for them, so they are read once per
    process and kept until a save or merge changes the store's version (one indexed lookup per
    ask): a request then costs that lookup, not a read of every stored case. Requests that find
    the kept cases out of date wait for one read rather than each starting their own.
    """

    open_to_all = False  # every clinician's page is open to any visitor (synthetic data only)
    played_clinician: str | None = None  # whom a visitor without a fhirUser plays (synthetic only)

    def __init__(self, store: PracticeStore, content_dir: str):
        self.store = store
        self.content_dir = content_dir
        self._reading = threading.Lock()
        self._kept: tuple[PracticeVersion, PracticeDataset | None] | None = None

    def dataset(self) -> PracticeDataset | None:
        """The stored cases over the content's measures (None when none were stored)."""
        version = self.store.version()
        kept = self._kept
        if kept is not None and kept[0] >= version:
            return kept[1]
        with self._reading:
            kept = self._kept
            if kept is None or kept[0] < version:
                self._kept = kept = self._read(version)
            return kept[1]

    def _read(self, version: PracticeVersion) -> tuple[PracticeVersion, PracticeDataset | None]:
        """The stored cases over the content's measures, with the version they were read at."""
        stored = self.store.load()
        if stored is None:
            return version, None
        return stored.version, stored_data(measures_in(self.content_dir), stored)


def practice_source() -> PracticeSource:
    """The current app's source of practice data."""
    return current_app.extensions[SOURCE]
