"""Learning profiles, mastery and review cards in SQLite, keyed by the ledger's opaque learner id.

No patient data is ever stored here. A learner can export (JSON) and delete their own data.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fsrs import Card
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.db import SqliteStore, connect
from app.learning.mastery import TopicMastery, normalize_confidence, update
from app.learning.recommend import Profile
from app.learning.reviews import ReviewKey, card_from_json, card_to_json, record_answer

migrations = Migrations("bedside.learning")


@migrations()
def create_learning_tables(db: Database) -> None:
    """Profiles, per-topic mastery and fsrs cards."""
    db["learning_profiles"].create(
        {
            "learner_id": str,
            "specialty": str,
            "specialty_source": str,
            "gaps": str,
            "language": str,
            "consent": str,
        },
        pk="learner_id",
    )
    db["learning_mastery"].create(
        {"learner_id": str, "topic": str, "score": float, "answers": int},
        pk=("learner_id", "topic"),
    )
    db["learning_cards"].create(
        {"learner_id": str, "module_id": str, "item_id": str, "card": str, "due": str},
        pk=("learner_id", "module_id", "item_id"),
    )
    db["learning_cards"].create_index(["learner_id", "due"])


@migrations()
def create_applied_answers(db: Database) -> None:
    """Which ledger answers were already folded into mastery and reviews (idempotency)."""
    db["learning_applied"].create(
        {"learner_id": str, "attempt_id": str, "item_id": str},
        pk=("learner_id", "attempt_id", "item_id"),
    )


@dataclass(frozen=True)
class AnswerEvent:
    """One answered question, as the learning store needs it (no patient data)."""

    attempt_id: str
    topic: str  # the module id
    item_id: str  # the question id
    correct: bool
    confidence: str
    answered_at: datetime


class LearningStore(SqliteStore):
    """Reads and writes one learner's learning data (no patient data, opaque learner ids)."""

    TABLES = ("learning_profiles", "learning_mastery", "learning_cards", "learning_applied")

    def __init__(self, path: Path):
        super().__init__(path, migrations)

    def save_profile(self, profile: Profile, consent: Mapping[str, bool] | None = None) -> None:
        """Insert or replace a learner's profile and consent flags."""
        row = (
            profile.learner_id,
            profile.specialty,
            profile.specialty_source,
            json.dumps(list(profile.gaps)),
            profile.language,
            json.dumps(dict(consent or {}), sort_keys=True),
        )
        with self._connection() as db:
            db.execute("INSERT OR REPLACE INTO learning_profiles VALUES (?, ?, ?, ?, ?, ?)", row)

    def profile(self, learner_id: str) -> tuple[Profile, dict] | None:
        """The learner's profile and consent flags, or None."""
        db = self._connection()
        row = db.execute(
            "SELECT specialty, specialty_source, gaps, language, consent"
            " FROM learning_profiles WHERE learner_id = ?",
            (learner_id,),
        ).fetchone()
        if row is None:
            return None
        specialty, source, gaps, language, consent = row
        profile = Profile(learner_id, specialty, source, tuple(json.loads(gaps)), language)
        return profile, json.loads(consent)

    def save_mastery(self, learner_id: str, mastery: Mapping[str, TopicMastery]) -> None:
        """Insert or replace the given topics' mastery."""
        rows = [(learner_id, t, m.score, m.answers) for t, m in mastery.items()]
        with self._connection() as db:
            db.executemany("INSERT OR REPLACE INTO learning_mastery VALUES (?, ?, ?, ?)", rows)

    def mastery(self, learner_id: str) -> dict[str, TopicMastery]:
        """All topics' mastery for a learner."""
        db = self._connection()
        rows = db.execute(
            "SELECT topic, score, answers FROM learning_mastery WHERE learner_id = ?"
            " ORDER BY topic",
            (learner_id,),
        ).fetchall()
        return {topic: TopicMastery(score, answers) for topic, score, answers in rows}

    def save_cards(self, learner_id: str, cards: Mapping[ReviewKey, Card]) -> None:
        """Insert or replace the given review cards."""
        rows = [
            (learner_id, k.module_id, k.item_id, json.dumps(card_to_json(c)), c.due.isoformat())
            for k, c in cards.items()
        ]
        with self._connection() as db:
            db.executemany("INSERT OR REPLACE INTO learning_cards VALUES (?, ?, ?, ?, ?)", rows)

    def cards(self, learner_id: str) -> dict[ReviewKey, Card]:
        """All review cards for a learner."""
        db = self._connection()
        rows = db.execute(
            "SELECT module_id, item_id, card FROM learning_cards WHERE learner_id = ?"
            " ORDER BY module_id, item_id",
            (learner_id,),
        ).fetchall()
        return {ReviewKey(m, i): card_from_json(json.loads(c)) for m, i, c in rows}

    def apply_answer(self, learner_id: str, event: AnswerEvent) -> bool:
        """Fold an answer into mastery and reviews exactly once; False if it was already applied."""
        with closing(connect(self.path)) as db:
            db.isolation_level = None  # explicit BEGIN IMMEDIATE: read-modify-write under the lock
            db.execute("BEGIN IMMEDIATE")
            try:
                applied = _apply(db, learner_id, event)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return applied

    def export(self, learner_id: str) -> dict:
        """Everything stored about a learner, as plain JSON values (opaque id only)."""
        found = self.profile(learner_id)
        profile = None
        if found:
            p, consent = found
            profile = {
                "specialty": p.specialty,
                "specialty_source": p.specialty_source,
                "gaps": list(p.gaps),
                "language": p.language,
                "consent": consent,
            }
        return {
            "learner_id": learner_id,
            "profile": profile,
            "mastery": {t: m.as_dict() for t, m in self.mastery(learner_id).items()},
            "reviews": [
                {"module_id": k.module_id, "item_id": k.item_id, "card": card_to_json(c)}
                for k, c in self.cards(learner_id).items()
            ],
        }

    def delete(self, learner_id: str) -> None:
        """Delete everything stored about a learner."""
        with self._connection() as db:
            for table in self.TABLES:
                db.execute(f"DELETE FROM {table} WHERE learner_id = ?", (learner_id,))


