"""The branching scenario player over HTTP: decisions, evolving state, debrief, credit once."""

from __future__ import annotations

import json
import re

import pytest

from app.library.scenarios import guideline_choice, guideline_walk, steps_by_id
from tests.ui.helpers import (
    count_rows,
    get,
    launch,
    learner,
    ledger_rows,
    ledger_store,
    post,
    section,
    text,
)

HF = "hfref-gdmt"
AF = "af-anticoagulation"


@pytest.fixture
def hfref(ui_app) -> dict:
    """The heart failure module, whose scenario the tests play."""
    return ui_app.extensions["ui"].library.modules[HF]


def start_scenario(browser, module_id: str = HF) -> str:
    """Open the case intro, press the scenario's Start, return the attempt's step URL."""
    intro = get(browser, f"/app/case/{module_id}")
    response = post(browser, f"/app/scenario/{module_id}/start", intro)
    return response.headers["Location"]


def below(url: str, tail: str) -> str:
    """A path under a page's URL, keeping the page's query (the launch it is bound to)."""
    path, _, query = url.partition("?")
    return f"{path}/{tail}" + (f"?{query}" if query else "")


def decide(browser, step_url: str, choice: str, status: int = 303) -> str:
    """Post a decision at the step the page shows; return the page shown afterwards."""
    page = get(browser, step_url)
    step_id = re.search(r'action="[^"]*/step/([a-z0-9-]+)[?"]', page).group(1)
    post(browser, below(step_url, f"step/{step_id}"), page, status=status, choice=choice)
    return get(browser, step_url)


def play(browser, step_url: str, module: dict, choices: dict[str, str]) -> str:
    """Decide at every step (the given choice, else the guideline's) until the outcome shows."""
    steps = steps_by_id(module["scenario"])
    page = get(browser, step_url)
    while "/step/" in page:
        step_id = re.search(r'action="[^"]*/step/([a-z0-9-]+)[?"]', page).group(1)
        choice = choices.get(step_id) or guideline_choice(steps[step_id])["id"]
        page = decide(browser, step_url, choice)
    return page


def finish(browser, step_url: str, page: str) -> str:
    """Press "See the debrief"; return the debrief URL it redirects to."""
    return post(browser, below(step_url, "debrief"), page).headers["Location"]


def test_the_case_intro_offers_the_scenario_after_the_disclosures(browser, auth_server, hfref):
    launch(browser, auth_server)
    intro = get(browser, f"/app/case/{HF}")
    offer = section(intro, "scenario-offer")
    assert hfref["scenario"]["title"]["en"] in offer
    assert "Draft: not yet reviewed by a clinician" in offer
    assert "drafted by software" in offer
    assert intro.index("Disclosures") < intro.index("Start the scenario")
    assert "scenario-offer" not in get(browser, "/app/case/sepsis-hour-1-bundle")


def test_the_guideline_path_earns_the_module_credit_once(browser, auth_server, ui_app, hfref):
    launch(browser, auth_server)
    url = start_scenario(browser)
    first = get(browser, url)
    assert hfref["scenario"]["intro"]["en"][:60] in first
    assert "Week 0" in first and "84 /min" in first
    page = play(browser, url, hfref, {})
    assert "Outcome: The treatment plan is in place" in page
    debrief_url = finish(browser, url, page)
    assert "replayed" not in debrief_url
    debrief = get(browser, debrief_url)
    assert "4 of 4 decisions followed the guideline" in debrief and "Passed." in debrief
    assert "0.25 AMA PRA Category 1 Credit™" in section(debrief, "credit")
    assert "already recorded" not in debrief
    assert browser.get(url).headers["Location"] == debrief_url  # a finished path only debriefs
    before = ledger_rows(ui_app)
    again = post(browser, below(url, "debrief"), page)  # the finish form pressed twice
    assert "replayed=1" in again.headers["Location"].partition("?")[2].split("&")
    assert ledger_rows(ui_app) == before
    credits = ledger_store(ui_app).credits_for(learner(ui_app))
    assert len(credits) == 2  # AMA PRA and AAFP, once each
    assert {c.activity_key for c in credits} == {f"case:{HF}@{hfref['version']}"}
    assert json.loads(credits[0].evidence) == {"correct": 4, "total": 4, "pass_mark_percent": 75}


def test_a_deviation_changes_the_state_and_the_debrief_lists_the_difference(
    browser, auth_server, ui_app, hfref
):
    launch(browser, auth_server)
    url = start_scenario(browser)
    decide(browser, url, "a")  # carvedilol
    decide(browser, url, "a")  # ARNI after a 36-hour washout
    page = decide(browser, url, "b")  # spironolactone with a potassium supplement
    state = section(page, "scenario-state")
    assert "6.1 mmol/L" in state and "(was 4.6 mmol/L)" in state
    assert "Week 7" in state
    assert "Potassium is 6.1 mmol/L" in page  # the hyperkalemia step, off the guideline's path
    page = play(browser, url, hfref, {})
    debrief = get(browser, finish(browser, url, page))
    assert "4 of 5 decisions followed the guideline" in debrief
    mine = section(debrief, "your-path")
    deviated = mine.split('class="decision deviated"')[1].split('class="reference"')[0]
    assert "Start spironolactone with a potassium chloride supplement" in deviated
    assert "Potassium: 4.6 mmol/L → 6.1 mmol/L" in deviated
    assert "The guideline: Start spironolactone at a low dose" in deviated
    assert mine.count('class="decision followed"') == 4
    theirs = section(debrief, "guideline-path")
    assert "Start spironolactone at a low dose" in theirs
    assert "Potassium is 6.1" not in theirs
    assert len(ledger_store(ui_app).credits_for(learner(ui_app))) == 2  # 80% passes


