"""Content analytics count in SQL: the figures equal a plain per-row reference on SQLite and
PostgreSQL, and what one request holds does not grow with the cards shown."""

from __future__ import annotations

import math
import random
import tracemalloc
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from app import stats
from app.dashboards import content_sources
from app.dashboards.content_data import all_cards, version_figures
from app.db import close_stores
from app.ledger.models import Answer
from cds_hooks.store import EXPOSURE_COLUMNS
from tests.dashboards.conftest import ISSUER
from tests.dashboards.test_content_pages import build, signed_in_client

NOW = datetime(2026, 2, 15, 12, tzinfo=UTC)
SINCE = NOW - timedelta(days=content_sources.WINDOW_DAYS)
ISO_2026_STARTS = datetime(2025, 12, 29, tzinfo=UTC).timestamp()  # Monday of ISO week 2026-W01
ULP = 2.0**-22  # the spacing of epoch seconds near 2026 as floats: 0.24 microseconds
DAY = 86400.0
# (module, version, clinicians "c01".., cards): overlapping clinicians; 0.1.0 a lone small cell.
CARD_PLAN = [
    ("m-alpha", "1.0.0", range(1, 13), 1300),
    ("m-alpha", "1.1.0", range(5, 13), 800),
    ("m-beta", "2.0.0", range(3, 9), 500),
    ("m-gamma", "0.1.0", range(1, 3), 9),
]
# (module, version, learners, pass mark): m-delta has a case, no cards, and 3 learners.
CASE_PLAN = [("m-alpha", "1.0.0", 30, 75), ("m-beta", "2.0.0", 22, 60), ("m-delta", "1.0.0", 3, 75)]
REASONS = [
    ("r-common", None),
    ("r-common", "http://example.org/other-system"),
    ("r-mid", "http://example.org/reasons"),
    ("r-rare", "http://example.org/reasons"),
    (None, None),
]
REASON_WEIGHTS = [40, 12, 20, 0.4, 8]
ITEMS = ["q1", "q2", "q3", "q4", "q5"]
FEEDBACK_COLUMNS = [
    "feedback_key",
    "card_uuid",
    "module_id",
    "user_key",
    "outcome",
    "override_reason",
    "override_reason_system",
    "accepted_suggestions",
    "outcome_at",
    "received_at",
]


@dataclass(frozen=True)
class Shown:
    """A stored card: its id, version, clinician and epoch time shown."""

    card_uuid: str
    version: tuple[str, str]
    clinician: str
    shown_at: float


@dataclass(frozen=True)
class Feedback:
    """A stored feedback row."""

    key: str
    card_uuid: str
    outcome: str
    reason: tuple[str | None, str | None]
    outcome_at: str | None
    received_at: float


@dataclass(frozen=True)
class Taken:
    """A stored case attempt: learner, version, start, completion, score and answers."""

    learner: str
    version: tuple[str, str]
    started_at: datetime
    completed: bool
    score: tuple[int, int, int]  # correct, total, pass mark
    answers: dict[str, bool | None]


def iso_year_edges() -> list[float]:
    """Times around the start of ISO year 2026 (Monday 29 December 2025, 00:00 UTC), where the
    ISO week and its year change; a time less than half a microsecond before midnight is the
    next day once rounded to the microsecond."""
    start = ISO_2026_STARTS
    return [
        start - 4 * DAY + 3600,  # Thursday of 2025-W52
        start - 1.0,
        start - 1e-6,  # Sunday 23:59:59.999999: still 2025-W52
        start - 3 * ULP,  # 0.72 microseconds before: rounds down, 2025-W52
        start - 2 * ULP,  # 0.48 microseconds before: rounds up, 2026-W01
        start - ULP,
        start,
        start + 3 * DAY + 0.5,  # New Year's Day 2026
        start + 7 * DAY - 1e-6,  # Sunday 4 January, last moment of 2026-W01
        start + 7 * DAY - ULP,  # rounds to Monday 5 January, 2026-W02
    ]


