"""Content analytics per module version, from plain records: cards and what clinicians did with
them, alert burden, time to action, case pass rates and item analysis. No Flask, HTTP or SQL.

Clinicians and learners appear only as opaque keys (the stores' keyed hashes), are counted and
never listed. Small cells follow the one rule of `app.stats` (fewer than 5): a figure resting on
fewer than 5 cards, actions, clinicians or answers is marked suppressed here and never shown.
What clinicians did with a version's cards rests on the clinicians shown them, and a pass rate
on the learners who attempted the case: fewer than 5 of them suppress it (`suppressed`). The
all-modules counts add up the versions' and are withheld where they would give a lone suppressed
version's away by subtraction (`complemented`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

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


@dataclass(frozen=True)
class CardShown:
    """A card of a module version shown to a clinician (an opaque key)."""

    card_uuid: str
    module_id: str
    module_version: str
    clinician: str
    shown_at: datetime


@dataclass(frozen=True)
class CardAction:
    """What a clinician did with a card: accepted or overridden (with a reason code, if given)."""

    card_uuid: str
    outcome: str
    reason_code: str | None
    reason_system: str | None
    acted_at: datetime


@dataclass(frozen=True)
class CaseAttempt:
    """A completed case attempt: its score and each item's right or wrong."""

    learner: str
    module_id: str
    module_version: str
    started_at: datetime
    correct: int
    total: int
    pass_mark_percent: int
    answers: dict[str, bool] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """The score reaches the pass mark (the ledger's exact rule)."""
        return passed(self.correct, self.total, self.pass_mark_percent)

    @property
    def is_question_set(self) -> bool:
        """Answered question by question (not a scenario walk), so items can be compared."""
        return bool(self.answers) and not any(i.startswith(SCENARIO_STEP) for i in self.answers)


@dataclass(frozen=True)
class ContentRecords:
    """Everything the analytics read; `synthetic` when (some of) it is generated demo data."""

    shown: Sequence[CardShown] = ()
    actions: Sequence[CardAction] = ()
    attempts: Sequence[CaseAttempt] = ()
    synthetic: bool = False


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


def version_figures(records: ContentRecords) -> list[VersionFigures]:
    """Figures for every module version with cards or completed case attempts, in id order."""
    shown = group(records.shown, version_of)
    attempts = group(records.attempts, version_of)
    actions = group(records.actions, lambda action: action.card_uuid)
    return [
        VersionFigures(
            *key,
            card_figures(shown[key], actions) if key in shown else None,
            case_figures(attempts[key]) if key in attempts else None,
        )
        for key in sorted(set(shown) | set(attempts))
    ]


def all_cards(records: ContentRecords, versions: Sequence[VersionFigures]) -> CardFigures | None:
    """The same card figures over every module (`versions`: version_figures of the records): the
    whole alert burden a clinician carries, its counts withheld where they would give a lone
    suppressed version's away."""
    if not records.shown:
        return None
    actions = group(records.actions, lambda action: action.card_uuid)
    parts = [figures.cards for figures in versions if figures.cards is not None]
    return complemented(card_figures(records.shown, actions), parts)


def version_of(record: CardShown | CaseAttempt) -> tuple[str, str]:
    """(module id, module version) of a card or attempt."""
    return record.module_id, record.module_version


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


def card_figures(shown: Sequence[CardShown], actions: dict[str, list[CardAction]]) -> CardFigures:
    """Shown, accepted and overridden cards, override reasons, burden and time to action."""
    count = len(shown)
    clinicians = len({card.clinician for card in shown})
    taken = {card.card_uuid: actions.get(card.card_uuid, []) for card in shown}
    accepted = sum(any(a.outcome == ACCEPTED for a in done) for done in taken.values())
    overrides = [first(done, OVERRIDDEN) for done in taken.values()]
    overrides = [action for action in overrides if action is not None]
    # The action's time is the EHR's clock, the showing Bedside's: a small skew may put the
    # action first, which counts as immediate rather than being dropped.
    delays = [
        max(0.0, (min(a.acted_at for a in done) - card.shown_at).total_seconds())
        for card in shown
        if (done := taken[card.card_uuid])
    ]
    return CardFigures(
        shown=count,
        clinicians=clinicians,
        accepted=stats.Rate(accepted, count),
        overridden=stats.Rate(len(overrides), count),
        reasons=reason_counts(overrides, clinicians),
        burden=alert_burden(shown),
        time_to_action=spread(delays, clinicians),
    )


def first(actions: Iterable[CardAction], outcome: str) -> CardAction | None:
    """The earliest action with this outcome."""
    matching = sorted((a for a in actions if a.outcome == outcome), key=lambda a: a.acted_at)
    return matching[0] if matching else None


def reason_counts(overrides: Sequence[CardAction], clinicians: int) -> list[ReasonCount]:
    """Overridden cards per reason, commonest first; small cells (and what would reveal them)
    suppressed by `stats.suppressed_groups`, every one when fewer than 5 clinicians were shown
    the cards."""
    by_reason = group(overrides, lambda action: (action.reason_code, action.reason_system))
    rates = {key: stats.Rate(len(found), len(overrides)) for key, found in by_reason.items()}
    # Each reason is a group whose size is its count (as clinicians are for a measure's rates).
    sizes = {key: stats.Rate(rate.numerator, rate.numerator) for key, rate in rates.items()}
    hidden = stats.suppressed_groups(sizes)
    few = suppressed(len(overrides), clinicians)
    ordered = sorted(rates, key=lambda key: (-rates[key].numerator, str(key)))
    return [
        ReasonCount(code, system, rates[(code, system)], few or (code, system) in hidden)
        for code, system in ordered
    ]


def alert_burden(shown: Sequence[CardShown]) -> Spread:
    """Cards per clinician per ISO week (UTC) over the clinician-weeks with any card;
    suppressed when fewer than 5 clinicians are behind it."""
    weeks = group(shown, lambda card: (card.clinician, card.shown_at.isocalendar()[:2]))
    counts = [float(len(cards)) for cards in weeks.values()]
    return spread(counts, len({card.clinician for card in shown}))


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


def case_figures(attempts: Sequence[CaseAttempt]) -> CaseFigures:
    """Pass rate over every completed attempt; item analysis over each learner's first one
    (a retake has seen the questions and their rationales, so it would flatter every item)."""
    firsts = first_attempts(a for a in attempts if a.is_question_set)
    item_ids = sorted({item for attempt in firsts for item in attempt.answers})
    return CaseFigures(
        attempts=stats.Rate(sum(a.passed for a in attempts), len(attempts)),
        attempted_by=len({attempt.learner for attempt in attempts}),
        learners=len(firsts),
        items=[item_figures(item, firsts) for item in item_ids],
    )


def first_attempts(attempts: Iterable[CaseAttempt]) -> list[CaseAttempt]:
    """Each learner's earliest attempt."""
    earliest: dict[str, CaseAttempt] = {}
    for attempt in sorted(attempts, key=lambda a: (a.started_at, a.learner)):
        earliest.setdefault(attempt.learner, attempt)
    return list(earliest.values())


def item_figures(item_id: str, attempts: Sequence[CaseAttempt]) -> ItemFigures:
    """Difficulty and corrected item-total discrimination over the attempts that answered it."""
    answered = [a for a in attempts if item_id in a.answers]
    scores = [int(a.answers[item_id]) for a in answered]
    totals = [sum(a.answers.values()) for a in answered]
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


def group(items: Iterable, key) -> dict:
    """Items listed under their key, keys in first-seen order."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups
