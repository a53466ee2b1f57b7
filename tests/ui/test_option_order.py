"""Answer options are shuffled per attempt, stable within it, and scored by option, not position."""

from __future__ import annotations

import re
import uuid
from html import escape

from app.i18n import localized
from app.ui.case_flow import shuffled_options
from tests.ui.helpers import SEPSIS, get, launch, post, section, start_case

RADIO = re.compile(r'name="option" value="([^"]+)" required> <span>(.*?)</span>')


def displayed(html: str) -> list[tuple[str, str]]:
    """The answer options a question page shows, in order: (value sent, text shown)."""
    return RADIO.findall(html)


def shown(text: dict) -> str:
    """An option's text as the page shows it (HTML-escaped)."""
    return escape(localized(text), quote=False)


def test_the_correct_answer_moves_between_attempts_of_every_question(sepsis_module):
    attempts = [str(uuid.UUID(int=number)) for number in range(1, 41)]
    for question in sepsis_module["case"]["questions"]:
        positions = {
            [o["id"] for o in shuffled_options(question, attempt)].index(question["answer"])
            for attempt in attempts
        }
        assert positions == set(range(len(question["options"])))


def test_an_attempt_keeps_its_order_and_the_displayed_right_answer_scores_correct(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server, SEPSIS)
    question = sepsis["case"]["questions"][0]
    with ui_app.test_request_context():
        shown_texts = {o["id"]: shown(o["text"]) for o in question["options"]}
    right_text = shown_texts[question["answer"]]
    positions = set()
    for _ in range(12):
        first = start_case(browser)
        page = get(browser, first)
        options = displayed(page)
        assert options == displayed(get(browser, first))  # a reload keeps the order
        assert all(shown_texts[value] == text for value, text in options)
        position = [text for _, text in options].index(right_text)
        positions.add(position)
        post(browser, first, page, option=options[position][0])
        feedback = get(browser, first)
        assert "Correct." in feedback
        review = re.findall(
            r'<li class="(best)?[^"]*">\s*(.*?)\n', section(feedback, "options-review")
        )
        assert [text for _, text in review] == [text for _, text in options]
        assert review[position][0] == "best"
    assert len(positions) > 1
