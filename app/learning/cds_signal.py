"""The learning signal the CDS service may use: topics (module ids) this learner has mastered."""

from __future__ import annotations

from collections.abc import Mapping

from app.learning.mastery import MASTERED_AT, MIN_ANSWERS, TopicMastery


def mastered_topics(
    mastery: Mapping[str, TopicMastery],
    threshold: float = MASTERED_AT,
    min_answers: int = MIN_ANSWERS,
) -> frozenset[str]:
    """Module ids with a score at or above threshold on at least min_answers answers."""
    return frozenset(
        topic
        for topic, value in mastery.items()
        if value.score >= threshold and value.answers >= min_answers
    )
