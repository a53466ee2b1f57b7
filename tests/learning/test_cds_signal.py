"""Tests for the mastered-topics signal."""

from app.learning.cds_signal import mastered_topics
from app.learning.mastery import TopicMastery


def test_mastered_topics_threshold_and_minimum_answers():
    mastery = {
        "a": TopicMastery(0.8, 3),
        "b": TopicMastery(0.79, 9),
        "c": TopicMastery(0.99, 2),
    }
    assert mastered_topics(mastery) == {"a"}
    assert mastered_topics(mastery, threshold=0.7) == {"a", "b"}
    assert mastered_topics(mastery, min_answers=1) == {"a", "c"}
    assert mastered_topics({}) == frozenset()