def random_cards(rng: random.Random) -> list[Shown]:
    """CARD_PLAN's cards: mostly spread over the window, some on ISO-year edges, a few older."""
    edges = iso_year_edges()
    cards = []
    for module_id, version, pool, count in CARD_PLAN:
        clinicians = [f"c{n:02d}" for n in pool]
        weights = [1 + 3 * (i % 3) for i in range(len(clinicians))]
        for i in range(count):
            draw = rng.random()
            if draw < 0.12:
                shown_at = rng.choice(edges)
            elif draw < 0.14:
                shown_at = (SINCE - timedelta(days=rng.uniform(1, 60))).timestamp()
            else:
                shown_at = rng.uniform(SINCE.timestamp() + DAY, NOW.timestamp() - DAY)
            who = rng.choices(clinicians, weights)[0] if i >= len(clinicians) else clinicians[i]
            cards.append(
                Shown(str(uuid.UUID(int=rng.getrandbits(128))), (module_id, version), who, shown_at)
            )
    return cards


def outcome_text(rng: random.Random, acted: float) -> str | None:
    """The client's outcome time for an action at `acted`, in one of the shapes clients send:
    UTC with Z, another offset, no offset, none, or text that is no time."""
    moment = datetime.fromtimestamp(acted, UTC)
    shape = rng.choice(["z", "z", "offset", "naive", "none", "junk"])
    if shape == "z":
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if shape == "offset":
        return moment.astimezone(timezone(timedelta(hours=-5))).isoformat()
    if shape == "naive":
        return moment.replace(tzinfo=None).isoformat()
    return None if shape == "none" else "just now"


def random_feedback(rng: random.Random, cards: list[Shown]) -> list[Feedback]:
    """None, one or several actions per card: accepted, overridden (some cards several times,
    some at the same time for different reasons), acted before shown (clock skew) now and then."""
    feedback = []

    def act(card: Shown, outcome: str, acted: float, stated_as: str | None = None) -> None:
        reason = (
            rng.choices(REASONS, REASON_WEIGHTS)[0] if outcome == "overridden" else (None, None)
        )
        stated = outcome_text(rng, acted) if stated_as is None else stated_as
        received = acted + rng.uniform(0.01, 5) if stated is not None else acted
        feedback.append(
            Feedback(uuid.uuid4().hex, card.card_uuid, outcome, reason, stated, received)
        )

    for card in cards:
        draw = rng.random()
        delay = (
            -rng.uniform(0.5, 20) if rng.random() < 0.05 else rng.lognormvariate(math.log(60), 1.2)
        )
        acted = card.shown_at + delay
        if draw < 0.3:
            continue
        if draw < 0.55:
            act(card, "accepted", acted)
        elif draw < 0.8:
            act(card, "overridden", acted)
        elif draw < 0.9:
            act(card, "accepted", acted + rng.uniform(-30, 30))
            act(card, "overridden", acted)
        elif draw < 0.96:
            for _ in range(rng.choice([2, 3])):
                act(card, "overridden", acted + rng.uniform(0, 600))
        else:
            same = outcome_text(rng, acted) or "2026-01-01T00:00:00Z"
            act(card, "overridden", acted, same)
            act(card, "overridden", acted, same)
    for _ in range(5):  # feedback on cards never stored: left out
        stray = Shown(str(uuid.uuid4()), ("m-alpha", "1.0.0"), "c01", NOW.timestamp())
        act(stray, "accepted", NOW.timestamp())
    return sorted(feedback, key=lambda f: f.received_at)


def random_attempts(rng: random.Random, learners: dict[str, str]) -> list[Taken]:
    """1 to 3 attempts per learner of CASE_PLAN: question sets (some with an unscored item),
    scenario walks, unscored attempts, some not completed, some older than the window."""
    attempts = []
    for module_id, version, count, pass_mark in CASE_PLAN:
        for name in list(learners)[:count]:
            for _ in range(rng.choice([1, 1, 2, 3])):
                kind = rng.choices(
                    ["questions", "partial", "scenario", "unscored"], [70, 12, 12, 6]
                )[0]
                if kind == "scenario":
                    answers: dict[str, bool | None] = {
                        "scenario:start": True,
                        "scenario:end": rng.random() < 0.6,
                    }
                else:
                    ability = rng.random()
                    answers = {
                        item: rng.random() < ability + 0.1 * i for i, item in enumerate(ITEMS)
                    }
                    if kind == "partial":
                        answers[rng.choice(ITEMS)] = None
                    if kind == "unscored":
                        answers = dict.fromkeys(ITEMS)
                started = SINCE + timedelta(
                    days=rng.uniform(-20, 360), microseconds=rng.randrange(10**6)
                )
                correct = sum(1 for value in answers.values() if value)
                completed = rng.random() < 0.92
                score = (correct, len(answers), pass_mark)
                attempts.append(
                    Taken(learners[name], (module_id, version), started, completed, score, answers)
                )
    return attempts


