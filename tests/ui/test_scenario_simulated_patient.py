"""A scenario's patient is labelled as simulated, apart from the real patient in the banner."""

from __future__ import annotations

import re

from tests.ui.helpers import get, launch, section
from tests.ui.test_scenario_player import HF, decide, finish, play, start_scenario

SIMULATED = (
    "The patient and the values in this scenario are simulated: they are not those of the "
    "patient whose record is open in your EHR."
)


def state_panel(page: str) -> str:
    """The scenario's state panel, opening tag included (to read its accessible name)."""
    match = re.search(r'<section class="scenario-state[^"]*".*?</section>', page, re.DOTALL)
    assert match, "no state panel"
    return match.group(0)


def assert_labelled_simulated(page: str) -> None:
    """The state panel is named as simulated by its heading and says so in visible text."""
    panel = state_panel(page)
    heading = re.search(r'<h2 id="state-title">(.*?)</h2>', panel, re.DOTALL).group(1)
    assert heading.startswith("Simulated patient now")
    assert 'aria-labelledby="state-title"' in panel
    described = re.search(r'aria-describedby="([^"]+)"', panel).group(1)
    assert f'id="{described}">{SIMULATED}<' in panel
    assert "Harlow" not in panel  # the real patient stays in the banner


def test_every_step_labels_the_state_as_the_simulated_patients(browser, auth_server, ui_app):
    launch(browser, auth_server)
    url = start_scenario(browser)
    first = get(browser, url)
    assert "Maeve Josephine Harlow" in section(first, "patient-banner")
    assert_labelled_simulated(first)
    assert "The simulated patient" in section(first, "vignette")
    after = decide(browser, url, "a")
    assert_labelled_simulated(after)
    assert "76 /min" in state_panel(after)
    assert after.index("patient-banner") < after.index(SIMULATED)
    module = ui_app.extensions["ui"].library.modules[HF]
    debrief = get(browser, finish(browser, url, play(browser, url, module, {})))
    assert SIMULATED in debrief
    assert debrief.index(SIMULATED) < debrief.index("your-path")
