"""Outcome dashboards (/dashboards): per programme and per clinician, from practice measures.

Wire with `init_dashboards(app)` after `init_ui(app)` (it needs Flask-Babel) and the ledger. In
demo mode the pages are open and show the synthetic dataset; otherwise they need a launched SMART
session and show the cases `bedside outcomes compute --save` stored in DATABASE without patient
identifiers (no patient or encounter ids; dates to the day).
"""

from __future__ import annotations

from flask import Flask

__all__ = ["init_dashboards"]


def init_dashboards(app: Flask) -> None:
    """Mount the blueprint (once); the practice source is the composition root's choice."""
    if "dashboards" in app.blueprints:
        return
    from app.dashboards import (
        content_views,  # noqa: F401  (adds the content analytics to bp)
        exports,  # noqa: F401  (adds the MeasureReport routes to bp)
    )
    from app.dashboards.views import bp

    app.register_blueprint(bp)