def store_cards(app, cards: list[Shown], feedback: list[Feedback]) -> None:
    """Write the cards and feedback into the CDS store's tables (one transaction)."""
    module_of = {card.card_uuid: card.version[0] for card in cards}
    with app.extensions["cds"].engine.store.database.write() as connection:
        insert_rows(
            connection,
            "cds_exposures",
            EXPOSURE_COLUMNS,
            [(c.card_uuid, *c.version, "svc", c.clinician, "p", c.shown_at, "", "") for c in cards],
        )
        insert_rows(
            connection,
            "cds_feedback",
            FEEDBACK_COLUMNS,
            [feedback_row(f, module_of.get(f.card_uuid, "m-alpha")) for f in feedback],
        )


def feedback_row(feedback: Feedback, module_id: str) -> tuple:
    """A feedback's values in FEEDBACK_COLUMNS order."""
    code, system = feedback.reason
    return (
        feedback.key,
        feedback.card_uuid,
        module_id,
        "u",
        feedback.outcome,
        code,
        system,
        "[]",
        feedback.outcome_at,
        feedback.received_at,
    )


def insert_rows(connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Insert rows (tuples in `columns` order) into a table."""
    if rows:
        values = ", ".join(f":{column}" for column in columns)
        statement = text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})")
        connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])


def store_attempts(app, rng: random.Random) -> list[Taken]:
    """Record random attempts through the ledger store; return them as stored."""
    ledger = app.extensions["ledger"].store
    names = [f"L{n:02d}" for n in range(max(count for _, _, count, _ in CASE_PLAN))]
    learners = {name: ledger.ensure_learner(ISSUER, f"Practitioner/{name}") for name in names}
    attempts = random_attempts(rng, learners)
    for taken in attempts:
        attempt_id = str(uuid.UUID(int=rng.getrandbits(128)))
        ledger.record_attempt(taken.learner, ("case", *taken.version), attempt_id, taken.started_at)
        for item, correct in taken.answers.items():
            ledger.record_answer(
                Answer(attempt_id, item, {"option": "a"}, taken.started_at, correct)
            )
        if taken.completed:
            ledger.complete_attempt(attempt_id, *taken.score)
    return attempts


def acted_at(feedback: Feedback) -> datetime:
    """The reference's action time: the outcome time if it reads as one (UTC if it names no
    offset), else when the feedback was received."""
    try:
        moment = datetime.fromisoformat(feedback.outcome_at or "")
    except ValueError:
        return datetime.fromtimestamp(feedback.received_at, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def spread_of(values: list[float], people: int) -> tuple:
    """(count, median, 90th percentile, suppressed)."""
    return (
        len(values),
        stats.quantile(values, 0.5),
        stats.quantile(values, 0.9),
        len(values) < 5 or people < 5,
    )


def reference_cards(cards: list[Shown], feedback: list[Feedback]) -> dict:
    """Card figures, straight from the rows: shown, clinicians, accepted, overridden and why (the
    earliest override of a card, the first received of equal times), burden, time to action."""
    taken: dict[str, list[Feedback]] = {}
    for f in feedback:
        taken.setdefault(f.card_uuid, []).append(f)
    weeks = Counter(
        (c.clinician, datetime.fromtimestamp(c.shown_at, UTC).isocalendar()[:2]) for c in cards
    )
    clinicians = len({c.clinician for c in cards})
    accepted, reasons, delays = 0, Counter(), []
    for card in cards:
        done = sorted(taken.get(card.card_uuid, []), key=lambda f: (acted_at(f), f.received_at))
        if not done:
            continue
        accepted += any(f.outcome == "accepted" for f in done)
        overrides = [f for f in done if f.outcome == "overridden"]
        if overrides:
            reasons[overrides[0].reason] += 1
        shown = datetime.fromtimestamp(card.shown_at, UTC)
        delays.append(max(0.0, (acted_at(done[0]) - shown).total_seconds()))
    overridden = sum(reasons.values())
    ordered = sorted(reasons, key=lambda r: (-reasons[r], str(r)))
    small = {r for r in reasons if reasons[r] < 5}
    if len(small) == 1 and len(ordered) > 1:
        small.add(min((r for r in ordered if r not in small), key=lambda r: (reasons[r], str(r))))
    few = overridden < 5 or clinicians < 5
    return {
        "shown": len(cards),
        "clinicians": clinicians,
        "accepted": (accepted, len(cards)),
        "overridden": (overridden, len(cards)),
        "reasons": [(*r, reasons[r], few or r in small) for r in ordered],
        "burden": spread_of([float(n) for n in weeks.values()], clinicians),
        "time_to_action": spread_of(delays, clinicians),
        "small_cell": len(cards) < 5 or clinicians < 5,
    }


def figures_of_cards(cards) -> dict:
    """The same keys from a CardFigures."""
    return {
        "shown": cards.shown,
        "clinicians": cards.clinicians,
        "accepted": (cards.accepted.numerator, cards.accepted.denominator),
        "overridden": (cards.overridden.numerator, cards.overridden.denominator),
        "reasons": [(r.code, r.system, r.rate.numerator, r.suppressed) for r in cards.reasons],
        "burden": spread_tuple(cards.burden),
        "time_to_action": spread_tuple(cards.time_to_action),
        "small_cell": cards.small_cell,
    }


def spread_tuple(spread) -> tuple:
    """(count, median, 90th percentile, suppressed) of a Spread."""
    return spread.count, spread.median, spread.p90, spread.suppressed


def reference_case(attempts: list[Taken]) -> dict:
    """Case figures from the attempts: pass rate over the completed ones, items over each
    learner's first question-set attempt (scored answers, no scenario step)."""
    passed = sum(
        total > 0 and 100 * correct >= mark * total
        for correct, total, mark in (a.score for a in attempts)
    )
    firsts: dict[str, tuple] = {}
    for a in sorted(attempts, key=lambda a: a.started_at):
        scored = {item: value for item, value in a.answers.items() if value is not None}
        if scored and not any(item.startswith("scenario:") for item in scored):
            firsts.setdefault(a.learner, scored)
    items = []
    for item in sorted({item for scored in firsts.values() for item in scored}):
        answered = [scored for scored in firsts.values() if item in scored]
        scores = [int(scored[item]) for scored in answered]
        totals = [sum(scored.values()) for scored in answered]
        discrimination = None if len(scores) < 5 else stats.corrected_item_total(scores, totals)
        items.append((item, sum(scores), len(scores), discrimination))
    return {
        "attempts": (passed, len(attempts)),
        "attempted_by": len({a.learner for a in attempts}),
        "learners": len(firsts),
        "items": items,
    }


