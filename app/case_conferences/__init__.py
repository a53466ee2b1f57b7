"""Case conferences: a clinician's own launched encounter, de-identified, as a teaching case.

Between the pages and collaboration in the package layers: a conference's discussion reuses
collaboration's threads, and the pages show it.
"""

from __future__ import annotations

from flask import Flask, current_app

from app.case_conferences.store import CaseConferenceStore
from app.database import app_database

EXTENSION = "case_conferences"

__all__ = ["case_conferences", "init_case_conferences"]


def init_case_conferences(app: Flask) -> CaseConferenceStore:
    """Open the teaching case store once, hashing patient terms with the identity key."""
    if EXTENSION not in app.extensions:
        key = str(app.config["LEDGER_IDENTITY_KEY"]).encode()
        app.extensions[EXTENSION] = CaseConferenceStore(app_database(app), identity_key=key)
    return app.extensions[EXTENSION]


def case_conferences() -> CaseConferenceStore:
    """This app's teaching case store."""
    return current_app.extensions[EXTENSION]
