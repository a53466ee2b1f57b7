"""A deterministic synthetic practice dataset (FHIR R4 dicts) with its known measure answers.

`generate_dataset(seed)` builds 14 clinicians, over 700 encounters in the 12 months ending
2026-10-31 and learning events (module completions). Every scenario decides its outcome first
(antibiotic or not, excluded or not, each bundle element met or not) and then writes resources
that realise it, recording the decision as an `ExpectedCase`. The expected answers therefore
come from the generator's own bookkeeping, never from the measure code. No I/O here: see
`app.outcomes.bulk` to write NDJSON files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from app.devtools.synthetic import heart, respiratory, sepsis
from app.devtools.synthetic.base import (
    AS_OF,
    CLINICIANS,
    DEFAULT_SEED,
    LEARNING,
    MODULE_MEASURES,
    TRAINEE,
    Builder,
    ExpectedCase,
)
from app.devtools.synthetic.fhir import practitioner
from app.outcomes.measures import evaluate_patients
from app.outcomes.practice_data import (
    PRACTITIONER,
    LearningEvent,
    PracticeDataset,
    PracticeSource,
    group_cases,
    measures_in,
)


@dataclass
class SyntheticDataset:
    """Practitioners, per-patient resource groups, learning events and the expected cases."""

    seed: int
    as_of: datetime
    practitioners: list[dict]
    patients: list[list[dict]]
    learning_events: list[LearningEvent]
    expected_cases: list[ExpectedCase]

    def patient_groups(self) -> Iterator[list[dict]]:
        """Yield each patient's resources (Patient first): the measures' streaming input."""
        yield from self.patients

    def resources(self) -> Iterator[dict]:
        """Yield every resource: practitioners, then each patient's."""
        yield from self.practitioners
        for group in self.patients:
            yield from group

    def encounter_count(self) -> int:
        """How many Encounters the dataset holds."""
        return sum(r["resourceType"] == "Encounter" for r in self.resources())

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of all resources and learning events."""
        payload = {
            "resources": list(self.resources()),
            "learning_events": [event.as_json() for event in self.learning_events],
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def generate_dataset(seed: int = DEFAULT_SEED) -> SyntheticDataset:
    """Build the whole dataset deterministically from a seed."""
    builder = Builder(seed)
    respiratory.generate(builder)
    respiratory.add_edge_cases(builder)
    sepsis.generate(builder)
    sepsis.add_edge_cases(builder)
    heart.generate(builder)
    heart.other_visits(builder)
    numbers = {clinician: n for n, clinician in enumerate((*CLINICIANS, TRAINEE), start=1)}
    return SyntheticDataset(
        seed=seed,
        as_of=AS_OF,
        practitioners=[practitioner(c, n) for c, n in numbers.items()],
        patients=[record.resources for record in builder.patients],
        learning_events=[LearningEvent(f"Practitioner/{c}", m, d) for c, m, d, _ in LEARNING],
        expected_cases=builder.expected,
    )


def expected_counts(cases: Iterable[ExpectedCase]) -> dict[str, int]:
    """Count numerator, denominator and exclusions of expected cases with plain tallies."""
    counts = {"numerator": 0, "denominator": 0, "excluded": 0}
    for case in cases:
        if case.in_denominator:
            counts["denominator"] += 1
            counts["excluded"] += case.excluded
            counts["numerator"] += case.in_numerator and not case.excluded
    return counts


def expected_summary(dataset: SyntheticDataset) -> dict[str, dict]:
    """Expected counts per measure: overall, per clinician, and before/after each completion."""
    summary: dict[str, dict] = {}
    measures = sorted({case.measure_id for case in dataset.expected_cases})
    for measure_id in measures:
        cases = [c for c in dataset.expected_cases if c.measure_id == measure_id]
        clinicians = sorted({c.clinician for c in cases if c.clinician})
        summary[measure_id] = {
            "overall": expected_counts(cases),
            "by_clinician": {
                who: expected_counts(c for c in cases if c.clinician == who) for who in clinicians
            },
            "before_after": {
                f"{event.clinician} {event.module_id}": before_after_counts(cases, event)
                for event in dataset.learning_events
                if measure_id in MODULE_MEASURES[event.module_id]
            },
        }
    return summary


def before_after_counts(cases: list[ExpectedCase], event: LearningEvent) -> dict[str, dict]:
    """Expected counts of one clinician's cases before and from the completion date."""
    mine = [c for c in cases if c.clinician == event.clinician and c.period_start is not None]
    before = [c for c in mine if c.period_start.date() < event.completed]
    after = [c for c in mine if c.period_start.date() >= event.completed]
    return {"before": expected_counts(before), "after": expected_counts(after)}


class SyntheticPracticeSource(PracticeSource):
    """Demo mode: the synthetic dataset, every page open, the visitor plays one clinician."""

    open_to_all = True

    def __init__(self, content_dir: str, clinician: str):
        self.content_dir = content_dir
        self.played_clinician = PRACTITIONER + clinician

    def dataset(self) -> PracticeDataset:
        """The measures evaluated on the default synthetic dataset."""
        return synthetic_practice(self.content_dir)


@lru_cache(maxsize=4)
def synthetic_practice(content_dir: str) -> PracticeDataset:
    """Evaluate the measures on the default synthetic dataset (cached per content folder)."""
    dataset = generate_dataset()
    measures = measures_in(content_dir)
    cases = evaluate_patients(measures.values(), dataset.patient_groups(), as_of=dataset.as_of)
    grouped = group_cases(measures, cases)
    starts = [c.period_start for items in grouped.values() for c in items if c.period_start]
    return PracticeDataset(
        measures=measures,
        cases=grouped,
        events=tuple(dataset.learning_events),
        start=min(starts) if starts else None,
        end=dataset.as_of,
    )
