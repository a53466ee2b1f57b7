"""Content analytics per module version, from tallies: cards per clinician-week and what
clinicians did with them, time to action, case pass rates and item analysis. No Flask, HTTP or SQL.

The reads (content_sources) add their rows up into a tally per module version, so a figure costs
memory per clinician-week, per learner and per card acted on (one float), never per row read.
Clinicians and learners appear only as opaque keys (the stores' keyed hashes), are counted and
never listed. Small cells follow the one rule of `app.stats` (fewer than 5): a figure resting on
fewer than 5 cards, actions, clinicians or answers is marked suppressed here and never shown.
What clinicians did with a version's cards rests on the clinicians shown them, and a pass rate
on the learners who attempted the case: fewer than 5 of them suppress it (`suppressed`). The
all-modules counts add up the versions' and are withheld where they would give a lone suppressed
version's away by subtraction (`complemented`).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from app import stats
from app.ledger.rules import passed

# A scenario's decisions are stored as answers "scenario:<step>" (app/ui/scenario_flow.py): a
# branching path, not a fixed set of questions, so they take no part in item analysis.
SCENARIO_STEP = "scenario:"
FLAG_MIN_ANSWERS = 20  # below this a proportion or correlation is too noisy to call an item flawed
TOO_EASY = 0.95
TOO_HARD = 0.2
LOW_DISCRIMINATION = 0.1
ACCEPTED, OVERRIDDEN = "accepted", "overridden"

Version = tuple[str, str]  # (module id, module version)
Reason = tuple[str | None, str | None]  # (code, system) of an override reason; None: not given
ClinicianWeek = tuple[str, tuple[int, int]]  # (clinician, ISO (year, week))
Action = tuple[str, Reason, datetime]  # a clinician's feedback: outcome, reason, when acted


@dataclass
class CardTally:
    """A module version's cards added up: cards per clinician-week (UTC), cards accepted, each
    overridden card's first reason, and the seconds from each acted-on card to its first action."""

    weeks: Counter[ClinicianWeek] = field(default_factory=Counter)
    accepted: int = 0
    overrides: Counter[Reason] = field(default_factory=Counter)
    delays: array[float] = field(default_factory=lambda: array("d"))

    def add_shown(self, clinician: str, day: date, cards: int = 1) -> None:
        """Count cards shown to a clinician on a (UTC) day."""
        self.weeks[clinician, day.isocalendar()[:2]] += cards

    def add_actions(self, shown_at: datetime, actions: Iterable[Action]) -> None:
        """Count what was done with one card shown at `shown_at`: accepted if any action accepted
        it, overridden for the reason of its earliest override (of equal times, the first given),
        acted on after its earliest action."""
        accepted, override, earliest = False, None, None
        for outcome, reason, acted_at in actions:
            accepted = accepted or outcome == ACCEPTED
            if outcome == OVERRIDDEN and (override is None or acted_at < override[0]):
                override = (acted_at, reason)
            if earliest is None or acted_at < earliest:
                earliest = acted_at
        if earliest is None:
            return
        self.accepted += accepted
        if override is not None:
            self.overrides[override[1]] += 1
        # The action's time is the EHR's clock, the showing Bedside's: a small skew may put the
        # action first, which counts as immediate rather than being dropped.
        self.delays.append(max(0.0, (earliest - shown_at).total_seconds()))

    def add_tally(self, other: CardTally) -> None:
        """Add another tally's cards to these."""
        self.weeks.update(other.weeks)
        self.accepted += other.accepted
        self.overrides.update(other.overrides)
        self.delays.extend(other.delays)


@dataclass
class CaseTally:
    """A module version's completed case attempts added up: attempts per learner, how many
    passed, and each learner's first question-set attempt (when started, each item right or
    wrong)."""

    completed: Counter[str] = field(default_factory=Counter)
    passes: int = 0
    firsts: dict[str, tuple[datetime, dict[str, bool]]] = field(default_factory=dict)

    def add_completed(
        self, learner: str, correct: int, total: int, pass_mark_percent: int, attempts: int = 1
    ) -> None:
        """Count a learner's completed attempts with this score (the ledger's pass rule)."""
        self.completed[learner] += attempts
        self.passes += attempts if passed(correct, total, pass_mark_percent) else 0

    def offer_first(self, learner: str, started_at: datetime, answers: dict[str, bool]) -> None:
        """Keep an attempt's answers as the learner's first, if it is a question set (not a
        scenario walk) started before any kept so far: a retake has seen the questions and
        their rationales, so it would flatter every item."""
        if not is_question_set(answers):
            return
        kept = self.firsts.get(learner)
        if kept is None or started_at < kept[0]:
            self.firsts[learner] = (started_at, answers)

    def add_tally(self, other: CaseTally) -> None:
        """Add another tally's attempts to these."""
        self.completed.update(other.completed)
        self.passes += other.passes
        for learner, (started_at, answers) in other.firsts.items():
            self.offer_first(learner, started_at, answers)


