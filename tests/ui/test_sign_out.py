"""Who is signed in, and a sign-out that ends the session on the server, on every learner page."""

from __future__ import annotations

import pytest

from app.smart.sessions import COOKIE_NAME
from tests.smart.helpers import query_of, read_form, sessions_rows
from tests.ui.helpers import SEPSIS, get, launch, start_case

SIGNED_IN = "Signed in as Chinwe Okafor"  # the demo EHR's Practitioner/dr-ed-okafor
SIGN_OUT_FORM = '<form method="post" action="/smart/logout" class="ui-account">'
PAGES = ("/app/", f"/app/case/{SEPSIS}", "/app/poc/new", "/app/next", "/app/profile")


@pytest.mark.parametrize("path", [*PAGES, "/app/transcript"])
def test_every_learner_page_names_the_clinician_and_offers_sign_out(browser, auth_server, path):
    bound = query_of(launch(browser, auth_server).headers["Location"])["launch"]
    page = get(browser, f"{path}?launch={bound}")
    account = page[page.index(SIGN_OUT_FORM) :]
    assert SIGNED_IN in account[: account.index("</form>")]


def test_a_question_page_offers_sign_out_too(browser, auth_server):
    launch(browser, auth_server)
    page = get(browser, start_case(browser))
    assert SIGN_OUT_FORM in page and SIGNED_IN in page


def test_signing_out_ends_every_launch_and_the_old_cookie_opens_nothing(
    ui_app, browser, auth_server
):
    first_tab = launch(browser, auth_server).headers["Location"]
    second_tab = launch(browser, auth_server).headers["Location"]
    cookie = browser.get_cookie(COOKIE_NAME).value
    page = get(browser, first_tab)
    response = browser.post("/smart/logout", data=read_form(page).fields)
    assert response.status_code == 302
    assert sessions_rows(ui_app) == []

    replayed = ui_app.test_client()  # someone who copied the cookie before the sign-out
    replayed.set_cookie(COOKIE_NAME, cookie)
    for tab in (first_tab, second_tab, "/app/"):
        page = get(replayed, tab, status=401)
        assert "Harlow" not in page and SIGN_OUT_FORM not in page
    assert get(browser, "/app/", status=401)


def test_no_sign_out_button_before_any_launch(browser):
    page = get(browser, "/app/", status=401)
    assert SIGN_OUT_FORM not in page
