"""Spaced review questions (and notices) by e-mail: opt-in, schedule, SMTP, one-click links.

Wire with `init_app(app)` after the learning store and the learner UI (the outbox reads both).
"""

from __future__ import annotations

from flask import Flask

from app.database import app_database
from app.delivery.store import DeliveryStore

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Open the delivery store and mount the /mail pages."""
    from app.delivery.smtp import parse_smtp_url
    from app.delivery.views import bp

    if app.config.get("SMTP_URL"):
        parse_smtp_url(str(app.config["SMTP_URL"]))  # a bad URL fails at start, in one sentence
    app.extensions["delivery"] = DeliveryStore(app_database(app), app.config["SMART_TOKEN_KEY"])
    app.register_blueprint(bp)
