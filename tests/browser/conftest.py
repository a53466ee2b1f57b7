"""Browser tests: real headless Chromium (Debian's) driving Bedside served on loopback."""

from __future__ import annotations

import pytest

from app import create_app
from app.db import close_stores
from tests.support.chromium import open_page
from tests.support.live_server import LiveServer


def pytest_collection_modifyitems(items):
    """Every test in this folder is a browser test."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


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
