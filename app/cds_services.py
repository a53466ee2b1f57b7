"""Wire the CDS Hooks service into the app: library index, store, engine, authenticator, signals.

Part of the composition root: `cds_hooks` knows nothing of learning, and learning plugs its
mastery signal into the engine here.
"""

from __future__ import annotations

import logging

from flask import Flask

from app.config import NEW_INSTANCE_KEYS
from app.database import app_database
from app.errors import ConfigError
from app.learning.cds_signal import MasterySignal
from app.library.loader import LibraryError, load_library
from cds_hooks import blueprint
from cds_hooks.auth import ClientAuthenticator
from cds_hooks.cards import check_cards
from cds_hooks.engine import CdsEngine, EngineSettings
from cds_hooks.fhir_fetch import FetchCache, FetchPolicy, insecure_hosts
from cds_hooks.index import UnknownValueSet, compile_library
from cds_hooks.store import CdsStore

log = logging.getLogger(__name__)
SECONDS_PER_DAY = 86_400


def init_app(app: Flask) -> None:
    """Compile the library once and mount the CDS services."""
    config = app.config
    try:
        library = load_library(config["CONTENT_DIR"])
        index = compile_library(library)
        check_cards(library.modules)
    except (LibraryError, UnknownValueSet, ValueError) as error:
        raise ConfigError(f"The content library cannot be loaded: {error}") from None
    store = CdsStore(app_database(app))
    settings = EngineSettings(
        max_cards=config["CDS_MAX_CARDS"],
        snooze_seconds=config["CDS_SNOOZE_DAYS"] * SECONDS_PER_DAY,
        repeat_seconds=config["CDS_REPEAT_MINUTES"] * 60,
        identity_key=str(config["CDS_IDENTITY_KEY"]).encode(),
        mastered_quiet_seconds=config["CDS_MASTERED_QUIET_DAYS"] * SECONDS_PER_DAY,
    )
    warn_if_identities_orphaned(app, store)
    key = str(config["LEDGER_IDENTITY_KEY"]).encode()
    mastered = MasterySignal(app_database(app), key)
    cache = FetchCache(policy=fetch_policy(config))
    engine = CdsEngine(library, index, store, settings, cache=cache, mastered=mastered)
    blueprint.register(app, blueprint.CdsRuntime(engine, authenticator_for(app, store)))
    log.info(
        "CDS services ready: %d modules, %d indexed codes", len(library.modules), len(index.by_code)
    )


def fetch_policy(config) -> FetchPolicy:
    """The byte caps and plain-http hosts for fetches from EHRs' FHIR servers."""
    return FetchPolicy(
        max_response_bytes=config["CDS_FHIR_MAX_RESPONSE_BYTES"],
        max_call_bytes=config["CDS_FHIR_MAX_CALL_BYTES"],
        insecure_hosts=insecure_hosts(config["FHIR_INSECURE_HOSTS"]),
    )


def warn_if_identities_orphaned(app: Flask, store: CdsStore) -> None:
    """Say so when a new CDS identity key meets hashes made with another key (an upgrade)."""
    if "CDS_IDENTITY_KEY" in app.extensions.get(NEW_INSTANCE_KEYS, ()) and store.holds_identities():
        log.warning(
            "A new CDS identity key was made (instance/cds_identity_key), but the database holds "
            "CDS snoozes and exposures hashed with another key: they no longer apply. To keep "
            "them after an upgrade, set BEDSIDE_CDS_IDENTITY_KEY to the secret key used before "
            "(BEDSIDE_SECRET_KEY or the content of instance/secret_key) and delete "
            "instance/cds_identity_key."
        )


def authenticator_for(app: Flask, store: CdsStore) -> ClientAuthenticator | None:
    """Build the JWT authenticator, or None (loudly) when auth is explicitly off."""
    if app.config["CDS_AUTH"] == "off":
        log.warning(
            "BEDSIDE_CDS_AUTH=off: CDS services accept calls from ANY client without a JWT."
        )
        return None
    clients = app.extensions.get("cds_clients", [])
    if not clients:
        log.warning("No trusted CDS clients (BEDSIDE_CDS_CLIENTS): every CDS call will get 401.")
    return ClientAuthenticator(clients, claim_jti=store.claim_jti, jti_seen=store.jti_seen)
