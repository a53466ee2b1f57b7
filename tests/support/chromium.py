"""Debian's Chromium for every browser test: one Playwright and one browser per pytest session.

Loaded once from tests/conftest.py (`pytest_plugins`), so the browser tests and the CDS Hooks
sandbox test share the same session-scoped browser: two `sync_playwright()` at once in one
process fail ("Sync API inside the asyncio loop").
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.settings import REPO_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome so the page fixture can screenshot failures."""
    outcome = yield
    setattr(item, f"report_{call.when}", outcome.get_result())


@pytest.fixture(scope="session")
def chromium():
    """Launch Debian's Chromium once per session (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package.")
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def open_page(chromium, request, **context_options):
    """Open a page in a fresh browser context; screenshot it if the test fails."""
    context = chromium.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    request.addfinalizer(lambda: finish(request, context, page))
    return page


def finish(request, context, page) -> None:
    """Save a screenshot of a failed test's page, then close its context."""
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
