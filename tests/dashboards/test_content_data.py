"""Content analytics from plain records: cards and feedback, burden, time to action, items."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from app.dashboards import content_data as cd
from app.stats import Rate

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Card(NamedTuple):
    """A card of a module version shown to a clinician (an opaque key)."""

    card_uuid: str
    module_id: str
    module_version: str
    clinician: str
    shown_at: datetime


class Action(NamedTuple):
    """What a clinician did with a card, and when."""

    card_uuid: str
    outcome: str
    reason_code: str | None
    reason_system: str | None
    acted_at: datetime


class Attempt(NamedTuple):
    """A completed case attempt: its score and each item's right or wrong."""

    learner: str
    module_id: str
    module_version: str
    started_at: datetime
    correct: int
    total: int
    pass_mark_percent: int
    answers: dict[str, bool]


def card(number: int, clinician: str, when: datetime = MONDAY, version: str = "1.0.0"):
    """A card of module m shown to a clinician."""
    return Card(f"card-{number}", "m", version, clinician, when)


def action(number: int, outcome: str, reason: str | None = None, seconds: float = 30):
    """Feedback on card `number`, `seconds` after MONDAY."""
    acted = MONDAY + timedelta(seconds=seconds)
    return Action(f"card-{number}", outcome, reason, None, acted)


def attempt(learner: str, answers: dict[str, bool], day: int = 1, version: str = "1.0.0"):
    """A completed attempt at m's case with these answers (pass mark 75 %)."""
    started = MONDAY + timedelta(days=day)
    correct = sum(answers.values())
    return Attempt(learner, "m", version, started, correct, len(answers), 75, answers)


def card_tally(shown, actions=()) -> cd.CardTally:
    """These cards and the feedback on them added up, as the reads add up their rows."""
    taken: dict[str, list] = {}
    for done in actions:
        reason = (done.reason_code, done.reason_system)
        taken.setdefault(done.card_uuid, []).append((done.outcome, reason, done.acted_at))
    tally = cd.CardTally()
    for shown_card in shown:
        tally.add_shown(shown_card.clinician, shown_card.shown_at.date())
        tally.add_actions(shown_card.shown_at, taken.get(shown_card.card_uuid, []))
    return tally


def case_tally(attempts) -> cd.CaseTally:
    """These completed attempts added up, as the reads add up their rows."""
    tally = cd.CaseTally()
    for done in attempts:
        tally.add_completed(done.learner, done.correct, done.total, done.pass_mark_percent)
        tally.offer_first(done.learner, done.started_at, done.answers)
    return tally


def tallies(shown=(), actions=(), attempts=()) -> cd.ContentTallies:
    """Cards, feedback and attempts added up per module version."""
    versions = {(c.module_id, c.module_version) for c in shown}
    cases = {(a.module_id, a.module_version) for a in attempts}
    return cd.ContentTallies(
        {v: card_tally([c for c in shown if c[1:3] == v], actions) for v in versions},
        {v: case_tally([a for a in attempts if a[1:3] == v]) for v in cases},
    )


def test_cards_shown_accepted_overridden_and_time_to_action():
    """10 cards: 3 accepted, 5 overridden (one of them accepted later too), 2 ignored."""
    shown = [card(n, f"c{n % 5}") for n in range(10)]
    actions = [action(n, "accepted", seconds=20) for n in range(3)]
    actions += [action(n, "overridden", "r1", seconds=60) for n in range(3, 8)]
    actions.append(action(3, "accepted", seconds=90))
    [figures] = cd.version_figures(tallies(shown, actions))
    cards = figures.cards
    assert (cards.shown, cards.clinicians) == (10, 5)
    assert cards.accepted == Rate(4, 10)
    assert cards.overridden == Rate(5, 10)
    # the first action on each of the 8 cards acted on: 3 after 20 s, 5 after 60 s
    assert cards.time_to_action.count == 8
    assert cards.time_to_action.median == 60
    assert not cards.time_to_action.suppressed


def test_alert_burden_is_cards_per_clinician_week():
    """c1 sees 2 cards in week 1 and 4 in week 2; c2..c5 see 1..4 in week 1: 6 clinician-weeks."""
    shown = [card(0, "c1"), card(1, "c1", MONDAY + timedelta(days=2))]  # Monday and Wednesday
    shown += [card(10 + n, "c1", MONDAY + timedelta(days=7)) for n in range(4)]
    number = 20
    for size, clinician in enumerate(["c2", "c3", "c4", "c5"], start=1):
        for _ in range(size):
            number += 1
            shown.append(card(number, clinician, MONDAY + timedelta(days=6, hours=10)))
    burden = cd.alert_burden(card_tally(shown).weeks)
    # counts 2, 4, 1, 2, 3, 4: median 2.5; p90 at position 4.5 of 1,2,2,3,4,4 is 4
    assert burden.count == 6
    assert burden.median == 2.5 and burden.p90 == 4
    assert not burden.suppressed


