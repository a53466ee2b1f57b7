"""Under a production credit policy a draft module teaches but earns nothing, and says why.

The demo app (which has the SMART server the pages need) is given the policy a production
deployment installs; approving the module in the library then makes the same steps earn credit.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from tests.ui.helpers import (
    SEPSIS,
    answer_all,
    get,
    launch,
    learner,
    ledger_store,
    post,
    result_url,
    section,
    start_case,
)
from tests.ui.test_poc_cycle import APPLICATION, ask, read_and_record

NOT_APPROVED = "No clinician reviewer has approved this module yet, so it earns no credit here."


@pytest.fixture
def production_credit(ui_app):
    """The ledger's policy as in production: approved modules only."""
    ledger = ui_app.extensions["ledger"]
    policy = replace(ledger.policy, approved_modules_only=True)
    ui_app.extensions["ledger"] = replace(ledger, policy=policy)


def approve(module: dict) -> None:
    """Mark the loaded module approved by an independent reviewer (as its YAML would say)."""
    module["editorial"]["status"] = "approved"


def test_a_passed_draft_case_earns_nothing_and_says_why(
    ui_app, browser, auth_server, sepsis, production_credit
):
    launch(browser, auth_server, SEPSIS)
    intro = get(browser, f"/app/case/{SEPSIS}")
    assert NOT_APPROVED in intro and "To earn credit you need" not in intro  # said before
    first = start_case(browser)
    last = answer_all(browser, first, sepsis, correctly=True)
    location = post(browser, result_url(first), last).headers["Location"]
    result = get(browser, location)
    assert NOT_APPROVED in section(result, "credit")
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []

    approve(sepsis)
    second = start_case(browser)
    last = answer_all(browser, second, sepsis, correctly=True)
    post(browser, result_url(second), last)
    assert [r.module_id for r in ledger_store(ui_app).credits_for(learner(ui_app))] == [SEPSIS]


def test_a_cycle_that_consulted_a_draft_earns_nothing_and_says_why(
    ui_app, browser, auth_server, sepsis, production_credit
):
    launch(browser, auth_server)
    apply_url = read_and_record(browser, ask(browser), "now")
    form = get(browser, apply_url)
    assert "This cycle will not earn credit." in form and NOT_APPROVED in form  # said before
    done = post(browser, apply_url, form, **APPLICATION).headers["Location"]
    assert NOT_APPROVED in section(get(browser, done), "credit")
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []

    approve(sepsis)
    apply_url = read_and_record(browser, ask(browser), "now")
    post(browser, apply_url, get(browser, apply_url), **APPLICATION)
    records = ledger_store(ui_app).credits_for(learner(ui_app))
    assert [(r.activity_type, r.amount) for r in records] == [("poc", Decimal("0.50"))]