def test_a_path_below_the_pass_mark_earns_nothing(browser, auth_server, ui_app, hfref):
    launch(browser, auth_server)
    url = start_scenario(browser)
    decide(browser, url, "c")  # no beta blocker
    page = decide(browser, url, "b")  # ARNI with the last ACE inhibitor dose
    assert "Outcome: Angioedema" in page
    debrief = get(browser, finish(browser, url, page))
    assert "0 of 2 decisions followed the guideline" in debrief
    assert "Not passed this time." in debrief and "Try the scenario again" in debrief
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []


def test_refresh_and_double_submit_record_each_decision_once(browser, auth_server, ui_app):
    launch(browser, auth_server)
    url = start_scenario(browser)
    page = get(browser, url)
    step = below(url, "step/beta-blocker")
    post(browser, step, page, choice="a")
    post(browser, step, page, choice="a")  # the same form submitted twice
    post(browser, step, page, choice="c")  # a stale tab with another choice
    assert count_rows(ui_app, "ledger_answers") == 1
    after = get(browser, url)
    assert "You chose: Carvedilol" in after
    assert re.search(r"step/arni-switch[?\"]", after)
    # A refresh shows the same page and records nothing (CSRF tokens carry their signing second).
    assert without_tokens(get(browser, url)) == without_tokens(after)
    assert count_rows(ui_app, "ledger_answers") == 1


def test_bad_input_gets_a_readable_page_not_a_500(browser, auth_server, ui_app):
    launch(browser, auth_server)
    url = start_scenario(browser)
    page = get(browser, url)
    missing = browser.post(below(url, "step/beta-blocker"), data={"csrf_token": token_of(page)})
    assert missing.status_code == 400
    assert "Choose one decision." in text(missing)
    assert count_rows(ui_app, "ledger_answers") == 0
    assert browser.get(url.replace(url.rsplit("/", 1)[1], "not-a-uuid")).status_code == 404
    assert browser.get(f"/app/scenario/{HF}/attempt/x/debrief").status_code == 404
    no_scenario = get(browser, "/app/case/sepsis-hour-1-bundle")
    response = browser.post(
        "/app/scenario/sepsis-hour-1-bundle/start", data={"csrf_token": token_of(no_scenario)}
    )
    assert response.status_code == 404
    early = browser.get(below(url, "debrief"))  # no debrief before an outcome
    assert early.status_code == 302 and early.headers["Location"].endswith(url)


def test_a_case_attempt_is_not_playable_as_a_scenario(browser, auth_server, hfref):
    launch(browser, auth_server)
    intro = get(browser, f"/app/case/{HF}")
    first = post(browser, f"/app/case/{HF}/start", intro).headers["Location"]
    question = get(browser, first)
    post(browser, first, question, option=hfref["case"]["questions"][0]["answer"])
    attempt_id = first.split("/attempt/")[1].split("/")[0]
    assert browser.get(f"/app/scenario/{HF}/attempt/{attempt_id}").status_code == 404


def test_the_scenario_in_spanish(browser, auth_server, hfref):
    launch(browser, auth_server)
    url = start_scenario(browser)
    page = decide(browser, url, "a")
    page = get(browser, url + "&lang=es")
    assert hfref["scenario"]["steps"][1]["prompt"]["es"] in page
    assert "Semana 2" in page and "76 /min" in page and "era 84 /min" in page
    assert "Borrador: aún no revisado por un clínico" in page
    assert "Decidir" in page


def test_the_af_scenario_follows_the_guideline_to_the_labeled_dose(browser, auth_server, ui_app):
    module = ui_app.extensions["ui"].library.modules[AF]
    walk = guideline_walk(module["scenario"])
    assert walk.outcome["id"] == "anticoagulated"
    assert walk.state["weight"] == 59 and walk.state["creatinine"] == 1.6
    launch(browser, auth_server)
    url = start_scenario(browser, AF)
    page = decide(browser, url, "b")  # aspirin alone
    assert "CHA₂DS₂-VASc score is now 7" in page
    assert "(was 5)" in section(page, "scenario-state")


def without_tokens(page: str) -> str:
    """A page with its CSRF token values blanked."""
    return re.sub(r'(name="csrf_token" (?:type="hidden" )?value=")[^"]+"', r'\1"', page)


def token_of(page: str) -> str:
    """The CSRF token in a page's first form."""
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
