"""Content analytics resting on fewer than 5 clinicians or learners are suppressed, however many
cards or attempts they make, on the page and in the CSV alike."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from app.dashboards import content_data as cd
from app.db import close_stores
from app.ledger.models import Answer
from app.stats import Rate
from cds_hooks.store import Exposure
from tests.dashboards.conftest import ISSUER
from tests.dashboards.test_content_data import action, attempt, card, card_tally, case_tally
from tests.dashboards.test_content_pages import (
    MODULE,
    act_on,
    build,
    csv_table,
    last_monday_noon,
    module_version,
    page,
    row,
    signed_in_client,
)

CARD_FIGURES = ("shown", "accepted", "overridden", "burden", "time-to-action")
CARD_ROWS = {
    "cards_shown",
    "accepted_share",
    "overridden_share",
    "override_reason",
    "cards_per_clinician_week_median",
    "cards_per_clinician_week_p90",
    "seconds_to_action_median",
    "seconds_to_action_p90",
}


def cards_of(clinicians: int, per_clinician: int = 4) -> tuple[list, list]:
    """Cards shown to `clinicians` clinicians, each overriding 3 and accepting 1 of theirs."""
    shown, actions = [], []
    for who in range(clinicians):
        for i in range(per_clinician):
            number = who * per_clinician + i
            shown.append(card(number, f"c{who}"))
            outcome = "accepted" if i == 0 else "overridden"
            actions.append(action(number, outcome, None if i == 0 else "r1", seconds=40 + i))
    return shown, actions


def figures(shown, actions) -> cd.CardFigures:
    """The card figures of these cards and actions."""
    return cd.card_figures(card_tally(shown, actions))


def test_card_figures_of_4_clinicians_are_all_suppressed():
    """16 cards, 12 overrides, 16 actions, but 4 clinicians: nothing they did is shown."""
    cards = figures(*cards_of(4))
    assert cards.overridden == Rate(12, 16) and cards.time_to_action.count == 16
    assert cards.small_cell
    assert cards.share_suppressed(cards.accepted) and cards.share_suppressed(cards.overridden)
    assert all(reason.suppressed for reason in cards.reasons)
    assert cards.burden.suppressed and cards.time_to_action.suppressed


def test_card_figures_of_5_clinicians_are_shown():
    """The same cards from 5 clinicians are shown."""
    cards = figures(*cards_of(5))
    assert not cards.small_cell
    assert not cards.share_suppressed(cards.accepted)
    assert not cards.share_suppressed(cards.overridden)
    assert [reason.suppressed for reason in cards.reasons] == [False]
    assert not cards.burden.suppressed and not cards.time_to_action.suppressed


def test_pass_rate_of_4_learners_is_suppressed_and_of_5_shown():
    """8 completed attempts by 4 learners: suppressed; one more learner: shown."""
    attempts = [attempt(f"l{n % 4}", {"q1": n % 2 == 0}, day=n) for n in range(8)]
    assert cd.case_figures(case_tally(attempts)).attempts == Rate(4, 8)
    assert cd.case_figures(case_tally(attempts)).pass_rate_suppressed
    more = case_tally([*attempts, attempt("l4", {"q1": True})])
    assert not cd.case_figures(more).pass_rate_suppressed


def seed_one_clinician_and_one_learner(app, version: str) -> None:
    """10 cards to one clinician (8 overridden after 90 s) and 5 attempts by one learner."""
    store = app.extensions["cds"].engine.store
    shown_at = last_monday_noon()
    cards = [
        Exposure(
            str(uuid.uuid4()), MODULE, version, "svc", "user-key-1", "p", shown_at.timestamp(), ""
        )
        for _ in range(10)
    ]
    store.record_call(cards)
    for exposure in cards[:8]:
        act_on(store, exposure, "overridden", "low-stroke-risk", shown_at + timedelta(seconds=90))
    ledger = app.extensions["ledger"].store
    learner = ledger.ensure_learner(ISSUER, "Practitioner/L01")
    for day in range(5):
        attempt_id = str(uuid.uuid4())
        started = shown_at + timedelta(days=day)
        ledger.record_attempt(learner, ("case", MODULE, version), attempt_id, started)
        ledger.record_answer(Answer(attempt_id, "q1", {"option": "a"}, started, day > 0))
        ledger.complete_attempt(attempt_id, int(day > 0), 1, 75)


@pytest.fixture
def lone_app(instance_path):
    """An app whose AF cards all went to one clinician and whose AF case one learner took."""
    app = build(instance_path)
    seed_one_clinician_and_one_learner(app, module_version(app))
    yield app
    close_stores(app)


def test_page_and_csv_suppress_what_one_clinician_and_one_learner_did(lone_app):
    """No share, reason, spread or pass rate of the lone clinician or learner, in either view."""
    version = module_version(lone_app)
    client = signed_in_client(lone_app)
    html = page(client)
    section = html.split(f'id="version-{MODULE}-{version}"')[1].split("</section>")[0]
    for figure in CARD_FIGURES:
        assert "fewer than 5 (suppressed)" in row(section, f'data-figure="{figure}"'), figure
    assert "suppressed" in row(section, 'data-reason="low-stroke-risk"')
    assert not re.search(r">\s*8\s*<|1 min 30 s|80 %", section)
    assert 'Completed attempts passed: <span class="dash-suppressed">' in section
    assert "4 of 5" not in section
    rows = [r for r in csv_table(client) if r["module_id"] == MODULE]
    by_figure = {r["figure"]: r for r in rows}
    assert CARD_ROWS | {"case_pass_rate"} <= set(by_figure)
    for figure in CARD_ROWS | {"case_pass_rate"}:
        found = by_figure[figure]
        assert (found["value"], found["numerator"], found["denominator"]) == (
            "suppressed",
            "",
            "",
        ), figure
    overall = [r for r in csv_table(client) if r["module_id"] == ""]
    assert overall and all(r["value"] == "suppressed" for r in overall)
