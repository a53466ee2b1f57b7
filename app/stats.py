"""Rates with Wilson 95% intervals, small-cell suppression, quantiles and item-analysis
correlations: statistics that know no domain.

Rate = numerator / (denominator - exclusions). Grouping measure cases into rates is
`app.outcomes.rates`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054  # two-sided 95% normal quantile
SMALL_CELL = 5


def small_count(count: int) -> bool:
    """Fewer than 5 (cases, people, events): a small cell, not shown in aggregate views."""
    return count < SMALL_CELL


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """Return the Wilson score interval for successes/trials (None when there are no trials)."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} must be between 0 and trials {trials}")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


@dataclass(frozen=True)
class Rate:
    """Counts behind one rate; the rate, interval and small-cell flag are derived from them."""

    numerator: int
    denominator: int
    excluded: int = 0

    @property
    def eligible(self) -> int:
        """Denominator minus exclusions: the rate's divisor."""
        return self.denominator - self.excluded

    @property
    def rate(self) -> float | None:
        """numerator / eligible, or None when nothing is eligible."""
        return self.numerator / self.eligible if self.eligible else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """Wilson 95% interval of the rate."""
        return wilson_interval(self.numerator, self.eligible)

    @property
    def small_cell(self) -> bool:
        """Fewer than 5 eligible cases: too few to show or compare without a warning."""
        return small_count(self.eligible)

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form."""
        interval = self.interval
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "excluded": self.excluded,
            "eligible": self.eligible,
            "rate": self.rate,
            "ci95": list(interval) if interval else None,
            "small_cell": self.small_cell,
        }


def suppressed_groups(
    rates: Mapping[Hashable, Rate], unshown: Iterable[Hashable] = ()
) -> set[Hashable]:
    """Groups whose counts must not be shown beside their total: every small cell, and, when
    exactly one group would be unknown, the next smallest one too (else total minus the shown
    rows would give it away). `unshown` groups are never listed (e.g. unattributed cases)."""
    unshown = set(unshown)
    hidden = {key for key, rate in rates.items() if rate.small_cell}
    if not lone_unknown(rates[key].eligible for key in hidden | unshown if key in rates):
        return hidden
    shown = [key for key in rates if key not in hidden and key not in unshown]
    if shown:
        hidden.add(min(shown, key=lambda key: (rates[key].eligible, str(key))))
    return hidden


def lone_unknown(unknown_sizes: Iterable[int]) -> bool:
    """Exactly one part of a shown total is unknown and not empty: the total minus the shown
    parts gives it away, so a complement (another part, or the total) must be suppressed too."""
    return sum(1 for size in unknown_sizes if size) == 1


def quantile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` quantile by linear interpolation between order statistics (Hyndman-Fan
    type 7, as numpy and `statistics.quantiles(method="inclusive")`); None for no values."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction {fraction} must be between 0 and 1")
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def median(values: Sequence[float]) -> float | None:
    """The median (the 0.5 quantile); None for no values."""
    return quantile(values, 0.5)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's correlation of paired values; None when either side does not vary."""
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x values but {len(ys)} y values")
    count = len(xs)
    if count < 2:
        return None
    mean_x, mean_y = math.fsum(xs) / count, math.fsum(ys) / count
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    spread = math.sqrt(math.fsum(d * d for d in dx) * math.fsum(d * d for d in dy))
    if spread == 0:
        return None
    return max(-1.0, min(1.0, math.fsum(a * b for a, b in zip(dx, dy, strict=True)) / spread))


def corrected_item_total(item_scores: Sequence[int], total_scores: Sequence[int]) -> float | None:
    """Point-biserial discrimination of a 0/1 item: its correlation with the rest of the test
    (each total minus the item's own score), so the item does not correlate with itself."""
    rest = [total - item for item, total in zip(item_scores, total_scores, strict=True)]
    return pearson(item_scores, rest)
