"""Several launches in one browser: every page stays bound to the launch it came from."""

from __future__ import annotations

import re
import sqlite3

from app.smart.sessions import COOKIE_NAME
from tests.smart.helpers import ISS, new_launch, query_of
from tests.ui.helpers import SEPSIS, get, launch, post, section

UNKNOWN = "This page belongs to a launch from your EHR that has ended or was not made"


def launch_patient(browser, server, patient: str) -> str:
    """Launch Bedside for another fixture patient in the same browser; return where it opens."""
    launch_id = new_launch(server, patient=patient, encounter=None)
    step = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    for _ in range(2):
        step = browser.get(step.headers["Location"])
    assert step.status_code == 302, step.get_data(as_text=True)
    return step.headers["Location"]


def test_a_second_launch_never_switches_the_first_tabs_patient(browser, auth_server):
    first_tab = launch(browser, auth_server).headers["Location"]
    assert "Harlow" in section(get(browser, first_tab), "patient-banner")
    second_tab = launch_patient(browser, auth_server, "hfref-adult")
    assert query_of(first_tab)["launch"] != query_of(second_tab)["launch"]
    assert "Harlow" not in section(get(browser, second_tab), "patient-banner")

    home = get(browser, first_tab)  # the first tab, reloaded after the second launch
    assert "Harlow" in section(home, "patient-banner")
    bound = f"launch={query_of(first_tab)['launch']}"
    case_intro = get(browser, f"/app/case/{SEPSIS}?{bound}")
    assert f'action="/app/case/{SEPSIS}/start?{bound}"' in case_intro
    started = post(browser, f"/app/case/{SEPSIS}/start?{bound}", case_intro)
    question_url = started.headers["Location"]
    assert query_of(question_url)["launch"] == query_of(first_tab)["launch"]
    question = get(browser, question_url)
    assert "Harlow" in section(question, "patient-banner")
    assert "3.1 mmol/L" in section(question, "patient-facts")  # her lactate, not the other's


def test_links_and_forms_of_a_page_name_its_launch(browser, auth_server):
    first_tab = launch(browser, auth_server).headers["Location"]
    launch_patient(browser, auth_server, "hfref-adult")
    bound = f"launch={query_of(first_tab)['launch']}"
    home = get(browser, first_tab)
    assert f'href="/app/transcript?{bound}"' in home
    assert f'action="/app/poc/new?{bound}"' in home


def test_the_home_question_form_asks_about_its_own_tabs_patient(browser, auth_server):
    first_tab = launch(browser, auth_server).headers["Location"]
    launch_patient(browser, auth_server, "hfref-adult")
    home = get(browser, first_tab)
    # a browser submits a GET form to the action's path with the form's fields as the query
    fields = dict(re.findall(r'<input type="hidden" name="(launch)" value="([^"]+)"', home))
    asked = get(browser, "/app/poc/new", query_string={**fields, "q": "fluids in septic shock?"})
    assert "Harlow" in section(asked, "patient-banner")


def test_an_unknown_or_foreign_launch_asks_for_a_relaunch_and_shows_no_patient(
    ui_app, browser, auth_server
):
    first_tab = launch(browser, auth_server).headers["Location"]
    page = get(browser, "/app/?launch=no-such-launch", status=401)
    assert UNKNOWN in page and "patient-banner" not in page and "Harlow" not in page
    other_browser = ui_app.test_client()
    launch(other_browser, auth_server)
    foreign = get(other_browser, first_tab, status=401)
    assert UNKNOWN in foreign and "Harlow" not in foreign


def test_an_ended_launch_asks_for_a_relaunch_and_the_other_tab_keeps_working(
    ui_app, browser, auth_server
):
    first_tab = launch(browser, auth_server).headers["Location"]
    second_tab = launch_patient(browser, auth_server, "hfref-adult")
    retire_client_of(ui_app, query_of(first_tab)["launch"])  # its next token refresh ends it
    ended = browser.get(first_tab)
    assert ended.status_code == 401 and "Please relaunch" in ended.get_data(as_text=True)
    assert not any(c.startswith(f"{COOKIE_NAME}=;") for c in ended.headers.getlist("Set-Cookie"))
    page = get(browser, second_tab)
    assert "patient-banner" in page and "Harlow" not in page


def retire_client_of(app, launch_id: str) -> None:
    """Make one launch's access token expired and its EHR registration unknown."""
    connection = sqlite3.connect(app.config["DATABASE"])
    with connection:
        connection.execute(
            "UPDATE smart_sessions SET access_expires_at = 0, client_id = 'retired' "
            "WHERE launch_id = ?",
            (launch_id,),
        )
    connection.close()