def _apply(db: sqlite3.Connection, learner_id: str, event: AnswerEvent) -> bool:
    """Mark the answer applied, then update its topic's mastery and its review card."""
    marked = db.execute(
        "INSERT OR IGNORE INTO learning_applied VALUES (?, ?, ?)",
        (learner_id, event.attempt_id, event.item_id),
    )
    if marked.rowcount != 1:
        return False
    confidence = normalize_confidence(event.confidence)
    row = db.execute(
        "SELECT score, answers FROM learning_mastery WHERE learner_id = ? AND topic = ?",
        (learner_id, event.topic),
    ).fetchone()
    mastery = update(TopicMastery(*row) if row else TopicMastery(), event.correct, confidence)
    db.execute(
        "INSERT OR REPLACE INTO learning_mastery VALUES (?, ?, ?, ?)",
        (learner_id, event.topic, mastery.score, mastery.answers),
    )
    _review(db, learner_id, event, confidence)
    return True


def _review(db: sqlite3.Connection, learner_id: str, event: AnswerEvent, confidence: str) -> None:
    """Schedule (or reschedule) the item's fsrs card when the answer calls for it."""
    key = ReviewKey(event.topic, event.item_id)
    row = db.execute(
        "SELECT card FROM learning_cards WHERE learner_id = ? AND module_id = ? AND item_id = ?",
        (learner_id, key.module_id, key.item_id),
    ).fetchone()
    cards = {key: card_from_json(json.loads(row[0]))} if row else {}
    cards = record_answer(cards, key, event.correct, confidence, event.answered_at)
    if key in cards:
        card = cards[key]
        db.execute(
            "INSERT OR REPLACE INTO learning_cards VALUES (?, ?, ?, ?, ?)",
            (
                learner_id,
                key.module_id,
                key.item_id,
                json.dumps(card_to_json(card)),
                card.due.isoformat(),
            ),
        )
