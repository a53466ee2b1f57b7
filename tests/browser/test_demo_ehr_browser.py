"""In a real browser: the demo EHR shows Bedside's card while an order is drafted."""

from __future__ import annotations


def draft_ceftriaxone(page, base_url: str) -> None:
    """Open the sepsis patient and draft ceftriaxone, as a clinician would."""
    page.goto(f"{base_url}/demo-ehr/")
    page.click("a[data-patient='sepsis-adult']")
    # The order entry is live once its script has run the chart-open hook (and bound its buttons).
    page.wait_for_selector("#status:has-text('patient-view')")
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
    assert "Why you are seeing this" in card.inner_text()
    assert "Draft content" in card.inner_text()


def test_dismissing_a_card_sends_feedback(page, demo_server):
    draft_ceftriaxone(page, demo_server.url)
    page.click("article.card .dismiss-button")
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
