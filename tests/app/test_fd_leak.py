"""Open file descriptors stay bounded: stores close their connections, whatever the threads do.

In the style of datasette's tests/test_fd_leak.py: the real app on a threaded werkzeug server
(one thread per request, as `flask run` and the test live servers run it), hundreds of requests
that open store connections, and the process's descriptor count checked before and after.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from app import create_app
from app.database import Database, sqlite_path_url
from app.db import STORE_SETTINGS, ThreadConnections, close_stores, connect
from app.devtools.smart_auth_store import DemoAuthStore
from app.ledger.store import SqlLedgerStore, ledger_database
from app.settings import REPO_ROOT
from app.smart.sessions import COOKIE_NAME
from tests.ledger.helpers import ISSUER, KEY
from tests.support.live_server import LiveServer
from tests.support.smart_sessions import sign_in

REQUESTS = 300
SHORT_LIVED_THREADS = 200
ALLOWED_GROWTH = 20  # a few request threads may still be finishing when we count
PATIENT_VIEW = (
    REPO_ROOT / "fhir_fixtures/cds_requests/hfref-gdmt/fires-demo-hfref-no-beta-blocker.json"
)


def open_descriptors() -> int:
    """Count this process's open file descriptors, once unreachable objects are collected."""
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def threaded_app(instance_path):
    """The real app (CDS auth off: the calls need no JWT) with a stored SMART session."""
    config = {"TESTING": True, "DATABASE": str(instance_path / "bedside.db"), "CDS_AUTH": "off"}
    app = create_app(config, instance_path=instance_path)
    yield app
    close_stores(app)


def signed_in_browser(app) -> requests.Session:
    """An HTTP client carrying the cookie of a stored SMART session."""
    session_id = sign_in(app, app.test_client(), "Practitioner/fd-leak", ISSUER)
    browser = requests.Session()
    browser.cookies.set(COOKIE_NAME, session_id)
    return browser


def touch_every_request_store(base_url: str, browser: requests.Session, number: int) -> None:
    """Alternate a CDS hook call (CDS store, mastery) and the transcript (sessions, ledger)."""
    if number % 2:
        hook = json.loads(PATIENT_VIEW.read_text())["request"]
        response = browser.post(f"{base_url}/cds-services/bedside-patient-view", json=hook)
        assert response.status_code == 200
    else:
        response = browser.get(f"{base_url}/app/transcript")
        assert response.status_code == 200
        assert "<title>" in response.text


def test_descriptors_stay_bounded_under_a_threaded_server(threaded_app):
    browser = signed_in_browser(threaded_app)
    with LiveServer(threaded_app) as server:
        for number in range(10):  # warm up: lazily opened files, the HTTP keep-alive socket
            touch_every_request_store(server.url, browser, number)
        before = open_descriptors()
        for number in range(REQUESTS):
            touch_every_request_store(server.url, browser, number)
        grown = open_descriptors() - before
    assert grown < ALLOWED_GROWTH, f"{grown} descriptors more after {REQUESTS} requests"


@pytest.fixture
def wal_database(tmp_path) -> Path:
    """A database file already in WAL mode, as every store's migrations leave it.

    (Twenty threads switching a brand-new file to WAL at once can get "database is locked":
    the journal-mode change does not wait on the busy timeout. Stores never do that.)
    """
    path = tmp_path / "store.db"
    connect(path, STORE_SETTINGS).close()
    return path


def test_close_closes_the_connection_of_every_thread(wal_database):
    connections = ThreadConnections(wal_database, STORE_SETTINGS)
    opened, release = [connections.get()], threading.Event()

    def hold_a_connection() -> None:
        opened.append(connections.get())
        release.wait()

    threads = [threading.Thread(target=hold_a_connection) for _ in range(4)]
    for thread in threads:
        thread.start()
    while len(opened) < 5:
        release.wait(0.01)
    connections.close()
    release.set()
    for thread in threads:
        thread.join()
    for connection in opened:
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")
    assert connections.get().execute("SELECT 1").fetchone() == (1,)  # a new one after close
    connections.close()


