"""Tests for the SQLite learning store."""

import json
from datetime import UTC, datetime

from app.learning.mastery import TopicMastery, update
from app.learning.profile_store import AnswerEvent, LearningStore
from app.learning.recommend import Profile
from app.learning.reviews import ReviewKey, card_to_json, record_answer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = ReviewKey("uri-antibiotics-adults", "q1")


def test_round_trip_export_and_delete(tmp_path):
    store = LearningStore(tmp_path / "bedside.db")
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


def test_migrations_are_idempotent(tmp_path):
    LearningStore(tmp_path / "b.db")
    store = LearningStore(tmp_path / "b.db")
    assert store.export("nobody")["mastery"] == {}


def test_an_answer_is_applied_once_and_low_confidence_schedules_a_review(tmp_path):
    store = LearningStore(tmp_path / "bedside.db")
    right_but_unsure = AnswerEvent("att-1", "uri-antibiotics-adults", "q1", True, "low", T0)
    assert store.apply_answer("L1", right_but_unsure)
    assert not store.apply_answer("L1", right_but_unsure)  # a retry changes nothing
    assert store.mastery("L1") == {"uri-antibiotics-adults": update(TopicMastery(), True, "low")}
    assert list(store.cards("L1")) == [KEY]
    sure = AnswerEvent("att-1", "uri-antibiotics-adults", "q2", True, "high", T0)
    assert store.apply_answer("L1", sure)
    assert store.mastery("L1")["uri-antibiotics-adults"].answers == 2
    assert list(store.cards("L1")) == [KEY]  # a confident right answer on a new item: no card


def test_delete_forgets_applied_answers_too(tmp_path):
    store = LearningStore(tmp_path / "bedside.db")
    event = AnswerEvent("att-1", "hfref-gdmt", "q1", False, "medium", T0)
    store.apply_answer("L1", event)
    store.delete("L1")
    assert store.mastery("L1") == {} and store.cards("L1") == {}
    assert store.apply_answer("L1", event)  # nothing of the learner is left behind
