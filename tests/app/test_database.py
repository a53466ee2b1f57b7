"""The shared database: URLs in one sentence, migrations once, one winner per conflicting insert."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlite_utils.migrations import Migrations

from app import database as database_module
from app.database import Database, StoreSchema, parse_database_url
from app.db import LEDGER_SETTINGS
from app.errors import ConfigError
from app.redaction import redact
from app.settings import REPO_ROOT

steps = Migrations("test.claims")


@steps()
def create_claims(db) -> None:
    """The claims table (SQLite)."""
    db["claims"].create({"claim": str, "by": int}, pk="claim")


SCHEMA = StoreSchema(
    "test.claims",
    steps,
    [("create_claims", "CREATE TABLE claims (claim TEXT PRIMARY KEY, by BIGINT)")],
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/bedside", "must start with sqlite:/// or postgresql://"),
        ("sqlite://relative.db", "must look like sqlite:///path"),
        ("postgresql:///bedside", "names no PostgreSQL host"),
        ("postgresql://db.example:5432", "names no PostgreSQL database"),
    ],
)
def test_a_wrong_database_url_is_one_sentence(url, message):
    with pytest.raises(ConfigError, match=message):
        parse_database_url(url)


def test_urls_pick_the_engine_and_hide_the_password():
    relative = parse_database_url("sqlite:///instance/x.db")
    server = parse_database_url("postgresql://bedside:s3cret@db.example:5432/bedside")
    assert relative.sqlite_path == REPO_ROOT / "instance/x.db"
    assert server.sqlalchemy_url.startswith("postgresql+psycopg://")
    assert server.shown == "postgresql://bedside@db.example:5432/bedside"
    assert "s3cret" not in server.shown


def test_two_hosts_migrating_at_once_apply_each_step_once(database_url):
    hosts = [Database(parse_database_url(database_url)) for _ in range(4)]
    applied: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda host=host: applied.append(host.migrate(SCHEMA)))
        for host in hosts
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for host in hosts:
        host.dispose()
    assert sorted(applied) == [[], [], [], ["create_claims"]]


def test_migrations_apply_once_and_are_recorded(database):
    assert database.migrate(SCHEMA) == ["create_claims"]
    assert database.migrate(SCHEMA) == []
    assert database.applied(SCHEMA) == ["create_claims"]


def test_concurrent_conflicting_inserts_have_exactly_one_winner(database):
    database.migrate(SCHEMA)
    won: list[int] = []

    def claim(number: int) -> None:
        with database.write() as connection:
            inserted = connection.execute(
                text("INSERT INTO claims VALUES ('same', :by) ON CONFLICT DO NOTHING"),
                {"by": number},
            )
            if inserted.rowcount == 1:
                won.append(number)

    threads = [threading.Thread(target=claim, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.read() as connection:
        stored = connection.execute(text("SELECT by FROM claims")).scalars().all()
    assert len(won) == 1 and stored == won


def test_a_failed_write_leaves_nothing(database):
    database.migrate(SCHEMA)
    with pytest.raises(RuntimeError), database.write() as connection:
        connection.execute(text("INSERT INTO claims VALUES ('half', 1)"))
        raise RuntimeError("stop before commit")
    with database.read() as connection:
        assert connection.execute(text("SELECT count(*) FROM claims")).scalar() == 0


def test_a_logged_database_error_never_carries_the_values(database):
    database.migrate(SCHEMA)
    secret_key = "learner-5f2c9e-keyed-hash"
    with database.write() as connection:
        connection.execute(text("INSERT INTO claims VALUES (:claim, 1)"), {"claim": secret_key})
    with pytest.raises(IntegrityError) as raised, database.write() as connection:
        connection.execute(text("INSERT INTO claims VALUES (:claim, 2)"), {"claim": secret_key})
    assert secret_key not in redact(str(raised.value))  # what the log filter writes
    assert "UNIQUE" in str(raised.value).upper()  # the kind of error stays readable


def test_an_application_role_that_may_not_create_starts_once_the_owner_migrated(postgres_url):
    owner = Database(parse_database_url(postgres_url))
    role = f"app_{uuid.uuid4().hex[:8]}"
    with owner.write() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
    app_url = parse_database_url(postgres_url.replace("://postgres@", f"://{role}@"))
    app_role = Database(app_url)
    with pytest.raises(ConfigError, match="run `bedside db migrate` as the database owner"):
        app_role.migrate(SCHEMA)
    assert owner.migrate(SCHEMA) == ["create_claims"]
    with owner.write() as connection:
        connection.execute(text(f"GRANT SELECT ON bedside_migrations TO {role}"))
    assert app_role.migrate(SCHEMA) == []  # only read: no CREATE TABLE IF NOT EXISTS, no lock
    app_role.dispose()
    with owner.write() as connection:
        connection.execute(text(f"DROP OWNED BY {role}"))
        connection.execute(text(f"DROP ROLE {role}"))
    owner.dispose()


def test_a_postgresql_lookup_opens_no_transaction_and_leaves_writes_atomic(postgres_url):
    database = Database(parse_database_url(postgres_url))
    try:
        database.migrate(SCHEMA)
        with database.lookup() as connection:
            connection.execute(text("SELECT count(*) FROM claims")).scalar_one()
            status = connection.connection.driver_connection.info.transaction_status
        assert status.name == "IDLE"  # no BEGIN was sent, so no ROLLBACK is owed
        with database.read() as connection:
            connection.execute(text("SELECT count(*) FROM claims")).scalar_one()
            status = connection.connection.driver_connection.info.transaction_status
        assert status.name == "INTRANS"
        # the pooled connection is transactional again: a failed write keeps nothing
        with pytest.raises(IntegrityError), database.write() as connection:
            connection.execute(text("INSERT INTO claims VALUES ('kept?', 1)"))
            connection.execute(text("INSERT INTO claims VALUES (NULL, 2)"))
        with database.lookup() as connection:
            assert connection.execute(text("SELECT count(*) FROM claims")).scalar_one() == 0
    finally:
        database.dispose()


def test_a_postgresql_autocommit_write_is_committed_when_its_statement_returns(postgres_url):
    database, other = (Database(parse_database_url(postgres_url)) for _ in range(2))
    try:
        database.migrate(SCHEMA)
        with database.autocommit() as connection:
            connection.execute(text("INSERT INTO claims VALUES ('one statement', 1)"))
            with other.lookup() as elsewhere:  # another host sees it before this use ends
                count = elsewhere.execute(text("SELECT count(*) FROM claims")).scalar_one()
            assert count == 1
    finally:
        database.dispose()
        other.dispose()


def test_sqlite_refuses_statements_outside_a_transaction(tmp_path):
    database = Database(parse_database_url(f"sqlite:///{tmp_path / 'store.db'}"))
    try:
        with pytest.raises(ValueError, match="Only PostgreSQL"), database.autocommit():
            pass
    finally:
        database.dispose()


def test_on_postgresql_only_the_ledger_waits_for_the_wal_flush_at_commit(postgres_url):
    url = parse_database_url(postgres_url)
    stores, ledger = Database(url), Database(url, LEDGER_SETTINGS)
    try:
        for database, expected in ((stores, "off"), (ledger, "on")):
            with database.lookup() as connection:
                assert connection.execute(text("SHOW synchronous_commit")).scalar() == expected
    finally:
        stores.dispose()
        ledger.dispose()


def test_a_connection_left_idle_across_a_server_restart_is_replaced_not_failed(
    postgres_server, postgres_url, monkeypatch
):
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every reuse is "idle"
    database = Database(parse_database_url(postgres_url))
    try:
        with database.read() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
        postgres_server.restart()  # the pooled connection is now dead
        with database.lookup() as connection:
            assert connection.execute(text("SELECT 2")).scalar_one() == 2
        with database.write() as connection:  # and the replacement is transactional as ever
            assert connection.execute(text("SELECT 3")).scalar_one() == 3
    finally:
        database.dispose()
