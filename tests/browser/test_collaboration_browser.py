"""The editorial loop in real Chromium: a clinician dismisses a card because they disagree with
the evidence → the item is in the editor's queue → a reviewed new module version cites it → the
clinician is told in Bedside. Also: a discussion on a phone, and a learner refused the queue."""

from __future__ import annotations

import contextlib
import json
import shutil

import yaml

from app import create_app
from app.db import close_stores
from app.settings import REPO_ROOT
from tests.browser.test_demo_ehr_browser import draft_ceftriaxone
from tests.support.chromium import open_page
from tests.support.live_server import LiveServer, free_port

SEPSIS = "sepsis-hour-1-bundle"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
DISAGREE = "Disagree with the evidence for this recommendation"  # the HL7 reason's display
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@contextlib.contextmanager
def bedside(tmp_path, content, port: int | None = None):
    """Bedside in demo mode on loopback, with the content folder given and an editor role.

    The demo EHR's issuer, and so the editor's fhirUser, names the port: a restart that is to keep
    the signed-in sessions (the same EHR) passes the same port.
    """
    roles = tmp_path / "roles.json"
    port = port or free_port()
    editor = f"http://127.0.0.1:{port}/fhir/Practitioner/dr-hf-haddad"
    roles.write_text(json.dumps({"fhir_users": {editor: ["editor"]}}))
    instance = tmp_path / "instance"
    app = create_app(
        {
            "TESTING": True,
            "DEMO": True,
            "DATABASE": str(instance / "bedside.db"),
            "CONTENT_DIR": str(content),
            "ROLES": str(roles),
        },
        instance_path=instance,
    )
    try:
        with LiveServer(app, port=port) as server:
            yield server.url
    finally:
        close_stores(app)


def sign_in_standalone(page, base_url: str) -> None:
    """The sepsis clinician (dr-ed-okafor) opens Bedside on its own, for the sepsis patient."""
    page.goto(f"{base_url}/smart/standalone")
    page.check("input[name='patient'][value='sepsis-adult']")
    page.click("button[value='approve']")
    page.wait_for_url("**/app/?launch=*")


def sign_in_as_editor(page, base_url: str) -> None:
    """The heart-failure clinician (an editor by the roles file) opens Bedside from a card."""
    page.goto(f"{base_url}/demo-ehr/")
    page.click("a[data-patient='hfref-adult']")
    page.wait_for_selector("article.card a.card-link.smart")
    with page.expect_navigation(url="**/app/**", timeout=20_000):
        page.locator("article.card a.card-link.smart").first.click()


def publish_new_version(content, item_id: str) -> None:
    """What a reviewed content change does: bump the version and cite the item in the changelog."""
    path = content / "modules" / f"{SEPSIS}.yaml"
    module = yaml.safe_load(path.read_text())
    module["version"] = "2.1.0"
    module["editorial"]["changelog"] = [
        {
            "version": "2.1.0",
            "date": "2026-12-07",
            "summary": f"Card evidence re-checked after queue item {item_id}.",
            "resolves": [item_id],
        }
    ]
    path.write_text(yaml.safe_dump(module, allow_unicode=True, sort_keys=False))


def test_disagreeing_with_a_card_reaches_the_editor_and_the_new_version_tells_the_clinician(
    chromium, request, tmp_path
):
    content = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", content)
    clinician = open_page(chromium, request, **DESKTOP)
    editor = open_page(chromium, request, **DESKTOP)
    port = free_port()
    with bedside(tmp_path, content, port) as url:
        draft_ceftriaxone(clinician, url)
        card = clinician.locator("article.card", has_text="blood cultures").first
        card.locator("select.override-reason").select_option(label=DISAGREE)
        card.locator(".dismiss-button").click()
        clinician.wait_for_selector("article.card.overridden")

        sign_in_as_editor(editor, url)
        editor.click("nav.ui-nav >> text=Editorial queue")
        row = editor.locator("tr.queue-item", has_text="Sepsis")
        assert "Disagree with the evidence" in row.inner_text()
        assert "CDS override" in row.inner_text()
        item_id = row.locator("code").inner_text()
        row.locator("a").click()
        editor.select_option("#status", "accepted")
        editor.click("text=Save the status")
        assert "Accepted" in editor.inner_text(".item-status")

    publish_new_version(content, item_id)
    with bedside(tmp_path, content, port) as url:  # the next release: same database, address
        sign_in_standalone(clinician, url)
        clinician.click("nav.ui-nav >> text=Notices")
        notices = clinician.inner_text("ol.notices")
        assert "version 2.1.0" in notices and "Sepsis" in notices
        assert "marked your comment" in notices  # the triage was told too
        editor.goto(f"{url}/app/editorial?status=resolved")
        assert item_id in editor.inner_text("table.queue")
        assert "Editorial queue" not in clinician.inner_text("nav.ui-nav")
        response = clinician.goto(f"{url}/app/editorial")
        assert response.status == 403


def test_a_thread_on_a_phone(chromium, request, tmp_path):
    phone = open_page(chromium, request, **PHONE)
    with bedside(tmp_path, REPO_ROOT / "content") as url:
        sign_in_standalone(phone, url)
        phone.goto(f"{url}/app/case/{SEPSIS}")
        phone.click("text=Discuss this module with peers")
        phone.click("text=Choose your display name")
        phone.fill("#name", "Night owl")
        phone.click("button.primary")
        phone.fill("#title", "Repeat lactate at 2 hours?")
        phone.fill("#body", "Maeve Harlow had 4.1 at triage")
        phone.click("button.primary")
        assert "patient identifier" in phone.inner_text(".field-error")
        assert phone.input_value("#body") == "Maeve Harlow had 4.1 at triage"  # nothing lost
        phone.fill("#body", "Do you **repeat** it when the first value is above 2?")
        phone.click("button.primary")
        assert "repeat" in phone.inner_text(".post-body strong")
        assert "Night owl" in phone.inner_text(".posts")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, "the thread scrolls sideways on a phone"
