"""The delivery store on SQLite and PostgreSQL: sealed addresses, claims once, single-use tokens."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from app.database import Database, parse_database_url
from app.delivery.store import DIGEST, REVIEW, DeliveryStore, Preferences, TokenRefused

KEY = "store-test-key"
NOW, LATER = "2026-12-07T10:00:00+00:00", "2026-12-08T11:00:00+00:00"
CUTOFF = "2026-12-06T10:00:00+00:00"  # a day before NOW: the daily cap allows one
CARD = ("af-anticoagulation", "q1", "2026-12-06T09:00:00+00:00")
ADDRESS = "Dr.Okafor@Example.org"


@pytest.fixture
def store(database):
    """A delivery store with one confirmed subscription (learner-1)."""
    made = DeliveryStore(database, KEY)
    made.confirm(made.subscribe("learner-1", ADDRESS, Preferences(language="es"), NOW))
    return made


def test_the_address_is_sealed_at_rest_and_opened_for_its_learner(store, database):
    with database.read() as connection:
        stored = connection.execute(text("SELECT address FROM delivery_subscriptions")).scalar()
    assert ADDRESS not in stored and ADDRESS.lower() not in stored
    found = store.subscription("learner-1")
    assert (found.address, found.status, found.preferences.language) == (ADDRESS, "active", "es")


def test_a_subscription_waits_for_its_confirmation(database):
    store = DeliveryStore(database, KEY)
    nonce = store.subscribe("learner-2", "b@example.org", Preferences(), NOW)
    assert store.active() == []
    assert store.confirm("not-the-nonce") is None
    assert store.confirm(nonce) == "learner-2"
    assert [s.learner_id for s in store.active()] == ["learner-2"]


def test_a_card_is_claimed_once_and_the_cap_holds_the_next(store):
    first = store.claim("learner-1", REVIEW, CARD, NOW, CUTOFF)
    again = store.claim("learner-1", REVIEW, CARD, LATER, NOW)
    other = ("af-anticoagulation", "q2", CARD[2])
    capped = store.claim("learner-1", REVIEW, other, NOW, CUTOFF)
    next_day = store.claim("learner-1", REVIEW, other, LATER, NOW)
    assert first is not None and next_day is not None
    assert (again, capped) == (None, None)
    assert store.sent_cards("learner-1") == {CARD, other}


def test_claims_through_two_hosts_at_once_give_the_card_to_one(database_url, store):
    hosts = [DeliveryStore(Database(parse_database_url(database_url)), KEY) for _ in range(4)]
    start = threading.Barrier(len(hosts))
    claims = []

    def claim(host: DeliveryStore) -> None:
        start.wait()
        claims.append(host.claim("learner-1", REVIEW, CARD, NOW, CUTOFF))

    threads = [threading.Thread(target=claim, args=(host,)) for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for host in hosts:
        host.database.dispose()
    assert len([c for c in claims if c is not None]) == 1


def test_a_released_claim_can_be_claimed_again(store):
    claim = store.claim("learner-1", REVIEW, CARD, NOW, CUTOFF)
    store.release(claim)
    assert store.subscription("learner-1").last_sent_at is None
    assert store.claim("learner-1", REVIEW, CARD, NOW, CUTOFF) is not None


def test_the_digest_has_its_own_weekly_slot(store):
    assert store.claim("learner-1", REVIEW, CARD, NOW, CUTOFF) is not None
    assert store.claim("learner-1", DIGEST, ("", "", NOW), NOW, CUTOFF) is not None
    assert store.claim("learner-1", DIGEST, ("", "", LATER), LATER, CUTOFF) is None


def test_an_answer_token_is_spent_once_and_refused_after_expiry(store):
    token = store.issue_token("learner-1", *CARD[:2], expires_at=LATER)
    expired = store.issue_token("learner-1", *CARD[:2], expires_at=NOW)
    assert store.use_token(token, NOW).module_id == CARD[0]
    with pytest.raises(TokenRefused, match="used"):
        store.use_token(token, NOW)
    with pytest.raises(TokenRefused, match="expired"):
        store.token(expired, NOW)
    with pytest.raises(TokenRefused, match="unknown"):
        store.use_token("no-such-token", NOW)


def test_a_bounce_suppresses_the_address_whatever_its_case(store):
    assert store.suppress(" dr.okafor@example.org ", "bounce", NOW) == 1
    assert store.is_suppressed(ADDRESS)
    assert store.active() == []
    assert store.subscription("learner-1").status == "stopped"


def test_unsubscribe_by_nonce_stops_sending(store):
    nonce = store.subscription("learner-1").nonce
    assert store.unsubscribe(nonce) == "learner-1"
    assert store.active() == []


def test_export_and_delete_cover_the_learners_rows(store):
    store.claim("learner-1", REVIEW, CARD, NOW, CUTOFF)
    store.issue_token("learner-1", *CARD[:2], expires_at=LATER)
    data = store.export("learner-1")
    assert data["subscription"]["address"] == ADDRESS
    assert [m["item_id"] for m in data["messages"]] == ["q1"]
    store.delete("learner-1")
    assert store.export("learner-1") == {"subscription": None, "messages": []}
    with store.database.read() as connection:
        left = connection.execute(text("SELECT COUNT(*) FROM delivery_tokens")).scalar()
    assert left == 0


def test_migrations_are_idempotent(database):
    DeliveryStore(database, KEY)
    assert DeliveryStore(database, KEY).active() == []


def test_new_settings_for_the_same_address_keep_it_confirmed_and_its_links(store):
    nonce = store.subscription("learner-1").nonce
    assert store.subscribe("learner-1", ADDRESS.lower(), Preferences(min_hours=168), LATER) == nonce
    kept = store.subscription("learner-1")
    assert (kept.status, kept.preferences.min_hours) == ("active", 168)


def test_a_new_address_must_be_confirmed_and_gets_new_links(store):
    nonce = store.subscription("learner-1").nonce
    assert store.subscribe("learner-1", "new@example.org", Preferences(), LATER) != nonce
    assert store.subscription("learner-1").status == "pending"
    assert store.unsubscribe(nonce) is None  # a link mailed to the old address


def test_confirmation_mails_are_limited_per_learner_and_per_address(store):
    day_ago, hour_ago = "2026-12-06T10:00:00+00:00", "2026-12-07T09:00:00+00:00"
    take = store.take_confirmation_slot

    assert take("learner-2", "a@example.org", NOW, day_ago, hour_ago)
    assert not take("learner-3", " A@example.org", NOW, day_ago, hour_ago)  # same address
    assert take("learner-2", "b@example.org", NOW, day_ago, hour_ago)
    assert take("learner-2", "c@example.org", NOW, day_ago, hour_ago)
    assert not take("learner-2", "d@example.org", NOW, day_ago, hour_ago)  # 3 a day
    later = ("2026-12-08T10:00:01+00:00", "2026-12-08T09:00:01+00:00")
    assert take("learner-2", "a@example.org", LATER, *later)  # a day on, both limits reset


@pytest.fixture
def postgres_hosts(postgres_url):
    """Eight hosts' delivery stores on one PostgreSQL database, closed afterwards."""
    hosts = [DeliveryStore(Database(parse_database_url(postgres_url)), KEY) for _ in range(8)]
    yield hosts
    for host in hosts:
        host.database.dispose()


def at_once(hosts: list[DeliveryStore], call) -> list:
    """Run `call(host, n)` on every host in its own thread, released together; the results."""
    start = threading.Barrier(len(hosts))
    results = []

    def run(host: DeliveryStore, n: int) -> None:
        start.wait()
        results.append(call(host, n))

    threads = [threading.Thread(target=run, args=(h, n)) for n, h in enumerate(hosts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_opt_ins_on_postgresql_keep_both_confirmation_limits(postgres_hosts):
    day_ago, hour_ago = "2026-12-06T10:00:00+00:00", "2026-12-07T09:00:00+00:00"

    def same_learner(host, n):
        return host.take_confirmation_slot("learner-2", f"{n}@example.org", NOW, day_ago, hour_ago)

    def same_address(host, n):
        return host.take_confirmation_slot(f"other-{n}", "x@example.org", NOW, day_ago, hour_ago)

    for _ in range(3):  # a few rounds, each from a clean table, so a lost race would show
        assert sum(at_once(postgres_hosts, same_learner)) == 3
        assert sum(at_once(postgres_hosts, same_address)) == 1
        with postgres_hosts[0].database.write() as connection:
            connection.execute(text("DELETE FROM delivery_confirmations"))


def test_notices_are_claimed_once_and_the_notice_slot_has_its_own_cap(store):
    assert store.claim("learner-1", REVIEW, CARD, NOW, CUTOFF) is not None  # a question today
    first = store.claim_notices("learner-1", ["n1", "n2"], NOW, CUTOFF)
    assert first is not None and first.notice_ids == ("n1", "n2")
    assert store.claim_notices("learner-1", ["n3"], NOW, CUTOFF) is None  # one digest a day
    assert store.claim_notices("learner-1", ["n1", "n2"], LATER, NOW) is None  # all mailed
    assert store.claim_notices("learner-1", ["n2", "n3"], LATER, NOW).notice_ids == ("n3",)
    assert store.mailed_notices("learner-1", CUTOFF) == {"n1", "n2", "n3"}


def test_a_released_notice_digest_gives_its_notices_and_its_slot_back(store):
    claim = store.claim_notices("learner-1", ["n1"], NOW, CUTOFF)
    store.release(claim)
    assert store.mailed_notices("learner-1", CUTOFF) == set()
    assert store.subscription("learner-1").last_notice_at is None
    assert store.claim_notices("learner-1", ["n1"], NOW, CUTOFF) is not None


def test_notice_digests_through_four_hosts_at_once_go_out_once(database_url, store):
    hosts = [DeliveryStore(Database(parse_database_url(database_url)), KEY) for _ in range(4)]
    claims = at_once(hosts, lambda host, n: host.claim_notices("learner-1", ["n1"], NOW, CUTOFF))
    for host in hosts:
        host.database.dispose()
    assert len([c for c in claims if c is not None]) == 1


def test_the_notices_choice_is_kept_exported_and_deleted_with_the_claims(store):
    store.subscribe("learner-1", ADDRESS, Preferences(notices=True), LATER)
    assert store.subscription("learner-1").preferences.notices
    store.claim_notices("learner-1", ["n1"], NOW, CUTOFF)
    assert store.export("learner-1")["subscription"]["notices"] == 1
    store.delete("learner-1")
    assert store.mailed_notices("learner-1", CUTOFF) == set()


def test_old_notice_claims_are_purged_and_no_longer_read_as_mailed(store):
    store.claim_notices("learner-1", ["n1"], NOW, CUTOFF)
    store.claim_notices("learner-1", ["n2"], LATER, NOW)
    assert store.mailed_notices("learner-1", LATER) == set()  # only claims after `since`
    assert store.purge_notice_claims(LATER) == 1  # n1, claimed before LATER
    assert store.mailed_notices("learner-1", CUTOFF) == {"n2"}
