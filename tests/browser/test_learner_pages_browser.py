"""In real Chromium: answer with a stated confidence, see mastery on the profile, then what next."""

from __future__ import annotations

import yaml

from app.settings import REPO_ROOT

SEPSIS = yaml.safe_load((REPO_ROOT / "content/modules/sepsis-hour-1-bundle.yaml").read_text())


def sign_in(page, base_url: str) -> None:
    """A standalone launch for the sepsis patient (the demo EHR's patient picker)."""
    page.goto(f"{base_url}/smart/standalone")
    page.check("input[name='patient'][value='sepsis-adult']")
    page.click("button[value='approve']")
    page.wait_for_url("**/app/?launch=*")


def test_confident_wrong_answer_then_profile_mastery_then_what_next(page, demo_server):
    sign_in(page, demo_server.url)
    page.goto(f"{demo_server.url}/app/case/sepsis-hour-1-bundle")
    page.click("button.primary")  # Start
    question = SEPSIS["case"]["questions"][0]
    wrong = next(o["id"] for o in question["options"] if o["id"] != question["answer"])
    assert "How confident are you?" in page.inner_text("main form")
    page.check(f"input[name='option'][value='{wrong}']")
    page.check("input[name='confidence'][value='high']")
    page.click("button.primary")
    page.wait_for_selector(".feedback.incorrect")
    assert "Certain" in page.inner_text(".feedback")

    page.click("nav.ui-nav >> text=My profile")
    page.wait_for_url("**/app/profile?launch=*")
    mastery = page.inner_text("table.mastery-table")
    assert SEPSIS["title"]["en"] in mastery and "20%" in mastery
    assert "1 question is on your review schedule" in page.inner_text("section.reviews")

    page.click("nav.ui-nav >> text=What next")
    page.wait_for_url("**/app/next?launch=*")
    main = page.inner_text("main")
    assert "Demo: practice data is synthetic clinician C03" in main
    first = page.locator("li.recommendation").first
    assert "had an antibiotic ordered; peer median" in first.inner_text()
    first.locator("details.basis summary").click()
    assert "peer median rate" in first.locator("details.basis").inner_text()
    first.locator("a.button.primary").click()
    page.wait_for_url("**/app/case/uri-antibiotics-adults?launch=*")