def figures_of_case(case) -> dict:
    """The same keys from a CaseFigures."""
    return {
        "attempts": (case.attempts.numerator, case.attempts.denominator),
        "attempted_by": case.attempted_by,
        "learners": case.learners,
        "items": [
            (i.item_id, i.difficulty.numerator, i.difficulty.eligible, i.discrimination)
            for i in case.items
        ],
    }


def reference(cards: list[Shown], feedback: list[Feedback], attempts: list[Taken]) -> dict:
    """Every version's figures and the all-modules ones, from the rows in the window."""
    cards = [c for c in cards if c.shown_at >= SINCE.timestamp()]
    attempts = [a for a in attempts if a.completed and a.started_at >= SINCE]
    versions = sorted({c.version for c in cards} | {a.version for a in attempts})
    found = {}
    for version in versions:
        mine = [c for c in cards if c.version == version]
        done = [a for a in attempts if a.version == version]
        found[version] = (
            reference_cards(mine, feedback) if mine else None,
            reference_case(done) if done else None,
        )
    overall = reference_cards(cards, feedback)
    parts = [part for part, _ in found.values() if part]
    overall["withheld"] = not overall["small_cell"] and lone(
        [p["shown"] for p in parts if p["small_cell"]]
    )
    for spread in ("burden", "time_to_action"):
        hidden = [p[spread][0] for p in parts if p[spread][3]]
        overall[f"{spread}_count_withheld"] = not overall[spread][3] and lone(hidden)
    return {"versions": found, "overall": overall}


def lone(sizes: list[int]) -> bool:
    """Exactly one non-empty part is unknown."""
    return sum(1 for size in sizes if size) == 1


