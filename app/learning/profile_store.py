"""Learning profiles, mastery and review cards, keyed by the ledger's opaque learner id.

No patient data is ever stored here. A learner can export (JSON) and delete their own data.
One implementation serves SQLite and PostgreSQL (app/database.py); only the DDL differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from fsrs import Card
from sqlalchemy import Connection, TextClause, text
from sqlite_utils import Database as SqliteFile
from sqlite_utils.migrations import Migrations

from app.database import Database, StoreSchema
from app.learning.mastery import TopicMastery, normalize_confidence, update
from app.learning.recommend import Profile
from app.learning.reviews import ReviewKey, card_from_json, card_to_json, record_answer

migrations = Migrations("bedside.learning")


@migrations()
def create_learning_tables(db: SqliteFile) -> None:
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
def create_applied_answers(db: SqliteFile) -> None:
    """Which ledger answers were already folded into mastery and reviews (idempotency)."""
    db["learning_applied"].create(
        {"learner_id": str, "attempt_id": str, "item_id": str},
        pk=("learner_id", "attempt_id", "item_id"),
    )


# The same tables on PostgreSQL. Ordered text columns collate "C": byte order, as SQLite sorts.
POSTGRESQL_STEPS = [
    (
        "create_learning_tables",
        """
        CREATE TABLE learning_profiles (
            learner_id TEXT PRIMARY KEY,
            specialty TEXT,
            specialty_source TEXT,
            gaps TEXT,
            language TEXT,
            consent TEXT
        );
        CREATE TABLE learning_mastery (
            learner_id TEXT,
            topic TEXT COLLATE "C",
            score DOUBLE PRECISION,
            answers BIGINT,
            PRIMARY KEY (learner_id, topic)
        );
        CREATE TABLE learning_cards (
            learner_id TEXT,
            module_id TEXT COLLATE "C",
            item_id TEXT COLLATE "C",
            card TEXT,
            due TEXT,
            PRIMARY KEY (learner_id, module_id, item_id)
        );
        CREATE INDEX idx_learning_cards_learner_id_due ON learning_cards (learner_id, due)
        """,
    ),
    (
        "create_applied_answers",
        """
        CREATE TABLE learning_applied (
            learner_id TEXT,
            attempt_id TEXT,
            item_id TEXT,
            PRIMARY KEY (learner_id, attempt_id, item_id)
        )
        """,
    ),
]
LEARNING_SCHEMA = StoreSchema(
    "bedside.learning",
    migrations,
    POSTGRESQL_STEPS,
    grants=(
        (
            "SELECT, INSERT, UPDATE, DELETE",
            ("learning_profiles", "learning_mastery", "learning_cards", "learning_applied"),
        ),
    ),
)


def upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> TextClause:
    """INSERT a row with these named parameters, or UPDATE its other columns if the key exists."""
    names = ", ".join(columns)
    values = ", ".join(f":{column}" for column in columns)
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column not in key)
    return text(
        f"INSERT INTO {table} ({names}) VALUES ({values})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


SAVE_PROFILE = upsert(
    "learning_profiles",
    ("learner_id", "specialty", "specialty_source", "gaps", "language", "consent"),
    ("learner_id",),
)
SAVE_MASTERY = upsert(
    "learning_mastery", ("learner_id", "topic", "score", "answers"), ("learner_id", "topic")
)
SAVE_CARD = upsert(
    "learning_cards",
    ("learner_id", "module_id", "item_id", "card", "due"),
    ("learner_id", "module_id", "item_id"),
)
# Insert the prior for a new topic, or touch the existing row: either way the row is this
# transaction's until it ends (PostgreSQL locks it; SQLite's write lock covers the file), so
# an answer recorded at the same time through another host waits and then builds on this one.
CLAIM_MASTERY = text(
    "INSERT INTO learning_mastery (learner_id, topic, score, answers)"
    " VALUES (:learner_id, :topic, :score, :answers)"
    " ON CONFLICT (learner_id, topic) DO UPDATE SET answers = learning_mastery.answers"
    " RETURNING score, answers"
)
MARK_APPLIED = text(
    "INSERT INTO learning_applied (learner_id, attempt_id, item_id)"
    " VALUES (:learner_id, :attempt_id, :item_id) ON CONFLICT DO NOTHING"
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


class LearningStore:
    """Reads and writes one learner's learning data (no patient data, opaque learner ids)."""

    TABLES = ("learning_profiles", "learning_mastery", "learning_cards", "learning_applied")

    def __init__(self, database: Database):
        self.database = database
        database.migrate(LEARNING_SCHEMA)

    def save_profile(self, profile: Profile, consent: Mapping[str, bool] | None = None) -> None:
        """Insert or replace a learner's profile and consent flags."""
        row = {
            "learner_id": profile.learner_id,
            "specialty": profile.specialty,
            "specialty_source": profile.specialty_source,
            "gaps": json.dumps(list(profile.gaps)),
            "language": profile.language,
            "consent": json.dumps(dict(consent or {}), sort_keys=True),
        }
        with self.database.write() as connection:
            connection.execute(SAVE_PROFILE, row)

    def profile(self, learner_id: str) -> tuple[Profile, dict] | None:
        """The learner's profile and consent flags, or None."""
        with self.database.read() as connection:
            row = connection.execute(
                text(
                    "SELECT specialty, specialty_source, gaps, language, consent"
                    " FROM learning_profiles WHERE learner_id = :learner_id"
                ),
                {"learner_id": learner_id},
            ).fetchone()
        if row is None:
            return None
        specialty, source, gaps, language, consent = row
        profile = Profile(learner_id, specialty, source, tuple(json.loads(gaps)), language)
        return profile, json.loads(consent)

    def save_mastery(self, learner_id: str, mastery: Mapping[str, TopicMastery]) -> None:
        """Insert or replace the given topics' mastery."""
        rows = [mastery_row(learner_id, topic, value) for topic, value in mastery.items()]
        if rows:
            with self.database.write() as connection:
                connection.execute(SAVE_MASTERY, rows)

    def mastery(self, learner_id: str) -> dict[str, TopicMastery]:
        """All topics' mastery for a learner."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    "SELECT topic, score, answers FROM learning_mastery"
                    " WHERE learner_id = :learner_id ORDER BY topic"
                ),
                {"learner_id": learner_id},
            ).fetchall()
        return {topic: TopicMastery(score, answers) for topic, score, answers in rows}

    def save_cards(self, learner_id: str, cards: Mapping[ReviewKey, Card]) -> None:
        """Insert or replace the given review cards."""
        rows = [card_row(learner_id, key, card) for key, card in cards.items()]
        if rows:
            with self.database.write() as connection:
                connection.execute(SAVE_CARD, rows)

    def cards(self, learner_id: str) -> dict[ReviewKey, Card]:
        """All review cards for a learner."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    "SELECT module_id, item_id, card FROM learning_cards"
                    " WHERE learner_id = :learner_id ORDER BY module_id, item_id"
                ),
                {"learner_id": learner_id},
            ).fetchall()
        return {ReviewKey(m, i): card_from_json(json.loads(c)) for m, i, c in rows}

    def apply_answer(self, learner_id: str, event: AnswerEvent) -> bool:
        """Fold an answer into mastery and reviews exactly once; False if it was already applied."""
        with self.database.write() as connection:  # the read-modify-write in one transaction
            return _apply(connection, learner_id, event)

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
        with self.database.write() as connection:
            for table in self.TABLES:
                connection.execute(
                    text(f"DELETE FROM {table} WHERE learner_id = :learner_id"),
                    {"learner_id": learner_id},
                )


