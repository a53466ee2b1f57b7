"""Tests for the learning store, on SQLite and on PostgreSQL."""

import json
import threading
from datetime import UTC, datetime

import pytest

from app.database import Database, parse_database_url
from app.learning.mastery import TopicMastery, update
from app.learning.profile_store import AnswerEvent, LearningStore
from app.learning.recommend import Profile
from app.learning.reviews import ReviewKey, card_to_json, record_answer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = ReviewKey("uri-antibiotics-adults", "q1")
HOSTS = 2
ANSWERS = 16


def test_round_trip_export_and_delete(database):
    store = LearningStore(database)
    profile = Profile("L1", "family-medicine", "ehr", ("hfref-gdmt",), "es")
    store.save_profile(profile, {"reminders": True})
    store.save_mastery("L1", {"hfref-gdmt": TopicMastery(0.4, 2)})
    cards = record_answer({}, KEY, False, "high", T0)
    store.save_cards("L1", cards)
    store.save_profile(Profile("L2"))

    assert store.profile("L1") == (profile, {"reminders": True})
    assert store.mastery("L1") == {"hfref-gdmt": TopicMastery(0.4, 2)}
    assert card_to_json(store.cards("L1")[KEY]) == card_to_json(cards[KEY])

    exported = store.export("L1")
    assert json.loads(json.dumps(exported)) == exported
    assert exported["profile"]["specialty_source"] == "ehr"
    assert exported["reviews"][0]["item_id"] == "q1"

    store.delete("L1")
    assert store.profile("L1") is None
    assert store.mastery("L1") == {}
    assert store.cards("L1") == {}
    assert store.export("L1")["profile"] is None
    assert store.profile("L2") is not None


def test_saving_again_replaces_the_rows(database):
    store = LearningStore(database)
    store.save_profile(Profile("L1", "cardiology"), {"reminders": True})
    store.save_profile(Profile("L1", "nephrology"), {})
    store.save_mastery("L1", {"b-topic": TopicMastery(0.4, 2), "a-topic": TopicMastery(0.1, 1)})
    store.save_mastery("L1", {"b-topic": TopicMastery(0.9, 5)})
    assert store.profile("L1") == (Profile("L1", "nephrology"), {})
    assert list(store.mastery("L1").items()) == [
        ("a-topic", TopicMastery(0.1, 1)),
        ("b-topic", TopicMastery(0.9, 5)),
    ]


def test_migrations_are_idempotent(database):
    LearningStore(database)
    store = LearningStore(database)
    assert store.export("nobody")["mastery"] == {}


def test_an_answer_is_applied_once_and_low_confidence_schedules_a_review(database):
    store = LearningStore(database)
    right_but_unsure = AnswerEvent("att-1", "uri-antibiotics-adults", "q1", True, "low", T0)
    assert store.apply_answer("L1", right_but_unsure)
    assert not store.apply_answer("L1", right_but_unsure)  # a retry changes nothing
    assert store.mastery("L1") == {"uri-antibiotics-adults": update(TopicMastery(), True, "low")}
    assert list(store.cards("L1")) == [KEY]
    sure = AnswerEvent("att-1", "uri-antibiotics-adults", "q2", True, "high", T0)
    assert store.apply_answer("L1", sure)
    assert store.mastery("L1")["uri-antibiotics-adults"].answers == 2
    assert list(store.cards("L1")) == [KEY]  # a confident right answer on a new item: no card


def test_delete_forgets_applied_answers_too(database):
    store = LearningStore(database)
    event = AnswerEvent("att-1", "hfref-gdmt", "q1", False, "medium", T0)
    store.apply_answer("L1", event)
    store.delete("L1")
    assert store.mastery("L1") == {} and store.cards("L1") == {}
    assert store.apply_answer("L1", event)  # nothing of the learner is left behind


@pytest.fixture
def hosts(database_url):
    """The learning stores of two hosts sharing one database (each with its own engine)."""
    databases = [Database(parse_database_url(database_url)) for _ in range(HOSTS)]
    yield [LearningStore(database) for database in databases]
    for database in databases:
        database.dispose()


def test_answers_recorded_at_once_through_two_hosts_are_all_counted(hosts):
    answers = [
        AnswerEvent(f"att-{n}", "hfref-gdmt", f"q{n % 3}", False, "medium", T0)
        for n in range(ANSWERS)
    ]
    applied = run_together(
        [lambda n=n: hosts[n % HOSTS].apply_answer("L1", answers[n]) for n in range(ANSWERS)]
    )
    expected = TopicMastery()
    for _ in range(ANSWERS):
        expected = update(expected, False, "medium")
    assert applied == [True] * ANSWERS
    assert hosts[0].mastery("L1") == {"hfref-gdmt": expected}
    assert {key.item_id for key in hosts[1].cards("L1")} == {"q0", "q1", "q2"}


def test_the_same_answer_retried_at_once_through_two_hosts_counts_once(hosts):
    event = AnswerEvent("att-1", "hfref-gdmt", "q1", True, "high", T0)
    applied = run_together(
        [lambda n=n: hosts[n % HOSTS].apply_answer("L1", event) for n in range(ANSWERS)]
    )
    assert applied.count(True) == 1
    assert hosts[0].mastery("L1") == {"hfref-gdmt": update(TopicMastery(), True, "high")}


def run_together(calls: list) -> list:
    """Run each call in its own thread, all released at once; return their results in order."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
