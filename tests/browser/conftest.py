"""Browser tests: real headless Chromium (Debian's) driving Bedside served on loopback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app import create_app
from app.db import close_stores
from app.settings import REPO_ROOT
from tests.support.live_server import LiveServer

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


def pytest_collection_modifyitems(items):
    """Every test in this folder is a browser test."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


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


@pytest.fixture
def demo_server(tmp_path):
    """Bedside in demo mode on a real loopback port, with its own instance folder."""
    instance = tmp_path / "instance"
    app = create_app(
        {"TESTING": True, "DEMO": True, "DATABASE": str(instance / "bedside.db")},
        instance_path=instance,
    )
    with LiveServer(app) as server:
        yield server
    close_stores(app)


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


@pytest.fixture
def page(chromium, request):
    """A desktop-sized page."""
    return open_page(chromium, request, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(chromium, request):
    """A phone-sized page (iPhone 12-like viewport, touch)."""
    return open_page(
        chromium, request, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
