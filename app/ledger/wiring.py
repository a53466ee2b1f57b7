"""Wire the ledger into the Flask app: one store and one credit policy per app.

The credit policy is read from Bedside's settings (BEDSIDE_LEDGER_*); a bad one fails with a clear
sentence (ConfigError) when the app starts. A production deployment credits only approved modules;
demo mode credits its draft modules too (it labels them draft).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import Flask

from app.database import database_url
from app.db import register_store
from app.deployment import EXTENSION as DEPLOYMENT
from app.errors import ConfigError
from app.ledger.rules import CREDIT_TYPES, CreditPolicy
from app.ledger.store import LedgerStore, SqlLedgerStore, ledger_database

DEFAULTS = {
    "LEDGER_POC_CREDIT": "ama-pra-category-1:0.50",
    "LEDGER_POC_WINDOW_HOURS": 72,
    "LEDGER_JOURNAL_CLUB_CREDIT": "ama-pra-category-1:1.00",
    "LEDGER_ANNUAL_CAP": "ama-pra-category-1:20",
    "LEDGER_CREDIT_TYPES": " ".join(CREDIT_TYPES),
}


@dataclass(frozen=True)
class Ledger:
    """What the app's views use: the store and the credit policy."""

    store: LedgerStore
    policy: CreditPolicy


def init_app(app: Flask) -> None:
    """Open the ledger (applying migrations) and read the policy; ConfigError if misconfigured."""
    key = app.config["LEDGER_IDENTITY_KEY"]
    database = ledger_database(database_url(app.config))  # its own: synchronous=FULL on SQLite
    store = SqlLedgerStore(database, identity_key=str(key).encode())
    register_store(app, store)
    production = not app.extensions[DEPLOYMENT].demo  # installed before the ledger
    policy = replace(policy_from_config(app.config), approved_modules_only=production)
    app.extensions["ledger"] = Ledger(store=store, policy=policy)


def ledger_for(app: Flask) -> Ledger:
    """Return the app's ledger."""
    return app.extensions["ledger"]


def policy_from_config(config: Mapping[str, object]) -> CreditPolicy:
    """Read the ledger settings (missing ones take their defaults) into a CreditPolicy."""
    setting = {name: config.get(name, default) for name, default in DEFAULTS.items()}
    hours = int(str(setting["LEDGER_POC_WINDOW_HOURS"]))
    if hours < 1:
        raise ConfigError("BEDSIDE_LEDGER_POC_WINDOW_HOURS must be at least 1.")
    return CreditPolicy(
        poc_credit=parse_amounts("LEDGER_POC_CREDIT", setting["LEDGER_POC_CREDIT"]),
        poc_application_window=timedelta(hours=hours),
        annual_cap=dict(parse_amounts("LEDGER_ANNUAL_CAP", setting["LEDGER_ANNUAL_CAP"])),
        awarded_types=parse_types("LEDGER_CREDIT_TYPES", setting["LEDGER_CREDIT_TYPES"]),
        journal_club_credit=parse_amounts(
            "LEDGER_JOURNAL_CLUB_CREDIT", setting["LEDGER_JOURNAL_CLUB_CREDIT"]
        ),
    )


def parse_amounts(name: str, value: object) -> tuple[tuple[str, Decimal], ...]:
    """Parse `type:amount type:amount …` (empty means none)."""
    pairs = []
    for item in str(value or "").split():
        kind, _, amount = item.partition(":")
        check_type(name, kind)
        pairs.append((kind, parse_amount(name, amount)))
    kinds = [kind for kind, _ in pairs]
    if len(set(kinds)) != len(kinds):
        raise ConfigError(f"BEDSIDE_{name} names a credit type twice: {value!r}.")
    return tuple(pairs)


def parse_amount(name: str, text: str) -> Decimal:
    """Parse a positive amount with at most two decimals."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or not in_cents(amount):
        raise ConfigError(
            f"BEDSIDE_{name}: {text!r} is not a positive amount with at most two decimals "
            "(write type:amount, e.g. ama-pra-category-1:0.5)."
        )
    return amount


def in_cents(amount: Decimal) -> bool:
    """Tell whether a finite amount has at most two decimals (one too large to round has not)."""
    try:
        return amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # 1e400: rounding to cents would need more digits than Decimal keeps
        return False


def parse_types(name: str, value: object) -> frozenset[str]:
    """Parse a space-separated list of credit types."""
    kinds = str(value or "").split()
    for kind in kinds:
        check_type(name, kind)
    return frozenset(kinds)


def check_type(name: str, kind: str) -> None:
    """Reject a credit type Bedside does not know."""
    if kind not in CREDIT_TYPES:
        known = ", ".join(CREDIT_TYPES)
        raise ConfigError(f"BEDSIDE_{name}: unknown credit type {kind!r}; known: {known}.")
