"""The board ID PARS reports MOC credit by: entered with consent in the profile, checked, used."""

from __future__ import annotations

import pytest

from app.ledger.outputs.pars import pars_batch
from tests.ui.helpers import get, launch, learner, ledger_store
from tests.ui.test_certificates import NAME, save_name
from tests.ui.test_transcript import pass_the_sepsis_case


def stored_board_id(app) -> str | None:
    """The board ID the ledger keeps for the demo clinician."""
    return ledger_store(app).reporting_identity(learner(app)).board_id


def test_the_profile_form_saves_the_board_id_with_the_name_and_shows_it(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    save_name(browser, **NAME, board_id=" 123456 ", consent="yes")
    assert stored_board_id(ui_app) == "123456"
    profile = get(browser, "/app/profile")
    assert 'id="board_id" name="board_id" value="123456"' in profile
    save_name(browser, **NAME, board_id="", consent="yes")
    assert stored_board_id(ui_app) is None


def test_the_field_has_a_bound_label_and_a_described_hint(browser, auth_server):
    launch(browser, auth_server)
    profile = get(browser, "/app/profile")
    assert '<label for="board_id">Board ID (optional)</label>' in profile
    assert '<p class="hint muted" id="board-id-hint">' in profile
    assert 'aria-describedby="board-id-hint"' in profile


@pytest.mark.parametrize("typed", ["123 456", "ABIM#123456", "1" * 21, "<b>1</b>"])
def test_a_board_id_that_is_not_one_short_word_is_refused_and_nothing_changes(
    ui_app, browser, auth_server, typed
):
    launch(browser, auth_server)
    save_name(browser, **NAME, board_id="123456", consent="yes")
    kept = ledger_store(ui_app).reporting_identity(learner(ui_app))
    refused = save_name(browser, status=400, **NAME, board_id=typed, consent="yes")
    page = refused.get_data(as_text=True)
    assert 'class="field-error" role="alert"' in page
    assert "A board ID is letters, digits and hyphens, up to 20 characters" in page
    assert ledger_store(ui_app).reporting_identity(learner(ui_app)) == kept


def test_the_board_id_entered_in_the_profile_leads_the_pars_line(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server)
    pass_the_sepsis_case(browser, sepsis)
    save_name(browser, **NAME, board_id="123456", birth_month_day="7/22", consent="yes")
    store = ledger_store(ui_app)
    [row] = pars_batch(store, store.iter_chain()).text.rstrip("\n").split("\n")[1:]
    assert row.startswith("123456\tA123456\tCA\tChinwe\tOkafor\t07/22\t")
