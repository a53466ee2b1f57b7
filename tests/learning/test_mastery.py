"""Tests for the per-topic mastery rule."""

from datetime import UTC, datetime

import pytest

from app.learning.mastery import (
    MASTERED_AT,
    PRIOR,
    RATE,
    WEIGHTS,
    Observation,
    TopicMastery,
    mastery_from,
    normalize_confidence,
    observation_from_answer,
    overall,
    update,
)
from app.ledger.models import Answer


def test_weights_keep_scores_in_range():
    assert max(WEIGHTS.values()) * RATE <= 1


def test_correct_moves_up_wrong_moves_down():
    start = TopicMastery()
    assert update(start, True, "medium").score == pytest.approx(PRIOR + RATE * (1 - PRIOR))
    assert update(start, False, "medium").score < PRIOR


def test_confident_wrong_counts_more_than_unsure_wrong():
    start = TopicMastery()
    assert update(start, False, "high").score < update(start, False, "low").score


def test_unsure_right_counts_less_than_sure_right():
    start = TopicMastery()
    assert update(start, True, "low").score < update(start, True, "high").score


def test_bounds_hold_at_extremes():
    assert update(TopicMastery(1.0, 5), True, "high").score == 1.0
    assert update(TopicMastery(0.0, 5), False, "high").score == 0.0
    score = TopicMastery()
    for _ in range(50):
        score = update(score, False, "high")
    assert 0.0 <= score.score < 0.01


def test_mastered_needs_score_and_enough_answers():
    assert not TopicMastery(0.95, 2).mastered
    assert TopicMastery(MASTERED_AT, 3).mastered
    assert not TopicMastery(MASTERED_AT - 0.001, 10).mastered


def test_three_confident_right_answers_master_a_topic():
    result = mastery_from([Observation("t", True, "high")] * 3)
    assert result["t"].answers == 3
    assert result["t"].mastered


def test_mastery_from_is_per_topic_and_continues_from_start():
    result = mastery_from(
        [Observation("a", True), Observation("b", False)], {"a": TopicMastery(0.9, 4)}
    )
    assert result["a"].answers == 5
    assert result["b"].answers == 1
    assert result["b"].score < PRIOR


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "medium"), ("", "medium"), (1, "low"), (3, "high"), ("High", "high"), ("2", "medium")],
)
def test_normalize_confidence(value, expected):
    assert normalize_confidence(value) == expected


@pytest.mark.parametrize("value", [0, 4, "very", True])
def test_normalize_confidence_rejects_unknown(value):
    with pytest.raises(ValueError):
        normalize_confidence(value)


def test_observation_from_ledger_answer():
    when = datetime(2026, 1, 5, tzinfo=UTC)
    answer = Answer("att", "q1", {"choice": "b", "confidence": "high"}, when, correct=False)
    assert observation_from_answer("mod", answer) == Observation("mod", False, "high")
    step = Answer("att", "poc", {}, when, correct=None)
    assert observation_from_answer("mod", step) is None


def test_overall():
    assert overall({}) is None
    assert overall({"a": TopicMastery(0.2, 1), "b": TopicMastery(0.6, 2)}) == pytest.approx(0.4)