def is_question_set(answers: Mapping[str, bool]) -> bool:
    """Answered question by question (not a scenario walk), so items can be compared."""
    return bool(answers) and not any(item.startswith(SCENARIO_STEP) for item in answers)


@dataclass(frozen=True)
class ContentTallies:
    """Everything the analytics read, per module version; `synthetic` when (some of) it is
    generated demo data."""

    cards: Mapping[Version, CardTally] = field(default_factory=dict)
    cases: Mapping[Version, CaseTally] = field(default_factory=dict)
    synthetic: bool = False


def combined(*parts: ContentTallies) -> ContentTallies:
    """The tallies of several sources added up, version by version (the parts are unchanged)."""
    cards: dict[Version, CardTally] = {}
    cases: dict[Version, CaseTally] = {}
    for part in parts:
        for version, card_tally in part.cards.items():
            cards.setdefault(version, CardTally()).add_tally(card_tally)
        for version, case_tally in part.cases.items():
            cases.setdefault(version, CaseTally()).add_tally(case_tally)
    return ContentTallies(cards, cases, any(part.synthetic for part in parts))


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of some counts or durations, over `count` values."""

    count: int
    median: float | None
    p90: float | None
    suppressed: bool
    count_withheld: bool = False  # the count would give a lone suppressed part's away


@dataclass(frozen=True)
class ReasonCount:
    """How many overridden cards gave one reason (code None: no reason given)."""

    code: str | None
    system: str | None
    rate: stats.Rate  # of the overridden cards
    suppressed: bool  # a small cell, or the one that would reveal a lone small cell

    @property
    def small_cell(self) -> bool:
        """Fewer than 5 overrides gave this reason."""
        return stats.small_count(self.rate.numerator)


@dataclass(frozen=True)
class CardFigures:
    """Cards of one version: shown, accepted, overridden and why, burden, time to action."""

    shown: int
    clinicians: int
    accepted: stats.Rate
    overridden: stats.Rate
    reasons: list[ReasonCount]
    burden: Spread  # cards per clinician-week
    time_to_action: Spread  # seconds from card to action
    withheld: bool = False  # the counts would give a lone suppressed part's away

    @property
    def small_cell(self) -> bool:
        """Fewer than 5 cards shown, or shown to fewer than 5 clinicians: not even their number
        is shown."""
        return suppressed(self.shown, self.clinicians)

    @property
    def count_suppressed(self) -> bool:
        """The number of cards shown is not shown: a small cell, or withheld."""
        return self.small_cell or self.withheld

    def share_suppressed(self, share: stats.Rate) -> bool:
        """A share of these cards (accepted, overridden) is not shown."""
        return suppressed(share.eligible, self.clinicians) or self.withheld


@dataclass(frozen=True)
class ItemFigures:
    """One question: difficulty (proportion correct), discrimination and the flags they raise."""

    item_id: str
    difficulty: stats.Rate
    discrimination: float | None
    flags: tuple[str, ...]

    @property
    def suppressed(self) -> bool:
        """Answered by fewer than 5 learners."""
        return self.difficulty.small_cell


@dataclass(frozen=True)
class CaseFigures:
    """A version's case: pass rate over completed attempts, and its items' statistics."""

    attempts: stats.Rate  # passed of completed
    attempted_by: int  # learners behind the completed attempts
    learners: int  # first attempts analysed as items
    items: list[ItemFigures]

    @property
    def pass_rate_suppressed(self) -> bool:
        """Fewer than 5 completed attempts or fewer than 5 learners behind them."""
        return suppressed(self.attempts.eligible, self.attempted_by)

    @property
    def few_learners(self) -> bool:
        """Fewer than 5 learners behind the items: their number is not shown either."""
        return stats.small_count(self.learners)


@dataclass(frozen=True)
class VersionFigures:
    """Everything shown for one module version."""

    module_id: str
    module_version: str
    cards: CardFigures | None
    case: CaseFigures | None


def version_figures(tallies: ContentTallies) -> list[VersionFigures]:
    """Figures for every module version with cards or completed case attempts, in id order."""
    return [
        VersionFigures(
            *version,
            card_figures(tallies.cards[version]) if version in tallies.cards else None,
            case_figures(tallies.cases[version]) if version in tallies.cases else None,
        )
        for version in sorted(set(tallies.cards) | set(tallies.cases))
    ]


def all_cards(tallies: ContentTallies, versions: Sequence[VersionFigures]) -> CardFigures | None:
    """The same card figures over every module (`versions`: version_figures of the tallies): the
    whole alert burden a clinician carries, its counts withheld where they would give a lone
    suppressed version's away."""
    if not tallies.cards:
        return None
    total = CardTally()
    for tally in tallies.cards.values():
        total.add_tally(tally)
    parts = [figures.cards for figures in versions if figures.cards is not None]
    return complemented(card_figures(total), parts)


