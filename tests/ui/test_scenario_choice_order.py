"""A scenario's choices are shuffled per attempt and keep their order within it."""

from __future__ import annotations

import re

import pytest

from app.library.scenarios import guideline_choice, steps_by_id
from tests.ui.helpers import get, launch, text
from tests.ui.test_scenario_player import AF, HF, below, decide, start_scenario, token_of

RADIO = re.compile(r'name="choice" value="([^"]+)" required> <span>(.*?)</span>')
ATTEMPTS = 8


def displayed(html: str) -> list[str]:
    """The choice ids a step page offers, in the order it shows them."""
    return [value for value, _ in RADIO.findall(html)]


def current_step(html: str) -> str:
    """The id of the step a page waits on."""
    return re.search(r'action="[^"]*/step/([a-z0-9-]+)[?"]', html).group(1)


def refused_decision(browser, url: str, page: str) -> str:
    """Press Decide with no choice on a step page; return the 400 page shown again."""
    step_url = below(url, f"step/{current_step(page)}")
    response = browser.post(step_url, data={"csrf_token": token_of(page)})
    assert response.status_code == 400
    return text(response)


@pytest.mark.parametrize("module_id", [HF, AF])
def test_the_guideline_choice_is_not_always_shown_first(browser, auth_server, ui_app, module_id):
    steps = steps_by_id(ui_app.extensions["ui"].library.modules[module_id]["scenario"])
    launch(browser, auth_server)
    positions = set()
    for _ in range(ATTEMPTS):
        url = start_scenario(browser, module_id)
        page = get(browser, url)
        while "/step/" in page:
            step = steps[current_step(page)]
            order = displayed(page)
            assert sorted(order) == sorted(choice["id"] for choice in step["choices"])
            assert displayed(get(browser, url)) == order  # a reload keeps the order
            assert displayed(refused_decision(browser, url, page)) == order
            best = guideline_choice(step)["id"]
            positions.add(order.index(best))
            page = decide(browser, url, best)
    assert positions != {0}
    assert len(positions) > 1
