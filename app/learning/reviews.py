"""Spaced reviews with fsrs for items answered wrongly or with low confidence.

Answer -> fsrs Rating (documented, fixed):
    wrong (any confidence)       -> Again
    right with low confidence    -> Hard
    right with medium confidence -> Good
    right with high confidence   -> Easy

An item enters the review schedule only when it is answered wrongly or with low confidence; once it
has a card, every later answer on it is scheduled too (so a confident right answer pushes it out).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from fsrs import Card, Rating, Scheduler

from app.learning.mastery import normalize_confidence

RIGHT_RATINGS = {"low": Rating.Hard, "medium": Rating.Good, "high": Rating.Easy}


@dataclass(frozen=True, order=True)
class ReviewKey:
    """One reviewable item: a question of a module."""

    module_id: str
    item_id: str

    def card_id(self) -> int:
        """A stable positive card id derived from the key (deterministic, unlike Card())."""
        digest = hashlib.sha256(f"{self.module_id}\x1f{self.item_id}".encode()).digest()
        return int.from_bytes(digest[:6], "big") or 1


@dataclass(frozen=True)
class DueReview:
    """An item whose review is due, and since when."""

    key: ReviewKey
    due: datetime


def default_scheduler() -> Scheduler:
    """The scheduler Bedside uses: fsrs defaults, fuzzing off so dates are reproducible."""
    return Scheduler(enable_fuzzing=False)


def rating_for(correct: bool, confidence: object = None) -> Rating:
    """Map an answer and its stated confidence to an fsrs Rating (see module docstring)."""
    if not correct:
        return Rating.Again
    return RIGHT_RATINGS[normalize_confidence(confidence)]


def needs_review(correct: bool, confidence: object = None) -> bool:
    """True when an answer should put the item on the review schedule."""
    return not correct or normalize_confidence(confidence) == "low"


def record_answer(
    cards: Mapping[ReviewKey, Card],
    key: ReviewKey,
    correct: bool,
    confidence: object,
    when: datetime,
    scheduler: Scheduler | None = None,
) -> dict[ReviewKey, Card]:
    """Return the cards after one answer: a new card if needed, the item's card rescheduled."""
    result = dict(cards)
    card = result.get(key)
    if card is None:
        if not needs_review(correct, confidence):
            return result
        card = Card(card_id=key.card_id(), due=when)
    scheduler = scheduler or default_scheduler()
    result[key], _log = scheduler.review_card(card, rating_for(correct, confidence), when)
    return result


def due_reviews(cards: Mapping[ReviewKey, Card], now: datetime) -> list[DueReview]:
    """Items due at now, most overdue first (ties by module then item)."""
    due = [DueReview(key, card.due) for key, card in cards.items() if card.due <= now]
    return sorted(due, key=lambda d: (d.due, d.key))


def due_by_module(due: list[DueReview]) -> dict[str, int]:
    """Count due reviews per module."""
    counts: dict[str, int] = {}
    for item in due:
        counts[item.key.module_id] = counts.get(item.key.module_id, 0) + 1
    return counts


def card_to_json(card: Card) -> dict:
    """Serialize a card with fsrs's own to_dict."""
    return card.to_dict()


def card_from_json(data: Mapping) -> Card:
    """Restore a card from card_to_json's output."""
    return Card.from_dict(dict(data))
