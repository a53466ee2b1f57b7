"""SMART tokens are sealed at rest, their files are owner-only, and a restart keeps sessions."""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlite_utils import Database

from app.db import close_stores
from app.smart import sessions as smart_sessions
from app.smart.sessions import COOKIE_NAME, hash_session_id
from app.smart.token_cipher import TokenCipher, UnreadableToken
from tests.smart.conftest import build_demo_app
from tests.smart.helpers import ISS, ehr_launch, new_launch, sessions_rows

TOKEN_PATH = "/demo-ehr/auth/token"
PLAINTEXT_TOKEN = "plaintext-access-token-from-an-older-version-0123456789"


def database_bytes(database: Path) -> bytes:
    """The database file and its write-ahead log and shared-memory index, as raw bytes."""
    suffixes = ("", "-wal", "-shm")
    files = [Path(f"{database}{suffix}") for suffix in suffixes]
    return b"".join(path.read_bytes() for path in files if path.exists())


def secrets_sent(transport) -> list[str]:
    """Every access and refresh token issued to Bedside, and every PKCE verifier it sent."""
    found = []
    for response in transport.responses_from(TOKEN_PATH):
        token = response.json()
        found += [token["access_token"], token.get("refresh_token")]
    for request in transport.requests_to(TOKEN_PATH):
        found += parse_qs(request.body).get("code_verifier", [])
    return [value for value in found if value]


def mode(path: Path) -> int:
    """A file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


def test_no_token_or_verifier_is_in_the_database_file(browser, auth_server, demo_app, transport):
    ehr_launch(browser, auth_server)
    auth_server.store.revoke_access_tokens()  # the next read refreshes: new tokens are stored
    assert browser.get("/app/").status_code == 200
    secrets = secrets_sent(transport)
    assert len(secrets) >= 5  # two access tokens, two refresh tokens, one verifier
    raw = database_bytes(Path(demo_app.config["DATABASE"]))
    for secret in secrets:
        assert secret.encode() not in raw
    [row] = sessions_rows(demo_app)
    assert row["access_token"].startswith("v1.") and row["refresh_token"].startswith("v1.")


def test_a_pending_authorization_stores_no_verifier(browser, auth_server, demo_app):
    launch = browser.get(
        "/smart/launch",
        query_string={"iss": ISS, "launch": new_launch(auth_server)},
    )
    assert launch.status_code == 302
    connection = sqlite3.connect(demo_app.config["DATABASE"])
    [(verifier,)] = connection.execute("SELECT code_verifier FROM smart_pending").fetchall()
    connection.close()
    assert verifier.startswith("v1.")
    assert ehr_launch(browser, auth_server).callback.status_code == 302  # sealed ones still work


def test_database_wal_and_key_files_are_owner_only(browser, auth_server, demo_app, instance_path):
    ehr_launch(browser, auth_server)
    database = Path(demo_app.config["DATABASE"])
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}.lock")]
    files.append(instance_path / "smart_token_key")
    for path in files:
        assert path.exists(), path
        assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}"


def test_a_session_survives_a_restart_with_the_same_key(instance_path, monkeypatch):
    first = build_demo_app(instance_path, monkeypatch)
    browser = first.test_client()
    ehr_launch(browser, first.extensions["demo_auth"])
    cookie = browser.get_cookie(COOKIE_NAME).value
    close_stores(first)
    restarted = build_demo_app(instance_path, monkeypatch)
    try:
        client = restarted.test_client()
        client.set_cookie(COOKIE_NAME, cookie)
        assert client.get("/app/").status_code == 200
    finally:
        close_stores(restarted)


def test_another_key_ends_the_session_instead_of_failing(instance_path, monkeypatch):
    first = build_demo_app(instance_path, monkeypatch)
    browser = first.test_client()
    ehr_launch(browser, first.extensions["demo_auth"])
    cookie = browser.get_cookie(COOKIE_NAME).value
    close_stores(first)
    rekeyed = build_demo_app(instance_path, monkeypatch, SMART_TOKEN_KEY="a-different-key")
    try:
        client = rekeyed.test_client()
        client.set_cookie(COOKIE_NAME, cookie)
        page = client.get("/app/")
        assert page.status_code == 401
        assert "Open Bedside from your EHR" in page.get_data(as_text=True)
        assert sessions_rows(rekeyed) == []
    finally:
        close_stores(rekeyed)


def plaintext_session(session_id: str) -> dict:
    """A smart_sessions row as versions before sealing wrote it."""
    return {
        "session_key": hash_session_id(session_id),
        "issuer": "http://localhost/fhir",
        "client_id": "bedside-demo",
        "token_endpoint": "http://localhost/demo-ehr/auth/token",
        "scope": "launch patient/*.rs",
        "access_token": PLAINTEXT_TOKEN,
        "refresh_token": None,
        "patient": "sepsis-adult",
        "need_patient_banner": 1,
        "fhir_context": "[]",
        "id_claims": "{}",
        "expires_at": time.time() + 3600,
    }


def test_plaintext_sessions_from_before_are_dropped_at_upgrade(instance_path, monkeypatch):
    database = instance_path / "bedside.db"
    instance_path.mkdir(parents=True, exist_ok=True)
    old = Database(database)
    smart_sessions.migrations.apply(old, stop_before="drop_plaintext_sessions")
    old["smart_sessions"].insert(plaintext_session("old-cookie"))
    old.close()
    assert PLAINTEXT_TOKEN.encode() in database_bytes(database)
    app = build_demo_app(instance_path, monkeypatch)
    try:
        assert sessions_rows(app) == []
        client = app.test_client()
        client.set_cookie(COOKIE_NAME, "old-cookie")
        assert client.get("/app/").status_code == 401
    finally:
        close_stores(app)
    assert PLAINTEXT_TOKEN.encode() not in database_bytes(database)


def test_a_plaintext_row_written_later_ends_that_session(demo_app):
    connection = sqlite3.connect(demo_app.config["DATABASE"])
    with connection:
        # in the browser group the cookie names, as this version finds launches
        row = plaintext_session("late-cookie") | {"browser_key": hash_session_id("late-cookie")}
        marks = ", ".join("?" for _ in row)
        connection.execute(
            f"INSERT INTO smart_sessions ({', '.join(row)}) VALUES ({marks})", tuple(row.values())
        )
    connection.close()
    client = demo_app.test_client()
    client.set_cookie(COOKIE_NAME, "late-cookie")
    assert client.get("/app/").status_code == 401
    assert sessions_rows(demo_app) == []


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_sqlite_gives_its_side_files_the_main_files_mode(demo_app, suffix):
    database = Path(demo_app.config["DATABASE"])
    assert mode(database) == 0o600
    assert mode(Path(f"{database}{suffix}")) == 0o600


def test_a_sealed_token_opens_only_in_its_own_row_and_under_its_own_key():
    cipher = TokenCipher("instance-key")
    sealed = cipher.seal("an-access-token", row="row-a")
    assert cipher.open(sealed, row="row-a") == "an-access-token"
    assert sealed != cipher.seal("an-access-token", row="row-a")  # a fresh nonce every time
    with pytest.raises(UnreadableToken):
        cipher.open(sealed, row="row-b")  # copied into another session's row
    with pytest.raises(UnreadableToken):
        TokenCipher("another-key").open(sealed, row="row-a")
    with pytest.raises(UnreadableToken):
        cipher.open(sealed[:-4] + "AAAA", row="row-a")
