"""A scenario attempt stays a scenario: the case player neither shows nor scores nor credits it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from app.ledger.models import Answer
from app.library.scenarios import guideline_choice, steps_by_id
from app.ui.case_flow import Progress
from tests.ui.helpers import count_rows, get, launch, learner, ledger_store, token
from tests.ui.test_scenario_player import HF, below, decide, finish, play, start_scenario

FIRST_DECISIONS = ("beta-blocker", "arni-switch", "mra")


def case_url(step_url: str, tail: str) -> str:
    """The case player's URL for the same attempt as a scenario step URL."""
    return below(step_url.replace("/app/scenario/", "/app/case/", 1), tail)


def test_the_case_player_refuses_an_attempt_holding_scenario_decisions(
    browser, auth_server, ui_app
):
    module = ui_app.extensions["ui"].library.modules[HF]
    steps = steps_by_id(module["scenario"])
    launch(browser, auth_server)
    url = start_scenario(browser)
    for step_id in FIRST_DECISIONS:
        decide(browser, url, guideline_choice(steps[step_id])["id"])
    csrf = {"csrf_token": token(get(browser, url))}
    for number, question in enumerate(module["case"]["questions"], start=1):
        question_url = case_url(url, f"q/{number}")
        assert browser.get(question_url).status_code == 404
        wrong = next(o["id"] for o in question["options"] if o["id"] != question["answer"])
        answer = {**csrf, "option": wrong, "confidence": "low"}
        assert browser.post(question_url, data=answer).status_code == 404
    assert browser.post(case_url(url, "result"), data=csrf).status_code == 404
    assert browser.get(case_url(url, "result")).status_code == 404
    assert count_rows(ui_app, "ledger_answers") == len(FIRST_DECISIONS)
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []

    debrief = get(browser, finish(browser, url, play(browser, url, module, {})))
    assert "4 of 4 decisions followed the guideline" in debrief
    credits = ledger_store(ui_app).credits_for(learner(ui_app))
    assert credits and all(
        json.loads(credit.evidence) == {"correct": 4, "total": 4, "pass_mark_percent": 75}
        for credit in credits
    )


def test_a_case_score_counts_only_the_case_questions(ui_app):
    questions = tuple(ui_app.extensions["ui"].library.modules[HF]["case"]["questions"])
    now = datetime.now(UTC)
    answers = {
        item: Answer("attempt", item, {}, now, correct=item.startswith("scenario:"))
        for item in ["scenario:beta-blocker", "scenario:mra", questions[0]["id"]]
    }
    done = Progress(questions, answers)
    assert done.correct == 0
    assert done.correct <= done.total
