"""Wire the ledger into the Flask app: one store and one credit policy per app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from app.db import register_store
from app.ledger.policy import policy_from_config
from app.ledger.rules import CreditPolicy
from app.ledger.store import LedgerStore, SqliteLedgerStore


@dataclass(frozen=True)
class Ledger:
    """What the app's views use: the store and the credit policy."""

    store: LedgerStore
    policy: CreditPolicy


def init_app(app: Flask) -> None:
    """Open the ledger (applying migrations) and read the policy; ConfigError if misconfigured."""
    key = app.config["LEDGER_IDENTITY_KEY"]
    store = SqliteLedgerStore(app.config["DATABASE"], identity_key=str(key).encode())
    register_store(app, store)
    app.extensions["ledger"] = Ledger(store=store, policy=policy_from_config(app.config))


def ledger_for(app: Flask) -> Ledger:
    """Return the app's ledger."""
    return app.extensions["ledger"]
