"""In a real browser: the SMART app opened from a card runs under the strict CSP on a phone."""

from __future__ import annotations

from tests.browser.test_demo_ehr_browser import open_case_from_card
from tests.browser.test_learning_loop import SEPSIS


def test_the_case_from_a_card_runs_under_the_csp_on_a_phone(phone, demo_server):
    console: list[str] = []
    phone.on("console", lambda message: console.append(message.text))
    open_case_from_card(phone, demo_server.url)
    assert "Disclosures" in phone.inner_text("main")
    phone.click("button.primary")
    phone.wait_for_selector(".patient-facts")
    assert "3.1 mmol/L" in phone.inner_text(".patient-facts")
    first_answer = SEPSIS["case"]["questions"][0]["answer"]
    phone.check(f"input[name='option'][value='{first_answer}']")
    phone.click("button.primary")
    phone.wait_for_selector(".feedback.correct")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    assert not [text for text in console if "Content Security Policy" in text]