def test_connections_of_ended_threads_are_closed(wal_database):
    connections = ThreadConnections(wal_database, STORE_SETTINGS)
    opened: list[sqlite3.Connection] = []

    def use_once() -> None:
        connection = connections.get()
        connection.execute("SELECT 1")
        opened.append(connection)

    run_short_lived_threads(use_once)
    assert len(set(map(id, opened))) == SHORT_LIVED_THREADS
    for connection in opened:
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")


def test_short_lived_threads_writing_the_ledger_leave_no_connection_open(tmp_path):
    store = SqlLedgerStore(ledger_database(tmp_path / "bedside.db"), KEY)
    learners: list[str] = []
    before = open_descriptors()

    def write_from_short_lived_threads() -> None:
        run_short_lived_threads(  # 20 at a time: their writes share group commits
            lambda: learners.append(store.ensure_learner(ISSUER, f"Practitioner/{uuid.uuid4()}"))
        )

    write_from_short_lived_threads()
    write_from_short_lived_threads()
    # the engine's pool keeps at most pool_size idle connections, whatever the threads (400 here)
    assert open_descriptors() <= before + pooled_descriptors(store.database)
    assert all(store.learner(learner) for learner in set(learners))
    assert len(set(learners)) == 2 * SHORT_LIVED_THREADS
    store.close()
    assert open_descriptors() <= before


STORES = {
    "demo auth": DemoAuthStore,
}


@pytest.mark.parametrize("make_store", STORES.values(), ids=STORES.keys())
def test_every_store_closes_what_its_threads_opened(tmp_path, make_store):
    store = make_store(tmp_path / "bedside.db")
    baseline = open_descriptors()
    run_short_lived_threads(lambda: store._connection().execute("SELECT 1"), count=20)
    assert open_descriptors() <= baseline
    connection = store._connection()
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("SELECT 1")


def test_the_shared_database_pools_what_short_lived_threads_use(tmp_path):
    database = Database(sqlite_path_url(tmp_path / "bedside.db"))
    baseline = open_descriptors()

    def read_once() -> None:
        with database.read() as connection:
            connection.execute(text("SELECT 1"))

    run_short_lived_threads(read_once)
    run_short_lived_threads(read_once)
    # reused from the pool (at most pool_size kept), not one per thread (400 here)
    assert open_descriptors() <= baseline + pooled_descriptors(database)
    database.dispose()
    assert open_descriptors() <= baseline


def test_the_app_closes_every_store_it_opened(instance_path):
    baseline = open_descriptors()
    config = {"TESTING": True, "DEMO": True, "DATABASE": str(instance_path / "bedside.db")}
    app = create_app(config, instance_path=instance_path)
    stores = app.extensions["bedside_stores"]
    assert {type(store) for store in stores} == {
        SqlLedgerStore,
        DemoAuthStore,
        Database,
    }
    for store in stores:
        open_a_connection(store)
    close_stores(app)
    assert open_descriptors() <= baseline


def pooled_descriptors(database: Database) -> int:
    """Descriptors a full pool of idle SQLite connections may hold (a connection kept per thread
    would hold hundreds: the tests run 400 threads)."""
    # 4 per connection (measured); one connection of slack for an overflow one still closing
    return 4 * (database.engine.pool.size() + 1)


def open_a_connection(store) -> None:
    """Make a store (or the shared Database) open a connection, as a request would."""
    if isinstance(store, Database | SqlLedgerStore):  # the ledger keeps a Database of its own
        database = store if isinstance(store, Database) else store.database
        with database.read() as connection:
            connection.execute(text("SELECT 1"))
    else:
        store._connection().execute("SELECT 1")


def run_short_lived_threads(work, count: int = SHORT_LIVED_THREADS, at_once: int = 20) -> None:
    """Run work in `count` threads, `at_once` alive together; wait for all to end."""
    for start in range(0, count, at_once):
        threads = [threading.Thread(target=work) for _ in range(min(at_once, count - start))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
