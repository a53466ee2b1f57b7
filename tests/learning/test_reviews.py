"""Tests for the fsrs review schedule (fixed datetimes, no fuzz)."""

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating

from app.learning.reviews import (
    ReviewKey,
    card_from_json,
    card_to_json,
    due_by_module,
    due_reviews,
    needs_review,
    rating_for,
    record_answer,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = ReviewKey("uri-antibiotics-adults", "q1")


@pytest.mark.parametrize(
    ("correct", "confidence", "rating"),
    [
        (False, "high", Rating.Again),
        (False, "low", Rating.Again),
        (True, "low", Rating.Hard),
        (True, "medium", Rating.Good),
        (True, None, Rating.Good),
        (True, 3, Rating.Easy),
    ],
)
def test_rating_for(correct, confidence, rating):
    assert rating_for(correct, confidence) is rating


def test_needs_review():
    assert needs_review(False, "high")
    assert needs_review(True, "low")
    assert not needs_review(True, "medium")
    assert not needs_review(True, "high")


def test_confident_right_answer_on_new_item_creates_no_card():
    assert record_answer({}, KEY, True, "high", T0) == {}


def test_wrong_answer_schedules_a_soon_review():
    cards = record_answer({}, KEY, False, "high", T0)
    card = cards[KEY]
    assert card.card_id == KEY.card_id()
    assert card.last_review == T0
    assert T0 < card.due <= T0 + timedelta(days=1)
    assert due_reviews(cards, T0) == []
    assert [d.key for d in due_reviews(cards, T0 + timedelta(days=1))] == [KEY]


def test_schedule_is_deterministic():
    first = record_answer({}, KEY, True, "low", T0)
    second = record_answer({}, KEY, True, "low", T0)
    assert card_to_json(first[KEY]) == card_to_json(second[KEY])


def test_later_confident_answers_push_the_review_out():
    cards = record_answer({}, KEY, False, "medium", T0)
    when = cards[KEY].due
    for _ in range(3):
        cards = record_answer(cards, KEY, True, "high", when)
        when = cards[KEY].due
    assert cards[KEY].due - T0 > timedelta(days=7)


def test_due_reviews_order_and_counts():
    other = ReviewKey("hfref-gdmt", "q2")
    cards = record_answer({}, KEY, False, "low", T0)
    cards = record_answer(cards, other, False, "low", T0 - timedelta(hours=1))
    due = due_reviews(cards, T0 + timedelta(days=2))
    assert [d.key for d in due] == [other, KEY]
    assert due_by_module(due) == {"hfref-gdmt": 1, "uri-antibiotics-adults": 1}


def test_card_round_trip():
    card = record_answer({}, KEY, False, "high", T0)[KEY]
    restored = card_from_json(card_to_json(card))
    assert card_to_json(restored) == card_to_json(card)
    assert restored.due == card.due
