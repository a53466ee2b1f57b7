"""The tests' own PostgreSQL server: reachable, durable, one isolated database per test."""

from __future__ import annotations

import os
import stat
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from tests.support.postgres import PostgresServer, PostgresUnavailable, find_bindir


def query(url: str, statement: str) -> list[tuple]:
    """Run one statement in its own committed transaction; return the rows it yields."""
    with psycopg.connect(url) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def public_tables(url: str) -> set[str]:
    """The tables in a database's public schema."""
    rows = query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name for (name,) in rows}


def test_the_server_answers_on_loopback_as_the_superuser(postgres_url):
    [(user, address, encoding)] = query(
        postgres_url, "SELECT current_user, inet_server_addr(), pg_client_encoding()"
    )
    assert (user, str(address), encoding) == ("postgres", "127.0.0.1", "UTF8")


def test_durability_settings_are_on(postgres_url):
    settings = ("fsync", "synchronous_commit", "full_page_writes")
    values = {name: query(postgres_url, f"SHOW {name}")[0][0] for name in settings}
    assert values == dict.fromkeys(settings, "on")


def test_only_the_socket_and_loopback_are_trusted(postgres_url):
    rules = query(postgres_url, "SELECT type, address FROM pg_hba_file_rules")
    [(listening,)] = query(postgres_url, "SHOW listen_addresses")
    assert (sorted(rules, key=str), listening) == (
        [("host", "127.0.0.1"), ("local", None)],
        "127.0.0.1",
    )


def test_a_committed_write_survives_a_crash_and_restart(postgres_server, postgres_url):
    query(postgres_url, "CREATE TABLE credits (id int PRIMARY KEY, note text)")
    query(postgres_url, "INSERT INTO credits VALUES (1, 'acknowledged')")
    [(started_before,)] = query(postgres_url, "SELECT pg_postmaster_start_time()")

    postgres_server.restart("immediate")  # no shutdown checkpoint: recovery replays the WAL

    [(started_after,)] = query(postgres_url, "SELECT pg_postmaster_start_time()")
    assert started_after > started_before
    assert query(postgres_url, "SELECT id, note FROM credits") == [(1, "acknowledged")]


def test_fresh_databases_are_empty_and_isolated(postgres_server, postgres_url):
    other_name = f"test_{uuid.uuid4().hex[:16]}"
    other_url = postgres_server.create_database(other_name)
    try:
        assert public_tables(other_url) == set()
        query(postgres_url, "CREATE TABLE sessions (id int)")
        query(postgres_url, "INSERT INTO sessions VALUES (7)")
        assert public_tables(postgres_url) == {"sessions"}
        assert public_tables(other_url) == set()
    finally:
        postgres_server.drop_database(other_name)


def test_dropping_a_database_closes_connections_a_test_left_open(postgres_server):
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    with psycopg.connect(url, autocommit=True) as leftover:
        postgres_server.drop_database(name)
        with pytest.raises(psycopg.OperationalError):
            leftover.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(url).close()


def test_database_url_serves_each_engine(request, database_url):
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE exposures (id integer)"))
            connection.execute(sa.text("INSERT INTO exposures VALUES (42)"))
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT id FROM exposures")).scalar_one() == 42
    finally:
        engine.dispose()
    assert engine.dialect.name == request.node.callspec.params["database_url"]


def test_exit_stops_the_server_and_removes_its_directory():
    with PostgresServer() as server:
        url = server.url("postgres")
        directory = server.directory
        assert query(url, "SELECT 1") == [(1,)]
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert not directory.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2).close()


def test_the_newest_debian_version_is_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")  # no pg_config: fall back to the version folders
    for version in ("9", "16", "15"):
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        for program in ("initdb", "pg_ctl"):
            (bindir / program).touch()
    (tmp_path / "17" / "bin").mkdir(parents=True)  # a client-only install: no initdb

    assert find_bindir(tmp_path) == tmp_path / "16" / "bin"


def test_missing_binaries_name_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(PostgresUnavailable, match="apt-get install postgresql"):
        find_bindir(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root must hand the cluster to another user")
def test_under_root_the_cluster_belongs_to_an_unprivileged_user(postgres_server):
    owner = postgres_server.data_directory.stat().st_uid
    assert owner != 0
