"""The whole loop in real Chromium: card → EHR launch (PKCE) → case → credit in the transcript;
a standalone launch; a point-of-care cycle finished later; the Spanish UI."""

from __future__ import annotations

import yaml

from app.settings import REPO_ROOT
from tests.browser.test_demo_ehr_browser import open_case_from_card

SEPSIS = yaml.safe_load((REPO_ROOT / "content/modules/sepsis-hour-1-bundle.yaml").read_text())


def answer_every_question(page, *, correctly: bool) -> None:
    """Answer the case's questions through the UI, then open the result."""
    for number, question in enumerate(SEPSIS["case"]["questions"], 1):
        options = [option["id"] for option in question["options"]]
        choice = (
            question["answer"] if correctly else next(o for o in options if o != question["answer"])
        )
        page.check(f"input[name='option'][value='{choice}']")
        page.click("button.primary")
        page.wait_for_selector(".feedback")
        if number < len(SEPSIS["case"]["questions"]):
            page.click("a.button.primary")
    page.click("button.primary")  # See your result


def test_card_to_case_to_credit_in_the_transcript(page, demo_server):
    open_case_from_card(page, demo_server.url, landing="**/app/case/sepsis-hour-1-bundle?launch=*")
    intro = page.inner_text("main")
    assert "Disclosures" in intro and "Draft" in intro
    assert "75" in intro  # the pass mark is stated before the case starts
    page.click("button.primary")  # Start
    assert "3.1 mmol/L" in page.inner_text(".patient-facts")
    answer_every_question(page, correctly=True)
    page.wait_for_url("**/result?launch=*")
    assert "0.25" in page.inner_text("main")
    page.click("text=My credits and certificates")
    transcript = page.inner_text("table.transcript")
    assert "Sepsis" in transcript and "0.25" in transcript


def test_standalone_launch_with_the_demo_patient_picker(page, demo_server):
    page.goto(f"{demo_server.url}/smart/standalone")
    assert "simulator" in page.inner_text("body").lower()
    page.check("input[name='patient'][value='hfref-adult']")
    page.click("button[value='approve']")
    page.wait_for_url("**/app/?launch=*")
    assert "Heart failure" in page.inner_text("main") or "HFrEF" in page.inner_text("main")


def test_point_of_care_cycle_finished_later(page, demo_server):
    page.goto(f"{demo_server.url}/smart/standalone")
    page.check("input[name='patient'][value='sepsis-adult']")
    page.click("button[value='approve']")
    page.wait_for_url("**/app/?launch=*")
    page.fill("#home-question", "Blood cultures before antibiotics in sepsis?")
    page.click("form[role='search'] button")
    page.fill("#question", "Should I draw blood cultures before the first antibiotic dose?")
    page.check("input[name='reason'][value='new-information']")
    page.click("button.primary")
    page.fill("#search-q", "sepss blood cultures")  # a typo the search forgives
    page.click("form[role='search'] button")
    page.click("a[href*='/read/sepsis-hour-1-bundle']")
    page.click("button[value='later']")
    page.goto(f"{demo_server.url}/app/")  # later the same day
    page.click("text=Record how it applied")
    page.check("input[name='answered'][value='yes']")
    page.check("input[name='impact'] >> nth=0")
    page.check("input[name='rating'][value='5']")
    page.check("input[name='commercial_bias'][value='no']")
    page.click("button.primary")
    assert "0.50" in page.inner_text("main")


def test_the_app_in_spanish(page, demo_server):
    open_case_from_card(page, demo_server.url)
    page.goto(page.url + ("&" if "?" in page.url else "?") + "lang=es")
    intro = page.inner_text("main")
    assert "Declaración de conflictos de interés" in intro  # the UI's own strings
    assert "Nota de aprobado" in intro and "respuestas correctas" in intro
    assert "primera hora" in intro  # the module's own Spanish title
    assert page.get_attribute("html", "lang") == "es"
