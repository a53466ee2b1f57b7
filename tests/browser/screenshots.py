"""The README's screenshots, taken from the demo as a user sees it: `make screenshots`.

Runs Bedside in demo mode on a loopback port, walks the site in Debian's Chromium with the same
walk the accessibility test uses (site_walk.py), and saves the main pages as PNG files in
docs/screenshots/: desktop in English, the case question on a phone in Spanish.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from app import create_app
from app.db import close_stores
from app.settings import REPO_ROOT
from tests.browser.site_walk import walk_every_page
from tests.support.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.support.live_server import LiveServer

OUT = REPO_ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# page name in the walk → file name: the card, the case, credit, learning cycles, outcomes
DESKTOP_PAGES = {
    "demo EHR chart with a card": "demo-ehr-card.png",
    "case question answered": "case-answered.png",
    "case result": "case-result.png",
    "point-of-care guideline summary": "point-of-care-summary.png",
    "scenario step with a consequence": "scenario-step.png",
    "app transcript": "transcript.png",
    "activity certificate": "certificate.png",
    "programme dashboard": "dashboard.png",
}
PHONE_PAGES = {"case question answered": "phone-case-answered-es.png"}


def capture(browser, viewport: dict, wanted: dict[str, str], lang: str) -> list[Path]:
    """Walk a fresh demo once at this size and language, saving the wanted pages.

    Fresh, because the demo EHR's card is shown once per clinician and encounter.
    """
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder) / "instance"
        app = create_app(
            {"DEMO": True, "DATABASE": str(instance / "bedside.db")}, instance_path=instance
        )
        try:
            with LiveServer(app) as server:
                return walk_and_save(browser, server.url, viewport, wanted, lang)
        finally:
            close_stores(app)


def walk_and_save(browser, base: str, viewport: dict, wanted: dict[str, str], lang: str):
    """Walk the site at this size and language, saving the wanted pages; return their paths."""
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE)
    page = context.new_page()
    saved: list[Path] = []

    def visit(name: str) -> None:
        """Save this page when it is one of the wanted ones (first time it is shown)."""
        file_name = wanted.get(name)
        if file_name and not any(path.name == file_name for path in saved):
            path = OUT / file_name
            page.screenshot(path=str(path), full_page=False)
            saved.append(path)

    try:
        walk_every_page(page, base, visit, lang=lang)
    finally:
        context.close()
    return saved


def main() -> int:
    """Take the screenshots; print where they are."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print("Chromium is not installed (apt-get install chromium).", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            saved = capture(browser, DESKTOP, DESKTOP_PAGES, "en")
            saved += capture(browser, PHONE, PHONE_PAGES, "es")
        finally:
            browser.close()
    for path in saved:
        print(path.relative_to(REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
