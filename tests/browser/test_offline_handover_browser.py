"""A phone handed to another clinician, in real Chromium: the first one's kept pages go.

A launch with a patient in context is never kept offline, yet its pages name the new clinician's
cache; the service worker drops the previous clinician's pages there, so offline the second
clinician never reads the first one's pages from the browser's history.
"""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError

from tests.browser.test_offline_browser import (
    KEPT,
    KEPT_CACHES,
    STORED,
    open_case_without_patient,
    wait_for_worker,
)


def test_another_clinicians_launch_with_a_patient_drops_the_first_clinicians_kept_pages(
    phone, demo_server
):
    open_case_without_patient(phone, demo_server)
    wait_for_worker(phone)
    phone.click("nav.ui-nav a[href*='/app/next']")
    phone.wait_for_selector(".recommendations")
    first_next = phone.url
    first_signed_in = phone.inner_text("form.ui-account span")
    assert phone.evaluate(KEPT, first_next)

    launch_with_patient_as_another_clinician(phone, demo_server)
    assert phone.inner_text("form.ui-account span") != first_signed_in

    assert phone.evaluate(KEPT_CACHES) == []
    assert not phone.evaluate(STORED, first_next)
    phone.context.set_offline(True)
    try:
        phone.goto(first_next)
        shown = phone.inner_text("body")
    except PlaywrightError:  # nothing kept: the browser's own offline error
        shown = ""
    assert first_signed_in not in shown and "What to learn next" not in shown


def launch_with_patient_as_another_clinician(page, server) -> None:
    """Launch from the EHR in the same browser as a second clinician, a patient in context."""
    launch_id = server.app.extensions["demo_auth"].create_launch(
        patient="sepsis-adult",
        encounter="sepsis-adult-ed-visit",
        practitioner="dr-peer-patel",
        need_patient_banner=True,
        app_context=None,
    )
    with page.expect_navigation(url="**/app/**"):
        page.goto(f"{server.url}/smart/launch?iss={server.url}/fhir&launch={launch_id}")
    page.wait_for_selector(".patient-banner")
