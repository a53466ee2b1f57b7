"""Outcome dashboards (/dashboards): per programme and per clinician, from practice measures.

Wire with `init_dashboards(app)` after `init_ui(app)` (it needs Flask-Babel). In demo mode the pages
are open and show the synthetic dataset; otherwise they need a launched SMART session. Real
deployments will later link the signed-in clinician to their Practitioner id and load real data.
"""

from __future__ import annotations

from flask import Flask

__all__ = ["init_dashboards"]


def init_dashboards(app: Flask) -> None:
    """Mount the dashboards blueprint (once)."""
    if "dashboards" in app.blueprints:
        return
    from app.dashboards.views import bp

    app.register_blueprint(bp)
