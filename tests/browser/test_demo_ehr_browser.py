"""In a real browser: the demo EHR shows Bedside's card while an order is drafted."""

from __future__ import annotations

import pytest


def draft_ceftriaxone(page, base_url: str) -> None:
    """Open the sepsis patient and draft ceftriaxone, as a clinician would."""
    page.goto(f"{base_url}/demo-ehr/")
    page.click("a[data-patient='sepsis-adult']")
    # The order entry is live once its script has run the chart-open hook (and bound its buttons).
    page.wait_for_selector("#status:has-text('patient-view:')")  # answered, not only sent
    page.select_option("#order-choice", "ceftriaxone-1g")
    page.click("#add-order")
    page.wait_for_selector("article.card")


def open_case_from_card(page, base_url: str, landing: str = "**/app/case/**") -> None:
    """Draft ceftriaxone, then follow the card's SMART link until the app's page at landing."""
    draft_ceftriaxone(page, base_url)
    with page.expect_navigation(url=landing, timeout=20_000):
        page.click("article.card a.card-link.smart")


def test_drafting_an_antibiotic_shows_the_sepsis_card(page, demo_server):
    draft_ceftriaxone(page, demo_server.url)
    card = page.locator("article.card").first
    assert "blood cultures" in card.locator(".summary").inner_text()
    card.locator("details.card-detail > summary").click()
    assert "Why you are seeing this" in card.inner_text()
    assert "Draft content" in card.inner_text()


@pytest.mark.parametrize("size", ["page", "phone"])
def test_the_card_is_compact_with_its_detail_folded_away(request, demo_server, size):
    page = request.getfixturevalue(size)
    draft_ceftriaxone(page, demo_server.url)
    card = page.locator("article.card").first
    detail = card.locator("details.card-detail")
    assert detail.get_attribute("open") is None
    assert not card.locator(".detail").is_visible()
    assert card.locator("a.card-link.smart").is_visible()  # the action stays in view
    folded = card.bounding_box()["height"]
    assert folded < page.viewport_size["height"] * 0.9  # the whole folded card fits on screen
    detail.locator("summary").click()
    assert card.locator(".detail").is_visible()
    assert card.bounding_box()["height"] > folded * 2


def test_one_click_on_dismiss_is_refused_until_a_reason_is_chosen(page, demo_server):
    draft_ceftriaxone(page, demo_server.url)
    card = page.locator("article.card").first
    select = card.locator("select.override-reason")
    assert select.evaluate("s => s.labels.length && s.labels[0].textContent") == (
        "Reason for dismissing"
    )
    assert select.evaluate("s => s.options[s.selectedIndex].text") == "Choose a reason"
    assert select.evaluate("s => s.options[0].disabled")
    card.locator(".dismiss-button").click()
    alert = card.locator(".dismiss [role='alert']")
    assert alert.inner_text() == "Choose a reason before you dismiss this card."
    assert page.evaluate("document.activeElement.classList.contains('override-reason')")
    assert "overridden" not in card.get_attribute("class")
    assert "Feedback sent" not in page.inner_text("#status")


def test_dismissing_a_card_with_a_reason_sends_feedback(page, demo_server):
    draft_ceftriaxone(page, demo_server.url)
    card = page.locator("article.card").first
    card.locator("select.override-reason").select_option(index=2)
    assert not card.locator(".dismiss [role='alert']").is_visible()
    card.locator(".dismiss-button").click()
    page.wait_for_selector("article.card.overridden")
    assert "Feedback sent (overridden)" in page.inner_text("#status")


def test_the_card_link_launches_the_app_through_launch_html(page, demo_server):
    open_case_from_card(page, demo_server.url, landing="**/app/**")
    assert "/app/case/sepsis-hour-1-bundle" in page.url


def test_the_order_entry_works_on_a_phone(phone, demo_server):
    draft_ceftriaxone(phone, demo_server.url)
    card = phone.locator("article.card").first
    assert card.is_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, "the page scrolls sideways on a phone"