def mastery_row(learner_id: str, topic: str, mastery: TopicMastery) -> dict:
    """The parameters of a learning_mastery row."""
    return {
        "learner_id": learner_id,
        "topic": topic,
        "score": mastery.score,
        "answers": mastery.answers,
    }


def card_row(learner_id: str, key: ReviewKey, card: Card) -> dict:
    """The parameters of a learning_cards row (the card as JSON, its due time in ISO form)."""
    return {
        "learner_id": learner_id,
        "module_id": key.module_id,
        "item_id": key.item_id,
        "card": json.dumps(card_to_json(card)),
        "due": card.due.isoformat(),
    }


def _apply(connection: Connection, learner_id: str, event: AnswerEvent) -> bool:
    """Mark the answer applied, then update its topic's mastery and its review card."""
    marked = connection.execute(
        MARK_APPLIED,
        {"learner_id": learner_id, "attempt_id": event.attempt_id, "item_id": event.item_id},
    )
    if marked.rowcount != 1:
        return False
    confidence = normalize_confidence(event.confidence)
    claimed = connection.execute(
        CLAIM_MASTERY, mastery_row(learner_id, event.topic, TopicMastery())
    ).one()
    mastery = update(TopicMastery(*claimed), event.correct, confidence)
    connection.execute(SAVE_MASTERY, mastery_row(learner_id, event.topic, mastery))
    _review(connection, learner_id, event, confidence)
    return True


def _review(connection: Connection, learner_id: str, event: AnswerEvent, confidence: str) -> None:
    """Schedule (or reschedule) the item's fsrs card when the answer calls for it.

    The card's module is the answer's topic, so the claimed mastery row serialises this too.
    """
    key = ReviewKey(event.topic, event.item_id)
    row = connection.execute(
        text(
            "SELECT card FROM learning_cards WHERE learner_id = :learner_id"
            " AND module_id = :module_id AND item_id = :item_id"
        ),
        {"learner_id": learner_id, "module_id": key.module_id, "item_id": key.item_id},
    ).fetchone()
    cards = {key: card_from_json(json.loads(row[0]))} if row else {}
    cards = record_answer(cards, key, event.correct, confidence, event.answered_at)
    if key in cards:
        connection.execute(SAVE_CARD, card_row(learner_id, key, cards[key]))
