"""Journal clubs: a facilitator's invited group reflecting on a module or a guideline, for credit.

Between the pages and collaboration in the package layers: clubs use collaboration's roles and
the patient-data guard, claim credit through the ledger, and the pages show them. Wire with
`init_journal_clubs(app)` after the ledger.
"""

from __future__ import annotations

from flask import Flask, current_app

from app.database import app_database
from app.journal_clubs.store import JournalClubStore

EXTENSION = "journal_clubs"

__all__ = ["init_journal_clubs", "journal_clubs"]


def init_journal_clubs(app: Flask) -> JournalClubStore:
    """Open the journal club store once."""
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = JournalClubStore(app_database(app))
    return app.extensions[EXTENSION]


def journal_clubs() -> JournalClubStore:
    """This app's journal club store."""
    return current_app.extensions[EXTENSION]
