"""In real Chromium, the moments a clinician must trust (issue #17 items 1, 2, 6 and 7).

A first credit is announced as new, a second launch in another tab never changes the patient of
the first tab's case, every app page says who is signed in and offers sign-out, and this patient's
values read as a chart prints them, at desktop and phone size.
"""

from __future__ import annotations

import pytest

from tests.browser.test_demo_ehr_browser import draft_ceftriaxone, open_case_from_card
from tests.browser.test_learning_loop import answer_every_question

REPLAYED = "This credit was already recorded; it is counted once."
SEPSIS_PATIENT = "Maeve Josephine Harlow"


def launch_another_patient(context, base_url: str, patient: str) -> object:
    """Open a second tab in the same browser and launch the demo app for another patient."""
    tab = context.new_page()
    tab.goto(f"{base_url}/smart/standalone")
    tab.check(f"input[name='patient'][value='{patient}']")
    tab.click("button[value='approve']")
    tab.wait_for_url("**/app/?launch=*")
    return tab


def test_a_first_credit_is_announced_as_recorded_not_as_a_repeat(page, demo_server):
    open_case_from_card(page, demo_server.url)
    page.click("button.primary")  # start
    answer_every_question(page, correctly=True)
    page.wait_for_url("**/result?launch=*")
    credit = page.inner_text("main")
    assert "Recorded in your transcript." in credit and REPLAYED not in credit


def test_a_second_launch_in_another_tab_leaves_the_first_tabs_patient_alone(page, demo_server):
    open_case_from_card(page, demo_server.url)
    assert SEPSIS_PATIENT in page.inner_text(".patient-banner")
    other = launch_another_patient(page.context, demo_server.url, "hfref-adult")
    assert SEPSIS_PATIENT not in other.inner_text(".patient-banner")
    page.reload()  # the first tab, after the second launch
    assert SEPSIS_PATIENT in page.inner_text(".patient-banner")
    page.click("button.primary")  # start: the case still runs for the first patient
    assert "3.1 mmol/L" in page.inner_text(".patient-facts")


@pytest.mark.parametrize("size", ["page", "phone"])
def test_every_app_page_says_who_is_signed_in_and_offers_sign_out(request, demo_server, size):
    tab = request.getfixturevalue(size)
    open_case_from_card(tab, demo_server.url)
    for path in ("/app/", "/app/next", "/app/profile", "/app/transcript", "/app/poc/new"):
        tab.goto(demo_server.url + path)
        account = tab.locator("form.ui-account")
        assert "Signed in" in account.inner_text(), path
        assert account.locator("button", has_text="Sign out").is_visible(), path
    with tab.expect_navigation():  # sign-out first clears what this browser kept offline
        tab.click("form.ui-account button")
    tab.goto(f"{demo_server.url}/app/transcript")
    assert tab.locator("form.ui-account").count() == 0  # signed out: no one's transcript shown


@pytest.mark.parametrize("size", ["page", "phone"])
def test_this_patients_values_read_as_a_chart_prints_them(request, demo_server, size):
    tab = request.getfixturevalue(size)
    draft_ceftriaxone(tab, demo_server.url)
    chart = tab.inner_text("main")
    assert "38.9 °C" in chart and "92/58 mmHg" in chart
    assert "17.4 \N{MULTIPLICATION SIGN}10³/µL" in chart
    assert "Cel" not in chart and "10*3" not in chart and "{1.73_m2}" not in chart
