"""The SMART stores on SQLite and PostgreSQL: what one host writes another reads, sealed, once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from app.database import Database, parse_database_url
from app.smart.pending import PendingAuthorization, PendingStore, digest
from app.smart.sessions import SmartSession, SmartSessionStore
from app.smart.token_cipher import TokenCipher

SHARED_KEY = "the-smart-token-key-every-host-shares"
RACERS = 16


class Host:
    """One Bedside host's view of the shared database: its own engine, its own stores."""

    def __init__(self, url: str, key: str = SHARED_KEY):
        self.database = Database(parse_database_url(url))
        cipher = TokenCipher(key)
        self.sessions = SmartSessionStore(self.database, cipher)
        self.pending = PendingStore(self.database, cipher)

    def rows(self, table: str) -> list[dict]:
        """Every row of a table as this host's engine returns it."""
        with self.database.read() as connection:
            return [
                dict(row._mapping) for row in connection.execute(text(f"SELECT * FROM {table}"))
            ]


@pytest.fixture
def hosts(database_url):
    """Hosts A and B on one database (two engines: nothing shared but the database)."""
    made = [Host(database_url), Host(database_url)]
    yield made
    for host in made:
        host.database.dispose()


def launched_session() -> SmartSession:
    """A session as a completed launch leaves it: both tokens, context, claims."""
    return SmartSession(
        issuer="https://ehr.example/fhir",
        client_id="bedside",
        token_endpoint="https://ehr.example/token",
        scope="launch openid fhirUser offline_access patient/*.rs",
        access_token="access-token-0123456789",
        refresh_token="refresh-token-9876543210",
        access_expires_at=1_765_000_000.123456,
        patient="sepsis-adult",
        encounter="sepsis-adult-ed-visit",
        fhir_user="Practitioner/dr-ed-okafor",
        need_patient_banner=True,
        app_context='{"view": "sepsis"}',
        fhir_context=[{"reference": "Encounter/sepsis-adult-ed-visit"}],
        smart_style_url="https://ehr.example/style.json",
        id_claims={"sub": "dr-ed-okafor", "fhirUser": "Practitioner/dr-ed-okafor"},
    )


def pending_authorization() -> PendingAuthorization:
    """An authorization request in flight."""
    return PendingAuthorization(
        issuer="https://ehr.example/fhir",
        client_id="bedside",
        redirect_uri="https://bedside.example/smart/callback",
        token_endpoint="https://ehr.example/token",
        jwks_uri="https://ehr.example/jwks",
        id_token_issuer="https://ehr.example",
        scope="launch openid fhirUser",
        code_verifier="a-pkce-verifier-of-enough-length-0123456789",
        nonce="a-nonce",
    )


def race(work, count: int = RACERS) -> list:
    """Run work(i) in `count` threads released together; return their results."""
    results: list = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_session_launched_on_host_a_is_read_whole_on_host_b(hosts):
    host_a, host_b = hosts
    session_id, stored = host_a.sessions.create(launched_session())
    assert host_b.sessions.load(session_id) == stored
    assert host_b.sessions.load(session_id).access_expires_at == 1_765_000_000.123456


def test_tokens_are_stored_sealed_as_the_same_text_on_both_engines(hosts):
    host_a, _ = hosts
    _, stored = host_a.sessions.create(launched_session())
    [row] = host_a.rows("smart_sessions")
    for name in ("access_token", "refresh_token"):
        assert isinstance(row[name], str) and row[name].startswith("v1.")
        assert getattr(stored, name) not in row[name]
        assert host_a.sessions.cipher.open(row[name], row=stored.session_key) == getattr(
            stored, name
        )
    host_a.pending.save("state-1", "browser-1", pending_authorization())
    [pending] = host_a.rows("smart_pending")
    assert pending["code_verifier"].startswith("v1.")
    assert pending_authorization().code_verifier not in pending["code_verifier"]


def test_host_b_with_another_key_ends_the_session_instead_of_failing(database_url, hosts):
    host_a, _ = hosts
    session_id, _ = host_a.sessions.create(launched_session())
    rekeyed = Host(database_url, key="a-key-host-b-was-given-by-mistake")
    try:
        assert rekeyed.sessions.load(session_id) is None
        assert rekeyed.rows("smart_sessions") == []  # ended: the user relaunches
    finally:
        rekeyed.database.dispose()


def test_refreshed_tokens_saved_by_host_b_are_read_by_host_a(hosts):
    host_a, host_b = hosts
    session_id, stored = host_a.sessions.create(launched_session())
    assert host_b.sessions.claim_refresh(stored.session_key)
    refreshed = SmartSession(
        **{**stored.__dict__, "access_token": "new-access", "refresh_token": "new-refresh"}
    )
    host_b.sessions.save_tokens(refreshed)
    assert host_a.sessions.load(session_id) == refreshed
    assert host_a.sessions.claim_refresh(stored.session_key)  # saving released the lock


def test_one_refresh_claim_wins_among_workers_of_both_hosts(hosts):
    _, stored = hosts[0].sessions.create(launched_session())
    claims = race(lambda index: hosts[index % 2].sessions.claim_refresh(stored.session_key))
    assert claims.count(True) == 1


def test_a_state_is_taken_once_even_by_two_hosts_at_once(hosts):
    host_a, _ = hosts
    host_a.pending.save("state-1", "browser-1", pending_authorization())
    taken = race(lambda index: hosts[index % 2].pending.take("state-1", "browser-1"))
    winners = [result for result in taken if result is not None]
    assert winners == [pending_authorization()]
    assert host_a.rows("smart_pending") == []


def test_a_callback_replayed_on_host_b_finds_the_state_used(hosts):
    host_a, host_b = hosts
    host_a.pending.save("state-1", "browser-1", pending_authorization())
    assert host_b.pending.take("state-1", "browser-1") == pending_authorization()
    assert host_a.pending.take("state-1", "browser-1") is None
    assert host_b.pending.take("state-1", "browser-1") is None


def test_a_pending_request_sealed_under_another_key_is_refused(database_url, hosts):
    host_a, _ = hosts
    host_a.pending.save("state-1", "browser-1", pending_authorization())
    rekeyed = Host(database_url, key="another-key")
    try:
        assert rekeyed.pending.take("state-1", "browser-1") is None
    finally:
        rekeyed.database.dispose()


def test_expired_sessions_and_requests_are_not_used_and_are_purged(hosts):
    host_a, host_b = hosts
    session_id, _ = host_a.sessions.create(launched_session())
    host_a.pending.save("old-state", "browser-1", pending_authorization())
    with host_a.database.write() as connection:
        past = {"past": time.time() - 1}
        connection.execute(text("UPDATE smart_sessions SET expires_at = :past"), past)
        connection.execute(text("UPDATE smart_pending SET expires_at = :past"), past)
    assert host_b.sessions.load(session_id) is None
    host_b.sessions.delete_key("another-session")  # any end of a session purges expired ones
    assert host_a.rows("smart_sessions") == []
    host_b.pending.save("new-state", "browser-1", pending_authorization())  # purges the old
    assert [row["state_hash"] for row in host_a.rows("smart_pending")] == [digest("new-state")]
    assert host_a.pending.take("old-state", "browser-1") is None
    assert host_a.pending.take("new-state", "browser-1") == pending_authorization()
