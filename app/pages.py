"""Service-level routes: health check, home page and the SMART launch URL."""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Flask, Response, jsonify, render_template

from app.deployment import deployment
from app.settings import REPO_ROOT

bp = Blueprint("pages", __name__)


def init_app(app: Flask) -> None:
    """Register the service-level routes."""
    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz():
    """Report that the service is up (for load balancers and `make run`)."""
    return jsonify({"status": "ok", "demo": deployment().demo})


@bp.get("/")
def home():
    """Show what this Bedside instance offers and where to start."""
    return render_template("home.html", demo=deployment().demo)


@bp.get("/launch.html")
def launch_page():
    """Serve the SMART launch URL page from the repository root."""
    return Response(launch_html(), mimetype="text/html")


@cache
def launch_html() -> str:
    """Read launch.html once."""
    return (REPO_ROOT / "launch.html").read_text(encoding="utf-8")
