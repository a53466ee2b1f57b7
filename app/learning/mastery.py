"""Per-topic mastery from answers and stated confidence, by a transparent update rule.

Rule (one answer on a topic; a topic is a module id):

    mastery <- mastery + RATE * weight * (target - mastery)

target is 1 for a correct answer and 0 for a wrong one. The weight depends on the learner's stated
confidence: a confident wrong answer moves mastery down the most (a misconception), a lucky low-
confidence right answer moves it up the least. Mastery starts at PRIOR and always stays in [0, 1]
because RATE * weight <= 1. A topic counts as mastered only with MASTERED_AT or more and at least
MIN_ANSWERS answers, so one lucky answer never hides a topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CONFIDENCE_LEVELS = ("low", "medium", "high")
DEFAULT_CONFIDENCE = "medium"
PRIOR = 0.5
RATE = 0.3
MASTERED_AT = 0.8
MIN_ANSWERS = 3

# (correct, confidence) -> weight; RATE * max weight must stay <= 1.
WEIGHTS: dict[tuple[bool, str], float] = {
    (True, "low"): 0.5,
    (True, "medium"): 1.0,
    (True, "high"): 1.0,
    (False, "low"): 1.0,
    (False, "medium"): 1.5,
    (False, "high"): 2.0,
}


@dataclass(frozen=True)
class TopicMastery:
    """A topic's mastery score in [0, 1] and how many answers it rests on."""

    score: float = PRIOR
    answers: int = 0

    @property
    def mastered(self) -> bool:
        """At least MASTERED_AT on at least MIN_ANSWERS answers."""
        return self.score >= MASTERED_AT and self.answers >= MIN_ANSWERS

    def as_dict(self) -> dict:
        """Plain JSON-ready form."""
        return {"score": self.score, "answers": self.answers, "mastered": self.mastered}


@dataclass(frozen=True)
class Observation:
    """One answer on a topic: right or wrong, with the learner's stated confidence."""

    topic: str
    correct: bool
    confidence: str = DEFAULT_CONFIDENCE


def normalize_confidence(value: object) -> str:
    """Accept low/medium/high (any case) or 1-3; anything missing means medium."""
    if value is None or value == "":
        return DEFAULT_CONFIDENCE
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3:
        return CONFIDENCE_LEVELS[value - 1]
    text = str(value).strip().lower()
    if text in CONFIDENCE_LEVELS:
        return text
    if text in {"1", "2", "3"}:
        return CONFIDENCE_LEVELS[int(text) - 1]
    raise ValueError(f"confidence {value!r} must be low, medium, high or 1-3")


def update(current: TopicMastery, correct: bool, confidence: object = None) -> TopicMastery:
    """Apply one answer to a topic's mastery by the documented rule."""
    weight = WEIGHTS[(bool(correct), normalize_confidence(confidence))]
    target = 1.0 if correct else 0.0
    score = current.score + RATE * weight * (target - current.score)
    return TopicMastery(score=min(1.0, max(0.0, score)), answers=current.answers + 1)


def mastery_from(
    observations: Iterable[Observation], start: Mapping[str, TopicMastery] | None = None
) -> dict[str, TopicMastery]:
    """Fold observations (oldest first) into per-topic mastery, starting from start if given."""
    result = dict(start or {})
    for obs in observations:
        result[obs.topic] = update(
            result.get(obs.topic, TopicMastery()), obs.correct, obs.confidence
        )
    return result


def observation_from_answer(topic: str, answer) -> Observation | None:
    """Turn a ledger Answer into an Observation (confidence from response['confidence']).

    Answers without a right/wrong verdict (e.g. point-of-care steps) give None.
    """
    if answer.correct is None:
        return None
    confidence = normalize_confidence(answer.response.get("confidence"))
    return Observation(topic=topic, correct=bool(answer.correct), confidence=confidence)


def overall(mastery: Mapping[str, TopicMastery]) -> float | None:
    """Mean score over answered topics, or None when nothing has been answered."""
    scores = [m.score for m in mastery.values() if m.answers]
    return sum(scores) / len(scores) if scores else None
