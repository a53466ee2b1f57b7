"""Fixtures: a demo app with the dashboards blueprint mounted."""

from __future__ import annotations

import pytest

from app import create_app
from app.dashboards import init_dashboards


def build_app(instance_path, demo: bool):
    """A test app (demo or not) with the dashboards mounted if the lead has not wired them yet."""
    app = create_app(
        {"TESTING": True, "DEMO": demo, "DATABASE": str(instance_path / "bedside.db")},
        instance_path=instance_path,
    )
    if "dashboards" not in app.blueprints:
        init_dashboards(app)
    return app


@pytest.fixture
def demo_app(instance_path):
    """A demo-mode app: dashboards open, synthetic data."""
    return build_app(instance_path, demo=True)


@pytest.fixture
def demo_client(demo_app):
    """A client of the demo app."""
    return demo_app.test_client()
