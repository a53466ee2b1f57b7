"""Tests for the mastered-topics signal."""

from app.learning.cds_signal import mastered_topics
from app.learning.mastery import MASTERED_AT, MIN_ANSWERS, TopicMastery


def test_mastered_topics_need_the_threshold_and_enough_answers():
    mastery = {
        "a": TopicMastery(MASTERED_AT, MIN_ANSWERS),
        "b": TopicMastery(MASTERED_AT - 0.01, MIN_ANSWERS + 6),
        "c": TopicMastery(0.99, MIN_ANSWERS - 1),
    }
    assert mastered_topics(mastery) == {"a"}
    assert mastered_topics({}) == frozenset()
