"""In real Chromium at phone size, by keyboard only: a branching scenario from start to debrief."""

from __future__ import annotations

import yaml

from app.library.scenarios import guideline_walk
from app.settings import REPO_ROOT
from tests.browser.test_learner_pages_browser import sign_in

HF = "hfref-gdmt"
SCENARIO = yaml.safe_load((REPO_ROOT / f"content/modules/{HF}.yaml").read_text())["scenario"]
MAX_TABS = 80


def tab_to(page, selector: str) -> None:
    """Press Tab until the focused element matches selector (fail after MAX_TABS presses)."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def shown_choices(page) -> list[str]:
    """The choice ids the step page offers, in the order it shows them (shuffled per attempt)."""
    return page.eval_on_selector_all("input[name='choice']", "inputs => inputs.map(i => i.value)")


def choose_by_keyboard(page, choice_index: int) -> None:
    """Tab into the choices, pick the one at choice_index with the arrow keys, press Decide."""
    tab_to(page, "input[name='choice']")
    page.keyboard.press("Space")
    for _ in range(choice_index):
        page.keyboard.press("ArrowDown")
    tab_to(page, "form button[type='submit']")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_scenario_on_a_phone_by_keyboard_only(phone, demo_server):
    sign_in(phone, demo_server.url)
    phone.goto(f"{demo_server.url}/app/case/{HF}")
    tab_to(phone, ".scenario-offer button")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert "84 /min" in phone.inner_text(".scenario-state")
    path = guideline_walk(SCENARIO)
    for decision in path.decisions:
        choose_by_keyboard(phone, shown_choices(phone).index(decision.choice["id"]))
        state = phone.inner_text(".scenario-state")
        for name, value in decision.choice.get("changes", {}).items():
            assert f"{value:g}" in state and "(was " in state, (name, state)
        assert phone.locator(".scenario-consequence").is_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    assert "Outcome: The treatment plan is in place" in phone.inner_text("main")
    tab_to(phone, ".scenario-outcome button")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    debrief = phone.inner_text("main")
    assert "4 of 4 decisions followed the guideline" in debrief
    assert "AMA PRA Category 1 Credit" in phone.inner_text(".credit")
    assert "The guideline's path" in debrief
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
