"""Practice-data gaps: a clinician's measure rate against the peer median, in plain words.

A gap is claimed only when the clinician has at least SMALL_CELL eligible cases, at least one peer
has too, and the clinician's rate is at least MIN_GAP (absolute) worse than the median of those
peers' rates. The sentence shows the counts so the clinician can judge; the basis keeps the exact
rate, its Wilson 95% interval and the peer median. Observational data: never a causal claim.

Numerator semantics: every shipped measure is higher-is-better. For antibiotic-avoidance measures
the numerator counts APPROPRIATE encounters (no antibiotic), so the encounters WITH an antibiotic
ordered are eligible - numerator.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from app.stats import Rate

MIN_GAP = 0.10
AVOIDANCE_KINDS = frozenset({"respiratory-antibiotic-avoidance"})
SHORT_LABELS = {
    "uri-appropriate-treatment": "URI",
    "bronchitis-antibiotic-avoidance": "acute bronchitis",
    "hfref-beta-blocker": "heart failure (HFrEF)",
    "sepsis-3h-bundle": "sepsis",
}
TRANSLATED_PARAMS = ("label", "units")  # words (not numbers) inside the sentence
UNIT_PLURALS = {"encounter": "encounters", "episode": "episodes", "patient": "patients"}
TEMPLATES = {
    "antibiotic_gap": (
        "{events} of your {eligible} {label} encounters {period} had an antibiotic ordered; "
        "peer median {peer} of 10"
    ),
    "measure_gap": (
        "{met} of your {eligible} {label} {units} {period} met the measure; "
        "peer median {peer} of 10"
    ),
}


def identity(text: str) -> str:
    """No translation (the default)."""
    return text


@dataclass(frozen=True)
class PracticeGap:
    """A measure where practice falls short of peers, and the modules that teach it."""

    measure_id: str
    module_ids: tuple[str, ...]
    code: str
    params: dict = field(hash=False)
    basis: dict = field(hash=False)

    def sentence(self, translate: Callable[[str], str] = identity) -> str:
        """The plain-words statement, with its label, translated by a gettext-like function."""
        words = {k: translate(str(self.params[k])) for k in TRANSLATED_PARAMS if k in self.params}
        params = {**self.params, **words}
        return translate(TEMPLATES[self.code]).format(**params)


def peer_median(peers: Iterable[Rate]) -> tuple[float, int] | None:
    """Median rate over peers with enough cases, and how many such peers; None if there are none."""
    rates = [r.rate for r in peers if not r.small_cell and r.rate is not None]
    return (statistics.median(rates), len(rates)) if rates else None


def practice_gaps_from(
    rates_for_clinician: Mapping[str, Rate],
    peer_rates: Mapping[str, Iterable[Rate]],
    measures: Mapping[str, Mapping],
    period: str = "this quarter",
) -> list[PracticeGap]:
    """Gaps for one clinician, per measure id (sorted), from their rates and their peers' rates."""
    gaps = []
    for measure_id in sorted(rates_for_clinician):
        measure = measures.get(measure_id)
        mine = rates_for_clinician[measure_id]
        if measure is None or mine.small_cell or mine.rate is None:
            continue
        median = peer_median(peer_rates.get(measure_id, ()))
        if median is None:
            continue
        gap = _gap(measure_id, measure, mine, median, period)
        if gap is not None:
            gaps.append(gap)
    return gaps


def _gap(measure_id, measure, mine: Rate, median: tuple[float, int], period: str):
    """Build one gap, or None when the shortfall is under MIN_GAP."""
    peer_rate, peer_count = median
    lower_better = measure.get("direction") == "lower-is-better"
    shortfall = (mine.rate - peer_rate) if lower_better else (peer_rate - mine.rate)
    if shortfall < MIN_GAP:
        return None
    label = SHORT_LABELS.get(measure_id) or measure.get("title", {}).get("en", measure_id)
    common = {"eligible": mine.eligible, "label": label, "period": period}
    if measure.get("kind") in AVOIDANCE_KINDS and not lower_better:
        events = mine.eligible - mine.numerator
        code = "antibiotic_gap"
        params = {"events": events, **common, "peer": round((1 - peer_rate) * 10)}
    else:
        code = "measure_gap"
        unit = measure.get("unit_of_analysis", "case")
        units = UNIT_PLURALS.get(unit, unit + "s")
        params = {"met": mine.numerator, **common, "units": units, "peer": round(peer_rate * 10)}
    basis = {
        "measure_id": measure_id,
        **mine.as_dict(),
        "peer_median_rate": peer_rate,
        "peers": peer_count,
        "shortfall": shortfall,
        "min_gap": MIN_GAP,
    }
    modules = tuple(measure.get("modules", ()))
    return PracticeGap(measure_id, modules, code, params, basis)
