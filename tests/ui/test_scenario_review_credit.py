"""In production a walk through a scenario no clinician reviewed earns nothing, and says why.

The module version itself is approved, so its case earns credit; only the scenario (drafted by
software, `review: {status: draft}`) waits for review. Reviewing it makes the same walk earn.
"""

from __future__ import annotations

import pytest

from tests.ui.helpers import get, launch, learner, ledger_store, section
from tests.ui.test_scenario_player import HF, finish, play, start_scenario
from tests.ui.test_unapproved_credit import approve, production_credit  # noqa: F401

NOT_REVIEWED = "No clinician reviewer has reviewed this scenario yet, so it earns no credit here"


@pytest.fixture
def hfref(ui_app) -> dict:
    """The heart failure module, approved as its YAML would say; its scenario is still draft."""
    module = ui_app.extensions["ui"].library.modules[HF]
    approve(module)
    assert module["scenario"]["review"]["status"] == "draft"
    return module


def walk_the_guideline_path(browser, module: dict) -> str:
    """Walk the scenario along the guideline's choices (a pass); return the debrief's HTML."""
    url = start_scenario(browser)
    return get(browser, finish(browser, url, play(browser, url, module, {})))


def test_an_unreviewed_scenario_earns_nothing_in_production_and_says_why(
    ui_app,
    browser,
    auth_server,
    hfref,
    production_credit,  # noqa: F811
):
    launch(browser, auth_server)
    offer = section(get(browser, f"/app/case/{HF}"), "scenario-offer")
    assert NOT_REVIEWED in offer and "It counts toward this module" not in offer  # said before
    debrief = walk_the_guideline_path(browser, hfref)
    assert "Passed." in debrief
    assert NOT_REVIEWED in section(debrief, "credit")
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []

    hfref["scenario"]["review"] = {"status": "reviewed", "reviewer": "B. Reviewer"}
    assert "It counts toward this module" in get(browser, f"/app/case/{HF}")
    debrief = walk_the_guideline_path(browser, hfref)
    assert "0.25 AMA PRA Category 1 Credit™" in section(debrief, "credit")
    records = ledger_store(ui_app).credits_for(learner(ui_app))
    assert {r.activity_key for r in records} == {f"case:{HF}@{hfref['version']}"}


def test_the_demo_still_credits_a_draft_scenario_it_labels_as_draft(
    ui_app, browser, auth_server, hfref
):
    launch(browser, auth_server)
    debrief = walk_the_guideline_path(browser, hfref)
    assert "Draft: not yet reviewed by a clinician" in debrief
    assert "0.25 AMA PRA Category 1 Credit™" in section(debrief, "credit")
    assert len(ledger_store(ui_app).credits_for(learner(ui_app))) == 2
