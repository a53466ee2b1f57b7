"""Every page a learner, a clinician in the demo EHR or a dashboard user can reach, in one walk.

`walk_every_page` drives real Chromium through the site as those users would and calls `visit`
on each page once it is shown, so a test can check each one (axe-core, headings, landmarks).
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from app.library.scenarios import guideline_walk
from app.settings import REPO_ROOT
from tests.browser.test_demo_ehr_browser import draft_ceftriaxone

SEPSIS_ID = "sepsis-hour-1-bundle"
SEPSIS = yaml.safe_load((REPO_ROOT / f"content/modules/{SEPSIS_ID}.yaml").read_text())
HF_ID = "hfref-gdmt"
HF_SCENARIO = yaml.safe_load((REPO_ROOT / f"content/modules/{HF_ID}.yaml").read_text())["scenario"]

Visit = Callable[[str], None]


def walk_every_page(page, base: str, visit: Visit, *, lang: str = "en") -> None:
    """Open every kind of page in turn, calling visit(name) on each."""
    page.goto(f"{base}/?lang={lang}")
    visit("home")
    for name, path in signed_out_pages():
        page.goto(base + path)
        visit(name)
    draft_ceftriaxone(page, base)
    for summary in page.locator("article.card details > summary").all():
        summary.click()  # the card's detail, open
    visit("demo EHR chart with a card")
    page.goto(f"{base}/smart/standalone")
    visit("demo EHR sign-in (authorize)")
    page.check("input[name='patient'][value='sepsis-adult']")
    page.click("button[value='approve']")
    page.wait_for_url("**/app/?launch=*")
    page.goto(page.url + f"&lang={lang}")
    visit("app home")
    walk_case(page, base, visit)
    walk_point_of_care(page, base, visit)
    walk_scenario(page, base, visit)
    for name, path in signed_in_pages():
        page.goto(base + path)
        visit(name)


def signed_out_pages() -> list[tuple[str, str]]:
    """Pages seen before any launch: error pages, the relaunch prompts, dashboards, the demo EHR."""
    return [
        ("SMART launch URL without a launch", "/launch.html"),
        ("not found", "/no-such-page"),
        ("SMART launch error", "/smart/launch"),
        ("app without a launch", "/app/"),
        ("programme dashboard", "/dashboards/"),
        ("clinician dashboard", "/dashboards/clinicians/C03"),
        ("content analytics", "/dashboards/content"),
        ("demo EHR patient list", "/demo-ehr/"),
    ]


def signed_in_pages() -> list[tuple[str, str]]:
    """Pages a signed-in learner opens from the menu, the profile and the transcript."""
    version = SEPSIS["version"]
    return [
        ("what next", "/app/next"),
        ("profile", "/app/profile"),
        ("profile deletion", "/app/profile/delete"),
        ("app transcript", "/app/transcript"),
        ("ledger transcript", "/ledger/transcript"),
        ("activity certificate", "/ledger/certificates/1"),
        ("period certificate", "/ledger/certificates/period"),
        ("source attributes", f"/app/modules/{SEPSIS_ID}/{version}/source-attributes"),
        ("module discussion", f"/app/discuss/{SEPSIS_ID}"),
        ("critique form", f"/app/critique/{SEPSIS_ID}"),
        ("display name", "/app/discuss/name"),
        ("notices", "/app/notices"),
        ("editorial queue refused to a learner", "/app/editorial"),
        ("journal clubs", "/app/clubs"),
        ("unknown journal club", "/app/clubs/no-such-club"),
        ("case conferences", "/app/cases"),
        ("unknown module", "/app/case/no-such-module"),
        ("unknown launch", "/app/?launch=no-such-launch"),
        ("sign-out confirmation", "/smart/logout"),
        ("own dashboard with cases", "/dashboards/clinicians/C03?cases=mine"),
    ]


def walk_case(page, base: str, visit: Visit) -> None:
    """The sepsis case: intro, each question before and after answering, the result."""
    page.goto(f"{base}/app/case/{SEPSIS_ID}")
    visit("case intro")
    page.click(".before-start button.primary")
    questions = SEPSIS["case"]["questions"]
    for number, question in enumerate(questions, 1):
        if number == 1:
            visit("case question")
        page.check(f"input[name='option'][value='{question['answer']}']")
        page.click("form button.primary")
        page.wait_for_selector(".feedback")
        if number == 1:
            visit("case question answered")
        if number < len(questions):
            page.click("a.button.primary")
    page.click("form button.primary")  # See your result
    page.wait_for_url("**/result?*")
    visit("case result")


def walk_point_of_care(page, base: str, visit: Visit) -> None:
    """Ask, search, read a guideline summary, apply it to the patient, done."""
    page.goto(f"{base}/app/poc/new?q=Blood+cultures+before+antibiotics+in+sepsis")
    visit("point-of-care question")
    page.check("input[name='reason'][value='new-information']")
    page.click("form button.primary")
    page.wait_for_url("**/search*")
    visit("point-of-care search")
    page.click(f"a[href*='/read/{SEPSIS_ID}']")
    visit("point-of-care guideline summary")
    page.click("button[value='now']")
    page.wait_for_url("**/apply*")
    visit("point-of-care apply")
    page.check("input[name='answered'][value='yes']")
    page.check("input[name='impact'] >> nth=0")
    page.check("input[name='rating'][value='5']")
    page.check("input[name='commercial_bias'][value='no']")
    page.click("form button.primary")
    page.wait_for_url("**/done*")
    visit("point-of-care done")


def walk_scenario(page, base: str, visit: Visit) -> None:
    """The heart failure scenario along the guideline's path: first step, a consequence, debrief."""
    page.goto(f"{base}/app/case/{HF_ID}")
    page.click(".scenario-offer button")
    visit("scenario first step")
    for number, decision in enumerate(guideline_walk(HF_SCENARIO).decisions):
        page.check(f"input[name='choice'][value='{decision.choice['id']}']")
        page.click("form button.primary")
        page.wait_for_selector(".scenario-consequence")
        if number == 0:
            visit("scenario step with a consequence")
    page.click(".scenario-outcome button")
    page.wait_for_url("**/debrief*")
    visit("scenario debrief")