def computed(app, now: datetime = NOW) -> dict:
    """The figures the page shows, as the page computes them (from the stores, at `now`)."""
    with app.app_context():
        tallies = content_sources.content_tallies(now)
    versions = version_figures(tallies)
    overall = all_cards(tallies, versions)
    shown = figures_of_cards(overall)
    shown["withheld"] = overall.withheld
    shown["burden_count_withheld"] = overall.burden.count_withheld
    shown["time_to_action_count_withheld"] = overall.time_to_action.count_withheld
    return {
        "versions": {
            (f.module_id, f.module_version): (
                figures_of_cards(f.cards) if f.cards else None,
                figures_of_case(f.case) if f.case else None,
            )
            for f in versions
        },
        "overall": shown,
    }


@pytest.fixture
def editor_app(instance_path, database_url):
    """An app outside demo mode on each engine."""
    app = build(instance_path, database_url)
    yield app
    close_stores(app)


def test_figures_equal_a_per_row_reference_on_both_databases(editor_app):
    """Thousands of cards, feedback and attempts: every count, median, 90th percentile, reason,
    item statistic and suppression flag equals the per-row reference, in the same order."""
    rng = random.Random(20260215)
    cards = random_cards(rng)
    feedback = random_feedback(rng, cards)
    store_cards(editor_app, cards, feedback)
    attempts = store_attempts(editor_app, rng)
    expected = reference(cards, feedback, attempts)
    found = computed(editor_app)
    assert list(found["versions"]) == list(expected["versions"])
    for version, figures in expected["versions"].items():
        assert found["versions"][version] == figures, version
    assert found["overall"] == expected["overall"]
    # the data reaches what it is meant to test
    assert len(feedback) > 2000 and expected["overall"]["withheld"]
    assert any(
        row[3] and row[2] >= 5 for row in expected["versions"]["m-alpha", "1.0.0"][0]["reasons"]
    )
    assert expected["versions"]["m-delta", "1.0.0"][0] is None
    assert signed_in_client(editor_app).get("/dashboards/content.csv").status_code == 200


def seed_many_cards(app, cards: int, acted: int) -> None:
    """`cards` cards of two versions shown to 6 clinicians over the last 300 days; the first
    `acted` of them accepted or overridden a minute later."""
    rng = random.Random(cards)
    now = datetime.now(UTC).timestamp()
    shown = [
        Shown(
            str(uuid.UUID(int=rng.getrandbits(128))),
            ("m-alpha", f"1.{n % 2}.0"),
            f"c{n % 6}",
            now - rng.uniform(DAY, 300 * DAY),
        )
        for n in range(cards)
    ]
    feedback = [
        Feedback(
            uuid.uuid4().hex,
            card.card_uuid,
            rng.choice(["accepted", "overridden"]),
            ("r", None),
            None,
            card.shown_at + 60,
        )
        for card in shown[:acted]
    ]
    store_cards(app, shown, feedback)


def peak_bytes_of_content_csv(instance_path, cards: int, acted: int) -> int:
    """The most Python memory the CSV request held, with this many cards stored."""
    app = build(instance_path)
    try:
        seed_many_cards(app, cards, acted)
        client = signed_in_client(app)
        assert client.get("/dashboards/content.csv").status_code == 200  # warm: templates, labels
        tracemalloc.start()
        try:
            assert client.get("/dashboards/content.csv").status_code == 200
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        close_stores(app)


def test_memory_of_a_request_grows_with_neither_cards_shown_nor_feedback_beyond_a_float(tmp_path):
    """10,000 then 40,000 cards to the same 6 clinicians, 500 acted on: the request holds about
    as much. 40,000 acted on: a few dozen bytes more per card (its time to action, a float, and
    the sorted copy medians take). It held an object per card shown and per feedback: 4 times
    as much for 4 times the cards, and far more per card acted on."""
    small = peak_bytes_of_content_csv(tmp_path / "small", 10_000, 500)
    large = peak_bytes_of_content_csv(tmp_path / "large", 40_000, 500)
    acted = peak_bytes_of_content_csv(tmp_path / "acted", 40_000, 40_000)
    assert large < 1.5 * small, (small, large)
    assert (acted - large) / (40_000 - 500) < 200, (large, acted)
