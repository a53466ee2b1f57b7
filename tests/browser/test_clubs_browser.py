"""Journal clubs and case conferences in real Chromium.

A journal club from creation to credit (the member on a phone), and a real-case conference from
draft to approved with none of the patient's identifiers in any page that shows the case.
"""

from __future__ import annotations

import contextlib
import json
import re

from app import create_app
from app.case_conferences.deidentify import record_identifiers
from app.db import close_stores
from app.settings import REPO_ROOT
from tests.browser.test_collaboration_browser import (
    DESKTOP,
    PHONE,
    sign_in_as_editor,
    sign_in_standalone,
)
from tests.support.chromium import open_page
from tests.support.live_server import LiveServer, free_port

FACILITATOR = "Practitioner/dr-hf-haddad"  # signs in from the heart-failure patient's card
SEPSIS_BUNDLE = REPO_ROOT / "fhir_fixtures" / "patients" / "sepsis-adult-ed.json"


@contextlib.contextmanager
def bedside(tmp_path):
    """Bedside in demo mode on loopback; the heart-failure clinician facilitates and moderates."""
    roles = tmp_path / "roles.json"
    port = free_port()  # the demo EHR's issuer, and so the facilitator's fhirUser, names the port
    facilitator = f"http://127.0.0.1:{port}/fhir/{FACILITATOR}"
    roles.write_text(json.dumps({"fhir_users": {facilitator: ["facilitator", "moderator"]}}))
    instance = tmp_path / "instance"
    app = create_app(
        {
            "TESTING": True,
            "DEMO": True,
            "DATABASE": str(instance / "bedside.db"),
            "ROLES": str(roles),
        },
        instance_path=instance,
    )
    try:
        with LiveServer(app, port=port) as server:
            yield server.url
    finally:
        close_stores(app)


def shown_text(page) -> str:
    """The page's HTML without the EHR's patient banner (the launch context, not the case)."""
    return re.sub(r'<section class="patient-banner".*?</section>', "", page.content(), flags=re.S)


def test_a_journal_club_from_creation_to_credit(chromium, request, tmp_path):
    facilitator = open_page(chromium, request, **DESKTOP)
    member = open_page(chromium, request, **PHONE)
    with bedside(tmp_path) as url:
        sign_in_as_editor(facilitator, url)
        facilitator.click("nav.ui-nav >> text=Journal clubs")
        facilitator.fill("#title", "Sepsis: the first hour")
        facilitator.select_option("#module", "sepsis-hour-1-bundle")
        facilitator.click("text=Create the club")
        invite = facilitator.input_value("#invite")
        assert "/app/clubs/join/" in invite

        sign_in_standalone(member, url)
        member.goto(invite)
        member.click("text=Join the club")
        member.fill("#practice_change", "Repeat **lactate** within 2 hours when above 2")
        member.fill("#barriers", "Lab turnaround at night")
        member.click("text=Post the reflection")
        assert "transcript" in member.inner_text("#club-credit")
        assert "lactate" in member.inner_text(".post-body strong")
        width = member.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, "the club scrolls sideways on a phone"
        club_url = member.url
        member.goto(f"{url}/app/transcript")
        assert "Journal club" in member.inner_text("main")

        facilitator.reload()
        facilitator.fill("#summary", "We will *repeat* lactate at 2 hours.")
        facilitator.click("text=Close the club with this summary")
        member.goto(club_url)
        assert "repeat" in member.inner_text(".post-body em")
        assert member.locator("#practice_change").count() == 0


def test_a_real_case_conference_from_draft_to_approved_with_no_identifier(
    chromium, request, tmp_path
):
    resources = [e["resource"] for e in json.loads(SEPSIS_BUNDLE.read_text())["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    identifiers = record_identifiers([patient]).terms
    author = open_page(chromium, request, **PHONE)
    moderator = open_page(chromium, request, **DESKTOP)
    shown = []
    with bedside(tmp_path) as url:
        sign_in_standalone(author, url)
        author.goto(f"{url}/app/cases")
        author.click("text=Draft a teaching case")
        draft = author.input_value("#vignette")
        assert "day" in draft and "Lactate" in draft
        shown.append(draft)
        author.fill("#title", "Urosepsis with confusion")
        author.fill("#vignette", "Maeve Harlow, confused, lactate 3.1")
        author.click("button.primary")
        assert "patient" in author.inner_text(".field-error")
        author.fill("#vignette", draft + "\nWhat would you do in the first hour?")
        author.click("button.primary")
        author.click("text=Send for approval")
        case_url = author.url.split("?")[0]  # without the author's launch
        shown.append(shown_text(author))

        sign_in_as_editor(moderator, url)
        response = moderator.goto(case_url)
        assert response.status == 200  # a moderator sees a submitted case
        shown.append(shown_text(moderator))
        moderator.click("text=Approve for discussion")
        moderator.goto(f"{url}/app/discuss/name")
        moderator.fill("#name", "Dr Moderator")
        moderator.click("text=Save the name")
        moderator.goto(case_url)
        moderator.fill("#body", "Fluids and antibiotics **together**.")
        moderator.click("button:text-is('Reply')")
        author.goto(case_url)
        assert "together" in author.inner_text(".posts .post-body strong")
        shown += [shown_text(author), shown_text(moderator)]
        moderator.goto(f"{url}/app/cases")
        shown.append(shown_text(moderator))
    everything = "\n".join(shown).casefold()
    for identifier in identifiers:
        assert identifier.casefold() not in everything, identifier
