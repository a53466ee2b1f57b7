"""Every store's tables are the same on SQLite and PostgreSQL: columns, keys, indexes, uniques."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from app.database import Database, parse_database_url, sqlite_path_url
from app.db_commands import STORES, RegisteredStore

TABLES = {
    "ledger": {
        "ledger_activities",
        "ledger_answers",
        "ledger_attempts",
        "ledger_credits",
        "ledger_learners",
        "ledger_reporting_identities",
        "ledger_submissions",
    },
    "badge status": {"ledger_badge_status"},
    "cds": {"cds_exposures", "cds_feedback", "cds_jti"},
    "smart sessions": {"smart_sessions", "smart_browser_keys"},
    "smart pending": {"smart_pending"},
    "learning": {"learning_applied", "learning_cards", "learning_mastery", "learning_profiles"},
    "practice": {"practice_cases", "practice_imports", "practice_encounters"},
    "collaboration": {
        "collab_names",
        "collab_threads",
        "collab_posts",
        "collab_post_edits",
        "collab_reports",
        "collab_report_handlings",
        "collab_items",
        "collab_item_events",
        "collab_notices",
    },
    "delivery": {
        "delivery_confirmations",
        "delivery_messages",
        "delivery_subscriptions",
        "delivery_suppressions",
        "delivery_tokens",
    },
    "journal clubs": {
        "club_clubs",
        "club_members",
        "club_reflections",
        "club_reflection_reports",
        "club_reflection_handlings",
    },
    "case conferences": {"conf_cases"},
}


def store_shape(database: Database, store: RegisteredStore) -> dict:
    """The store's tables as the engine reports them, after the migrations, in registry order."""
    for earlier in STORES[: STORES.index(store) + 1]:  # badge slots refer to ledger credits
        database.migrate(earlier.schema)
    inspector = inspect(database.engine)
    tables = [name for name in inspector.get_table_names() if name in TABLES[store.name]]
    shape = {table: table_shape(inspector, table) for table in tables}
    database.dispose()
    return shape


def table_shape(inspector, table: str) -> tuple:
    """Columns in order (may it be NULL?), primary key, other indexes, unique constraints."""
    key = inspector.get_pk_constraint(table)["constrained_columns"]
    columns = inspector.get_columns(table)  # SQLite calls an INTEGER PRIMARY KEY nullable
    indexes = inspector.get_indexes(table)  # PostgreSQL also lists those backing a UNIQUE
    return (
        [(column["name"], column["nullable"] and column["name"] not in key) for column in columns],
        key,
        sorted(i["column_names"] for i in indexes if not i.get("duplicates_constraint")),
        sorted(unique["column_names"] for unique in inspector.get_unique_constraints(table)),
    )


def test_every_registered_store_is_listed_here():
    assert {store.name for store in STORES} == set(TABLES)


@pytest.mark.parametrize("store", STORES, ids=[store.name for store in STORES])
def test_both_engines_have_the_same_tables(store, tmp_path, postgres_url):
    on_sqlite = store_shape(Database(sqlite_path_url(tmp_path / "b.db"), store.settings), store)
    on_postgresql = store_shape(Database(parse_database_url(postgres_url), store.settings), store)
    assert set(on_sqlite) == TABLES[store.name]
    assert on_postgresql == on_sqlite
