"""Bedside: point-of-care CME — CDS Hooks cards, a SMART on FHIR app and a CME ledger.

`create_app` is the composition root: the one place that chooses the deployment (production or
demo), opens the stores and wires the parts together. The parts import one way and never each
other's wiring (see tests/app/test_import_rules.py).
"""

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
    from app import config, errors, pages, rate_limits, redaction, request_text, security

    app = Flask(
        __name__,
        instance_path=str(instance_path or REPO_ROOT / "instance"),
        instance_relative_config=True,
    )
    config.load_config(app, test_config)
    redaction.install_redaction(app.config["LOG_LEVEL"])
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_REQUEST_BYTES"]  # Flask enforces it
    errors.register_error_handlers(app)
    pages.init_app(app)
    security.init_app(app)
    install_deployment(app)
    wire_parts(app)
    rate_limits.init_app(app)
    request_text.init_app(app)  # after the limits: a refused request still counts
    return app


def install_deployment(app: Flask) -> None:
    """Choose production or demo behaviour once: the deployment object and the practice data."""
    from app.database import app_database
    from app.deployment import EXTENSION, Deployment
    from app.outcomes.practice_data import SOURCE, PracticeSource
    from app.outcomes.practice_store import PracticeStore

    if app.config["CDS_CLIENTS"]:
        from cds_hooks.clients import load_trusted_clients

        app.extensions["cds_clients"] = load_trusted_clients(app.config["CDS_CLIENTS"])
    store = PracticeStore(app_database(app))
    app.extensions["practice_store"] = store
    app.extensions[EXTENSION] = Deployment()
    app.extensions[SOURCE] = PracticeSource(store, str(app.config["CONTENT_DIR"]))
    if app.config["DEMO"]:
        from app.devtools import demo

        demo.init_app(app)


def wire_parts(app: Flask) -> None:
    """Mount the SMART client, ledger, CDS services, learner app and dashboards, in that order."""
    from app import cds_services, delivery
    from app.case_conferences import init_case_conferences
    from app.collaboration import init_collaboration
    from app.dashboards import init_dashboards
    from app.database import app_database
    from app.journal_clubs import init_journal_clubs
    from app.learning.profile_store import LearningStore
    from app.ledger import wiring as ledger_wiring
    from app.ledger.outputs import views as ledger_output_views
    from app.notice_mail import init_notice_mail
    from app.smart import init_smart
    from app.ui import init_ui

    init_smart(app)
    ledger_wiring.init_app(app)
    learning = LearningStore(app_database(app))
    app.extensions["learning"] = learning  # beside the ledger
    app.register_blueprint(ledger_output_views.bp)
    cds_services.init_app(app)
    init_collaboration(app)
    init_journal_clubs(app)
    init_case_conferences(app)
    init_ui(app)
    delivery.init_app(app)
    init_notice_mail(app)
    init_dashboards(app)
