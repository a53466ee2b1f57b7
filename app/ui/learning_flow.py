"""Answers into learning: the stated confidence, per-topic mastery and spaced reviews.

A topic is a module id. Each recorded answer is folded into the learner's mastery and review cards
once (the learning store remembers which answers it applied), so a repeated POST changes nothing.
If the learning store cannot be written, the answer still counts: the ledger is the record.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping

from flask import current_app
from flask_babel import lazy_gettext
from sqlalchemy.exc import OperationalError as DatabaseBusy

from app.learning.mastery import normalize_confidence, observation_from_answer
from app.learning.profile_store import AnswerEvent, LearningStore
from app.ledger.models import Answer

log = logging.getLogger(__name__)
CONFIDENCE_CHOICES = {
    "low": lazy_gettext("Unsure"),
    "medium": lazy_gettext("Fairly sure"),
    "high": lazy_gettext("Certain"),
}


def learning_store() -> LearningStore:
    """This app's learning store (profiles, mastery, reviews)."""
    return current_app.extensions["learning"]


def confidence_from(form: Mapping[str, str]) -> str | None:
    """The stated confidence (low, medium or high); None when none was given; ValueError if odd."""
    raw = form.get("confidence", "")
    if not raw:
        return None
    return normalize_confidence(raw)


def confidence_label(answer: Answer | None) -> str | None:
    """How sure the learner said they were, in the UI language (None if they did not say)."""
    value = answer.response.get("confidence") if answer else None
    return str(CONFIDENCE_CHOICES[value]) if value in CONFIDENCE_CHOICES else None


def learn_from_answer(learner: str, module_id: str, answer: Answer) -> bool:
    """Fold a recorded answer into mastery and reviews (once); False if nothing changed."""
    observation = observation_from_answer(module_id, answer)
    if observation is None:
        return False
    event = AnswerEvent(
        attempt_id=answer.attempt_id,
        topic=module_id,
        item_id=answer.item_id,
        correct=observation.correct,
        confidence=observation.confidence,
        answered_at=answer.answered_at,
    )
    try:
        return learning_store().apply_answer(learner, event)
    except (sqlite3.OperationalError, DatabaseBusy) as error:  # e.g. stayed locked too long
        # The answer and any credit are already in the ledger; mastery is derived, so it may lag.
        log.warning("Mastery update skipped for one answer: %s", error)
        return False
