"""Bedside: point-of-care CME — CDS Hooks cards, a SMART on FHIR app and a CME ledger."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from app.settings import REPO_ROOT

log = logging.getLogger(__name__)


def create_app(
    test_config: Mapping[str, object] | None = None, *, instance_path: str | Path | None = None
) -> Flask:
    """Build the Bedside application from layered configuration."""
    from app import config, errors, pages, redaction, security

    app = Flask(
        __name__,
        instance_path=str(instance_path or REPO_ROOT / "instance"),
        instance_relative_config=True,
    )
    config.load_config(app, test_config)
    redaction.install_redaction(app.config["LOG_LEVEL"])
    app.json.sort_keys = False
    app.config.setdefault("MAX_CONTENT_LENGTH", 5 * 1024 * 1024)
    if app.config["CDS_CLIENTS"]:
        from cds_hooks.clients import load_trusted_clients

        app.extensions["cds_clients"] = load_trusted_clients(app.config["CDS_CLIENTS"])
    errors.register_error_handlers(app)
    pages.init_app(app)
    security.init_app(app)
    if app.config["DEMO"]:
        from app.devtools import demo

        demo.init_app(app)
    from app.ledger import setup as ledger_setup
    from app.smart import init_smart
    from cds_hooks import setup

    init_smart(app)
    ledger_setup.init_app(app)
    from app.learning.profile_store import LearningStore

    app.extensions["learning"] = LearningStore(app.config["DATABASE"])  # beside the ledger
    from app.ledger.outputs import views as ledger_output_views

    app.register_blueprint(ledger_output_views.bp)
    setup.init_app(app)
    from app.ui import init_ui

    init_ui(app)
    from app.dashboards import init_dashboards

    init_dashboards(app)
    return app
