"""A new module version mid-attempt: a page that says so and offers the new version, not a 404."""

from __future__ import annotations

import pytest

from tests.ui.helpers import get, launch, ledger_store, post, start_case
from tests.ui.test_scenario_player import HF, below, decide, start_scenario

UPDATED = 409
OLD, NEW = "1.2.0", "1.3.0"
KEPT = (
    f"This attempt began on version {OLD} of the module, which has since been updated to "
    f"version {NEW}, so it cannot go on or be shown here. Its record, and any credit it earned, "
    "is kept as it was."
)


@pytest.fixture
def library(ui_app):
    """The app's library (its modules can be replaced, as a content update would)."""
    return ui_app.extensions["ui"].library


def publish_new_version(library) -> None:
    """Load version NEW of the heart failure module in place of OLD."""
    assert library.modules[HF]["version"] == OLD
    library.modules[HF] = {**library.modules[HF], "version": NEW}


def attempt_of(url: str) -> str:
    """The attempt id in a scenario or case URL."""
    return url.split("/attempt/")[1].split("/")[0].split("?")[0]


def test_a_walk_begun_on_the_old_version_offers_to_restart_on_the_new_one(
    browser, auth_server, ui_app, library
):
    launch(browser, auth_server)
    url = start_scenario(browser)
    decide(browser, url, "a")
    store = ledger_store(ui_app)
    old_answers = store.answers(attempt_of(url))
    publish_new_version(library)

    for address in (url, below(url, "debrief")):
        page = get(browser, address, status=UPDATED)
        assert "This module was updated" in page and KEPT in page
        assert f"Start the scenario on version {NEW}" in page
    restarted = post(browser, f"/app/scenario/{HF}/start", page).headers["Location"]
    assert store.attempt(attempt_of(restarted)).activity_key == f"case:{HF}@{NEW}"
    assert "Simulated patient now" in get(browser, restarted)
    old = store.attempt(attempt_of(url))
    assert old.activity_key == f"case:{HF}@{OLD}" and old.completed_at is None
    assert store.answers(attempt_of(url)) == old_answers


def test_a_case_begun_on_the_old_version_says_the_module_was_updated(
    browser, auth_server, ui_app, library
):
    launch(browser, auth_server)
    first = start_case(browser, HF)
    question = get(browser, first)
    post(browser, first, question, option=library.modules[HF]["case"]["questions"][0]["answer"])
    publish_new_version(library)
    page = get(browser, first, status=UPDATED)
    assert "This module was updated" in page and KEPT in page
    assert f"begin on version {NEW}" in page
    assert len(ledger_store(ui_app).answers(attempt_of(first))) == 1


def test_another_modules_or_unknown_attempt_is_still_not_found(browser, auth_server):
    launch(browser, auth_server)
    url = start_scenario(browser)
    other = url.replace(f"/scenario/{HF}/", "/scenario/af-anticoagulation/")
    assert browser.get(other).status_code == 404
    unknown = url.replace(attempt_of(url), "00000000-0000-4000-8000-000000000000")
    assert browser.get(unknown).status_code == 404
