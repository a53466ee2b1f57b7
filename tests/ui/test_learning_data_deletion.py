"""Delete my learning data: the reporting identity goes, and the page says what stays and why."""

from __future__ import annotations

import json

from tests.ui.helpers import count_rows, get, launch, learner, ledger_store, post
from tests.ui.test_poc_cycle import APPLICATION, QUESTION, ask, read_and_record

IDENTITY = {
    "first_name": "Chinwe",
    "last_name": "Okafor",
    "credentials": "MD",
    "npi": "",
    "licence_state": "OR",
    "licence_id": "LIC777",
    "board_id": "ABIM-12345",
    "birth_month_day": "07/22",
    "consent": "yes",
}


def finish_a_poc_cycle(browser) -> None:
    """Ask, read, record and apply: a point-of-care cycle with credit."""
    apply_url = read_and_record(browser, ask(browser), "now")
    post(browser, apply_url, get(browser, apply_url), **APPLICATION)


def test_deleting_learning_data_withdraws_the_reporting_identity_and_keeps_the_credits(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    finish_a_poc_cycle(browser)
    post(browser, "/app/profile/certificate-name", get(browser, "/app/profile"), **IDENTITY)
    credits_before = count_rows(ui_app, "ledger_credits")

    post(browser, "/app/profile/delete", get(browser, "/app/profile/delete"))

    assert ledger_store(ui_app).reporting_identity(learner(ui_app)) is None
    exported = json.loads(browser.get("/app/profile/export").get_data(as_text=True))
    assert exported["ledger"]["reporting_identity"] is None
    body = json.dumps(exported)
    assert not [value for value in ("ABIM-12345", "LIC777", "07/22", "Chinwe") if value in body]
    assert count_rows(ui_app, "ledger_credits") == credits_before


def test_the_delete_page_says_board_reporting_stops_and_what_stays_in_the_ledger(
    browser, auth_server
):
    launch(browser, auth_server)
    finish_a_poc_cycle(browser)
    confirm = get(browser, "/app/profile/delete")

    assert "board ID, month and day of birth" in confirm
    assert "Bedside stops reporting your credit to your board" in confirm
    assert "your e-mail address for reminders" in confirm
    stays = "your questions, the sources you read and your notes on applying them"
    assert stays in confirm
    post(browser, "/app/profile/delete", confirm)
    after = browser.get("/app/profile/export").get_data(as_text=True)
    assert QUESTION in after and APPLICATION["notes"] in after  # what the page says stays