def test_burden_from_fewer_than_5_clinicians_is_suppressed():
    """Many weeks but 4 clinicians: their individual burden could be read off; suppressed."""
    shown = [
        card(week * 10 + who, f"c{who}", MONDAY + timedelta(weeks=week))
        for week in range(10)
        for who in range(4)
    ]
    assert cd.alert_burden(card_tally(shown).weeks).count == 40
    assert cd.alert_burden(card_tally(shown).weeks).suppressed


def test_override_reasons_suppress_small_cells_and_the_cell_that_reveals_them():
    """r1 6, r2 5, r3 2 of 13: r3 is a small cell, r2 the next smallest that would reveal it."""
    shown = [card(n, f"c{n % 5}") for n in range(20)]
    reasons = ["r1"] * 6 + ["r2"] * 5 + ["r3"] * 2
    actions = [action(n, "overridden", reason) for n, reason in enumerate(reasons)]
    found = {r.code: r for r in cd.card_figures(card_tally(shown, actions)).reasons}
    assert [code for code in found] == ["r1", "r2", "r3"]  # commonest first
    assert found["r1"].rate == Rate(6, 13) and not found["r1"].suppressed
    assert found["r2"].suppressed and not found["r2"].small_cell
    assert found["r3"].suppressed and found["r3"].small_cell


def test_a_reason_missing_is_its_own_group():
    """Overrides without a reason are counted under None ('no reason given')."""
    shown = [card(n, "c1") for n in range(6)]
    actions = [action(n, "overridden") for n in range(6)]
    [reason] = cd.card_figures(card_tally(shown, actions)).reasons
    assert reason.code is None and reason.rate == Rate(6, 6)


def test_versions_are_kept_apart():
    """Cards and attempts of 1.0.0 and 1.1.0 are separate rows, in version order."""
    records = tallies(
        [card(1, "c1"), card(2, "c1", version="1.1.0")],
        [],
        [attempt("l1", {"q1": True}, version="1.1.0")],
    )
    found = [(f.module_version, f.cards.shown, f.case) for f in cd.version_figures(records)]
    assert [(version, shown) for version, shown, _ in found] == [("1.0.0", 1), ("1.1.0", 1)]
    assert found[0][2] is None and found[1][2].attempts == Rate(1, 1)


def q3_right(n: int) -> bool:
    """Mostly the weakest learners get q3 right (as with a wrong key)."""
    return n < 4 or n in (9, 13, 17)


def responses() -> list[Attempt]:
    """20 learners by ability n: q1 and q4 follow it, q2 everyone gets, q3 runs against it."""
    return [
        attempt(f"l{n:02d}", {"q1": n >= 8, "q2": True, "q3": q3_right(n), "q4": n >= 5})
        for n in range(20)
    ]


def test_item_difficulty_discrimination_and_flags():
    """Proportions correct, corrected item-total correlations, and the flags they raise."""
    case = cd.case_figures(case_tally(responses()))
    items = {item.item_id: item for item in case.items}
    assert case.learners == 20
    assert items["q1"].difficulty == Rate(12, 20)
    assert items["q2"].difficulty == Rate(20, 20)
    assert items["q3"].difficulty == Rate(7, 20)
    q1 = [int(n >= 8) for n in range(20)]
    rest_of_q1 = [1 + q3_right(n) + (n >= 5) for n in range(20)]  # q2 + q3 + q4
    assert abs(items["q1"].discrimination - statistics.correlation(q1, rest_of_q1)) < 1e-12
    assert items["q2"].discrimination is None  # no variance: undefined, not 0
    assert items["q1"].flags == ()
    assert items["q2"].flags == ("too-easy",)
    assert items["q3"].discrimination < 0.1 and items["q3"].flags == ("low-discrimination",)


def test_no_flags_below_20_learners():
    """The same pattern from 19 learners flags nothing: too few to call an item flawed."""
    case = cd.case_figures(case_tally(responses()[:19]))
    assert all(item.flags == () for item in case.items)


def test_too_hard_is_flagged():
    """3 of 20 correct (15 %) is below 20 %."""
    attempts = [attempt(f"l{n}", {"q1": n < 3, "q2": n % 2 == 0}) for n in range(20)]
    items = {i.item_id: i for i in cd.case_figures(case_tally(attempts)).items}
    assert "too-hard" in items["q1"].flags


def test_items_come_from_first_attempts_and_pass_rate_from_all():
    """A retake counts for the pass rate but not for the items; scenario walks for neither items."""
    first = attempt("l1", {"q1": False, "q2": False}, day=1)
    retake = attempt("l1", {"q1": True, "q2": True}, day=2)
    scenario = attempt("l2", {"scenario:start": True, "scenario:next": True}, day=1)
    case = cd.case_figures(case_tally([retake, first, scenario]))
    assert case.attempts == Rate(2, 3)  # the retake and the scenario walk passed
    assert case.learners == 1
    assert [(i.item_id, i.difficulty) for i in case.items] == [
        ("q1", Rate(0, 1)),
        ("q2", Rate(0, 1)),
    ]
    assert all(item.suppressed and item.discrimination is None for item in case.items)
