"""The month/day of birth PARS needs: entered in the profile's consented form, checked, reported."""

from __future__ import annotations

import pytest

from app.ledger.outputs.pars import pars_batch
from tests.ui.helpers import get, launch, learner, ledger_store, post
from tests.ui.test_certificates import NAME, save_name
from tests.ui.test_transcript import pass_the_sepsis_case

REFUSED = {
    "en": "Enter your month and day of birth as MM/DD, for example 07/22, without the year",
    "es": "Escriba su mes y día de nacimiento en formato MM/DD (mes/día)",
    "fr": "Saisissez votre mois et votre jour de naissance au format MM/DD (mois/jour)",
}


def stored_month_day(app) -> str | None:
    """The month/day of birth the ledger keeps for the demo clinician."""
    return ledger_store(app).reporting_identity(learner(app)).birth_month_day


@pytest.mark.parametrize("typed", ["07/22", "7/22", " 07/22 "])
def test_the_profile_form_keeps_the_month_day_of_birth_as_mm_dd(
    ui_app, browser, auth_server, typed
):
    launch(browser, auth_server)
    save_name(browser, **NAME, birth_month_day=typed, consent="yes")
    assert stored_month_day(ui_app) == "07/22"
    profile = get(browser, "/app/profile")
    assert 'id="birth_month_day" name="birth_month_day" value="07/22"' in profile


def test_the_field_has_a_bound_label_and_a_described_hint(browser, auth_server):
    launch(browser, auth_server)
    profile = get(browser, "/app/profile")
    assert '<label for="birth_month_day">Month and day of birth (optional)</label>' in profile
    assert '<p class="hint muted" id="birth-month-day-hint">MM/DD, for example 07/22' in profile
    assert 'aria-describedby="birth-month-day-hint"' in profile


def test_february_29_is_a_birthday(ui_app, browser, auth_server):
    launch(browser, auth_server)
    save_name(browser, **NAME, birth_month_day="2/29", consent="yes")
    assert stored_month_day(ui_app) == "02/29"


def test_saving_without_a_month_day_of_birth_clears_it(ui_app, browser, auth_server):
    launch(browser, auth_server)
    save_name(browser, **NAME, birth_month_day="07/22", consent="yes")
    assert stored_month_day(ui_app) == "07/22"
    save_name(browser, **NAME, birth_month_day="", consent="yes")
    assert stored_month_day(ui_app) is None


@pytest.mark.parametrize("typed", ["13/01", "02/30", "04/31", "00/10", "1958-07-22", "07/22/58"])
def test_a_month_day_that_is_not_a_date_is_refused_and_nothing_changes(
    ui_app, browser, auth_server, typed
):
    launch(browser, auth_server)
    save_name(browser, **NAME, birth_month_day="07/22", consent="yes")
    kept = ledger_store(ui_app).reporting_identity(learner(ui_app))
    changed = {**NAME, "first_name": "Ada", "birth_month_day": typed}
    refused = save_name(browser, status=400, **changed, consent="yes").get_data(as_text=True)
    assert REFUSED["en"] in refused and 'class="field-error" role="alert"' in refused
    assert f'value="{typed}"' in refused  # what was typed is kept to correct
    assert ledger_store(ui_app).reporting_identity(learner(ui_app)) == kept


@pytest.mark.parametrize("language", ["es", "fr"])
def test_the_refusal_is_in_the_learner_s_language(ui_app, browser, auth_server, language):
    launch(browser, auth_server)
    get(browser, "/app/", query_string={"lang": language})  # the choice is kept in a cookie
    refused = save_name(browser, status=400, **NAME, birth_month_day="13/01", consent="yes")
    assert REFUSED[language] in refused.get_data(as_text=True)
    assert ledger_store(ui_app).reporting_identity(learner(ui_app)) is None


def test_withdrawing_consent_erases_the_month_day_of_birth(ui_app, browser, auth_server):
    launch(browser, auth_server)
    save_name(browser, **NAME, birth_month_day="07/22", consent="yes")
    assert stored_month_day(ui_app) == "07/22"
    post(browser, "/app/profile/certificate-name/remove", get(browser, "/app/profile"))
    assert ledger_store(ui_app).reporting_identity(learner(ui_app)) is None
    assert 'name="birth_month_day" value=""' in get(browser, "/app/profile")
    save_name(browser, **NAME, consent="yes")  # consenting again does not bring it back
    assert stored_month_day(ui_app) is None


def test_a_learner_who_entered_it_in_the_profile_is_in_the_pars_batch(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server)
    pass_the_sepsis_case(browser, sepsis)
    save_name(browser, **NAME, birth_month_day="7/22", consent="yes")
    store = ledger_store(ui_app)
    batch = pars_batch(store, store.iter_chain())
    assert (batch.learners, batch.skipped_no_birth_day) == (1, 0)
    [row] = batch.text.rstrip("\n").split("\n")[1:]
    assert row.startswith("\tA123456\tCA\tChinwe\tOkafor\t07/22\tcase:sepsis-hour-1-bundle@")
    assert row.endswith("\tAMA PRA Category 1 Credit\t0.25\tY")