def complemented(total: CardFigures, parts: Sequence[CardFigures]) -> CardFigures:
    """Complementary suppression: the total's counts are withheld wherever exactly one part's
    are suppressed, as the total minus the shown parts would give that part's away. Withholding
    the total costs fewer figures than hiding a second part would (its counts, shares and every
    override reason resting on them); medians and 90th percentiles do not add up, so they stay.
    """
    lone = stats.lone_unknown(part.shown for part in parts if part.small_cell)
    return replace(
        total,
        withheld=lone and not total.small_cell,
        burden=complemented_spread(total.burden, [part.burden for part in parts]),
        time_to_action=complemented_spread(
            total.time_to_action, [part.time_to_action for part in parts]
        ),
    )


def complemented_spread(total: Spread, parts: Sequence[Spread]) -> Spread:
    """A total's spread, its count withheld when it would give a lone suppressed part's away."""
    lone = stats.lone_unknown(part.count for part in parts if part.suppressed)
    return replace(total, count_withheld=lone and not total.suppressed)


def card_figures(tally: CardTally) -> CardFigures:
    """Shown, accepted and overridden cards, override reasons, burden and time to action."""
    shown = sum(tally.weeks.values())
    clinicians = len({clinician for clinician, _ in tally.weeks})
    return CardFigures(
        shown=shown,
        clinicians=clinicians,
        accepted=stats.Rate(tally.accepted, shown),
        overridden=stats.Rate(tally.overrides.total(), shown),
        reasons=reason_counts(tally.overrides, clinicians),
        burden=alert_burden(tally.weeks),
        time_to_action=spread(tally.delays, clinicians),
    )


def reason_counts(overrides: Mapping[Reason, int], clinicians: int) -> list[ReasonCount]:
    """Overridden cards per reason, commonest first; small cells (and what would reveal them)
    suppressed by `stats.suppressed_groups`, every one when fewer than 5 clinicians were shown
    the cards."""
    total = sum(overrides.values())
    rates = {reason: stats.Rate(count, total) for reason, count in overrides.items()}
    # Each reason is a group whose size is its count (as clinicians are for a measure's rates).
    sizes = {key: stats.Rate(rate.numerator, rate.numerator) for key, rate in rates.items()}
    hidden = stats.suppressed_groups(sizes)
    few = suppressed(total, clinicians)
    ordered = sorted(rates, key=lambda key: (-rates[key].numerator, str(key)))
    return [
        ReasonCount(code, system, rates[(code, system)], few or (code, system) in hidden)
        for code, system in ordered
    ]


def alert_burden(weeks: Mapping[ClinicianWeek, int]) -> Spread:
    """Cards per clinician per ISO week (UTC) over the clinician-weeks with any card;
    suppressed when fewer than 5 clinicians are behind it."""
    counts = [float(cards) for cards in weeks.values()]
    return spread(counts, len({clinician for clinician, _ in weeks}))


def spread(values: Sequence[float], people: int) -> Spread:
    """Median and 90th percentile, suppressed below 5 values or 5 people behind them."""
    return Spread(
        len(values),
        stats.median(values),
        stats.quantile(values, 0.9) if values else None,
        suppressed(len(values), people),
    )


def suppressed(count: int, people: int) -> bool:
    """A figure over `count` values from `people` clinicians or learners is not shown when
    either is fewer than 5."""
    return stats.small_count(count) or stats.small_count(people)


def case_figures(tally: CaseTally) -> CaseFigures:
    """Pass rate over every completed attempt; item analysis over each learner's first one."""
    firsts = [answers for _, answers in tally.firsts.values()]
    item_ids = sorted({item for answers in firsts for item in answers})
    return CaseFigures(
        attempts=stats.Rate(tally.passes, tally.completed.total()),
        attempted_by=len(tally.completed),
        learners=len(firsts),
        items=[item_figures(item, firsts) for item in item_ids],
    )


def item_figures(item_id: str, firsts: Sequence[Mapping[str, bool]]) -> ItemFigures:
    """Difficulty and corrected item-total discrimination over the first attempts answering it."""
    answered = [answers for answers in firsts if item_id in answers]
    scores = [int(answers[item_id]) for answers in answered]
    totals = [sum(answers.values()) for answers in answered]
    difficulty = stats.Rate(sum(scores), len(scores))
    discrimination = None if difficulty.small_cell else stats.corrected_item_total(scores, totals)
    return ItemFigures(item_id, difficulty, discrimination, item_flags(difficulty, discrimination))


def item_flags(difficulty: stats.Rate, discrimination: float | None) -> tuple[str, ...]:
    """Why an item may be flawed ('too-easy', 'too-hard', 'low-discrimination'), once at least
    FLAG_MIN_ANSWERS learners answered it."""
    if difficulty.eligible < FLAG_MIN_ANSWERS or difficulty.rate is None:
        return ()
    flags = []
    if difficulty.rate > TOO_EASY:
        flags.append("too-easy")
    if difficulty.rate < TOO_HARD:
        flags.append("too-hard")
    if discrimination is not None and discrimination < LOW_DISCRIMINATION:
        flags.append("low-discrimination")
    return tuple(flags)
