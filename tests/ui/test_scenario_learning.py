"""Scenario decisions move mastery and spaced reviews as case answers do, each decision once."""

from __future__ import annotations

from app.learning.reviews import ReviewKey
from tests.ui.helpers import get, launch, learner, post
from tests.ui.test_scenario_player import HF, below, decide, finish, play, start_scenario


def learning(ui_app):
    """The app's learning store."""
    return ui_app.extensions["learning"]


def test_each_decision_moves_mastery_once_and_a_deviation_is_scheduled_for_review(
    browser, auth_server, ui_app
):
    launch(browser, auth_server)
    url = start_scenario(browser)
    page = get(browser, url)
    post(browser, below(url, "step/beta-blocker"), page, choice="a")  # the guideline's
    post(browser, below(url, "step/beta-blocker"), page, choice="a")  # pressed twice
    get(browser, url)  # a refresh
    mastery = learning(ui_app).mastery(learner(ui_app))
    assert mastery[HF].answers == 1 and mastery[HF].score > 0.5
    assert learning(ui_app).cards(learner(ui_app)) == {}

    decide(browser, url, "a")  # ARNI after the washout
    decide(browser, url, "b")  # spironolactone with a potassium supplement: off the guideline
    mastery = learning(ui_app).mastery(learner(ui_app))
    assert mastery[HF].answers == 3
    cards = learning(ui_app).cards(learner(ui_app))
    assert list(cards) == [ReviewKey(HF, "scenario:mra")]


def test_a_passed_scenario_counts_in_mastery_like_a_passed_case(browser, auth_server, ui_app):
    launch(browser, auth_server)
    module = ui_app.extensions["ui"].library.modules[HF]
    url = start_scenario(browser)
    page = play(browser, url, module, {})
    finish(browser, url, page)
    finish(browser, url, page)  # the debrief pressed twice adds nothing
    mastery = learning(ui_app).mastery(learner(ui_app))
    assert mastery[HF].answers == 4 and mastery[HF].mastered
