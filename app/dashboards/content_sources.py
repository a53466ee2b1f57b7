"""Where content analytics come from: the CDS store's exposures and feedback, the ledger's case
attempts and answers, plus (demo mode only) generated synthetic tallies.

The reads are SQL both SQLite and PostgreSQL run, through each store's own database, over the
last WINDOW_DAYS days. Only opaque keys leave the tables (the CDS store's keyed user hash, the
ledger's learner id); no patient key, free text or token is read. The databases count and group:
what reaches Python is bounded by clinician-days and learners, except the feedback, streamed in
batches and added up card by card (the time of an action is ISO text only Python reads).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from operator import itemgetter

from flask import current_app
from sqlalchemy import text

from app.dashboards.content_data import (
    SCENARIO_STEP,
    Action,
    CardTally,
    CaseTally,
    ContentTallies,
    Version,
    combined,
)
from app.database import Database
from app.ledger.chain import parse_timestamp, timestamp

WINDOW_DAYS = 365
BATCH_ROWS = 2000  # rows fetched at a time from a stream
# Demo mode installs a callable returning synthetic ContentTallies here (app/devtools/demo.py).
SYNTHETIC_CONTENT = "synthetic_content_records"
# Hook for issue #19 item 2 (app/collaboration, discussions and the editorial queue): install a
# callable `(module_id, module_version) -> EditorialFigures | None` here and the content page
# shows open items and time to resolution per module version. Not built here on purpose.
EDITORIAL_FIGURES = "content_editorial_figures"

# The UTC day (days since 1970-01-01) of each card. datetime.fromtimestamp rounds an epoch time
# to the microsecond, so half a microsecond before midnight is the next day there and here too.
# CAST rounds on PostgreSQL and truncates on SQLite: the CASE takes the floor on both.
CARDS_PER_CLINICIAN_DAY = text(
    "SELECT module_id, module_version, user_key, day, COUNT(*) FROM ("
    "SELECT module_id, module_version, user_key, "
    "CAST(days AS INTEGER) - CASE WHEN CAST(days AS INTEGER) > days THEN 1 ELSE 0 END AS day "
    "FROM (SELECT module_id, module_version, user_key, (shown_at + 0.0000005) / 86400 AS days "
    "FROM cds_exposures WHERE shown_at >= :since) AS exposure) AS shown "
    "GROUP BY module_id, module_version, user_key, day"
)
# Card by card, each card's feedback in the order Bedside received it.
FEEDBACK_BY_CARD = text(
    "SELECT exposure.card_uuid, exposure.module_id, exposure.module_version, exposure.shown_at, "
    "feedback.outcome, feedback.override_reason, feedback.override_reason_system, "
    "feedback.outcome_at, feedback.received_at "
    "FROM cds_feedback AS feedback JOIN cds_exposures AS exposure "
    "ON exposure.card_uuid = feedback.card_uuid WHERE exposure.shown_at >= :since "
    "ORDER BY exposure.card_uuid, feedback.received_at, feedback.feedback_key"
)
COMPLETED_CASES = (
    "FROM ledger_attempts AS attempt JOIN ledger_activities AS activity "
    "ON activity.activity_key = attempt.activity_key "
    "WHERE activity.activity_type = 'case' AND attempt.completed_at IS NOT NULL "
    "AND attempt.started_at >= :since"
)
COMPLETED_PER_LEARNER_AND_SCORE = text(
    "SELECT activity.module_id, activity.module_version, attempt.learner_id, attempt.correct, "
    "attempt.total, attempt.pass_mark_percent, COUNT(*) "
    + COMPLETED_CASES
    + " GROUP BY activity.module_id, activity.module_version, attempt.learner_id, "
    "attempt.correct, attempt.total, attempt.pass_mark_percent"
)
SCORED_ANSWER = "answer.attempt_id = attempt.attempt_id AND answer.correct IS NOT NULL"
# Each learner's first completed attempt at a version's case answered question by question (some
# answer scored, no scenario step among them), with its scored answers.
FIRST_QUESTION_SET_ANSWERS = text(
    "SELECT numbered.module_id, numbered.module_version, numbered.learner_id, "
    "numbered.started_at, answer.item_id, answer.correct FROM ("
    "SELECT attempt.attempt_id, attempt.learner_id, attempt.started_at, activity.module_id, "
    "activity.module_version, ROW_NUMBER() OVER (PARTITION BY activity.module_id, "
    "activity.module_version, attempt.learner_id ORDER BY attempt.started_at, attempt.attempt_id"
    ") AS attempt_number "
    + COMPLETED_CASES
    + f" AND EXISTS (SELECT 1 FROM ledger_answers AS answer WHERE {SCORED_ANSWER}) "
    f"AND NOT EXISTS (SELECT 1 FROM ledger_answers AS answer WHERE {SCORED_ANSWER} "
    f"AND substr(answer.item_id, 1, {len(SCENARIO_STEP)}) = '{SCENARIO_STEP}')"
    ") AS numbered JOIN ledger_answers AS answer ON answer.attempt_id = numbered.attempt_id "
    "WHERE numbered.attempt_number = 1 AND answer.correct IS NOT NULL "
    "ORDER BY numbered.module_id, numbered.module_version, numbered.learner_id"
)
EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class EditorialFigures:
    """What the editorial queue will report per module version (filled by app/collaboration)."""

    open_items: int
    median_days_to_resolution: float | None


def content_tallies(now: datetime | None = None) -> ContentTallies:
    """The stored records of the window added up, plus the synthetic ones in demo mode."""
    since = (now or datetime.now(UTC)) - timedelta(days=WINDOW_DAYS)
    stored = ContentTallies(card_tallies(cds_database(), since), case_tallies(since))
    synthetic: Callable[[], ContentTallies] | None = current_app.extensions.get(SYNTHETIC_CONTENT)
    return stored if synthetic is None else merged(stored, synthetic())


def editorial_figures(module_id: str, module_version: str) -> EditorialFigures | None:
    """Open critique items and time to resolution, once the editorial queue provides them."""
    provider = current_app.extensions.get(EDITORIAL_FIGURES)
    return provider(module_id, module_version) if provider else None


def merged(stored: ContentTallies, synthetic: ContentTallies) -> ContentTallies:
    """Both sets of tallies added up; marked synthetic."""
    return replace(combined(stored, synthetic), synthetic=True)


def cds_database() -> Database | None:
    """The CDS store's database (None when the CDS service is not mounted)."""
    runtime = current_app.extensions.get("cds")
    return runtime.engine.store.database if runtime is not None else None


def card_tallies(database: Database | None, since: datetime) -> dict[Version, CardTally]:
    """Cards shown since a time per clinician-day, and the feedback on them, per version."""
    if database is None:
        return {}
    tallies: defaultdict[Version, CardTally] = defaultdict(CardTally)
    parameters = {"since": since.timestamp()}
    with database.read() as connection:
        for module_id, module_version, clinician, day, cards in connection.execute(
            CARDS_PER_CLINICIAN_DAY, parameters
        ):
            tallies[module_id, module_version].add_shown(
                clinician, EPOCH_DAY + timedelta(days=day), cards
            )
        streaming = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS)
        rows = streaming.execute(FEEDBACK_BY_CARD, parameters)
        try:
            add_feedback(tallies, rows)
        finally:
            rows.close()
    return dict(tallies)


def add_feedback(tallies: defaultdict[Version, CardTally], rows: Iterable[Sequence]) -> None:
    """Add each card's feedback (FEEDBACK_BY_CARD rows, card by card) to its version's tally."""
    for _, card in groupby(rows, key=itemgetter(0)):
        feedback = list(card)
        _, module_id, module_version, shown_at = feedback[0][:4]
        tallies[module_id, module_version].add_actions(from_epoch(shown_at), map(action, feedback))


def action(row: Sequence) -> Action:
    """Outcome, reason and time of one FEEDBACK_BY_CARD row."""
    return row[4], (row[5], row[6]), acted_at(row[7], row[8])


def acted_at(outcome_at: str | None, received_at: float) -> datetime:
    """When the clinician acted: the client's outcomeTimestamp, else when Bedside received it."""
    try:
        moment = datetime.fromisoformat(str(outcome_at))
    except ValueError:
        return from_epoch(received_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def from_epoch(seconds: float) -> datetime:
    """A stored epoch time as an aware UTC datetime."""
    return datetime.fromtimestamp(float(seconds), UTC)


def case_tallies(since: datetime) -> dict[Version, CaseTally]:
    """Completed case attempts since a time per learner and score, and each learner's first
    question-set attempt with its scored answers, per version."""
    database = current_app.extensions["ledger"].store.database
    parameters = {"since": timestamp(since)}
    tallies: defaultdict[Version, CaseTally] = defaultdict(CaseTally)
    with database.read() as connection:
        for module_id, module_version, learner, *score, attempts in connection.execute(
            COMPLETED_PER_LEARNER_AND_SCORE, parameters
        ):
            tallies[module_id, module_version].add_completed(learner, *score, attempts=attempts)
        answers = connection.execute(FIRST_QUESTION_SET_ANSWERS, parameters)
        for (module_id, module_version, learner, started_at), scored in groupby(
            answers, key=itemgetter(0, 1, 2, 3)
        ):
            items = {item_id: bool(correct) for *_, item_id, correct in scored}
            tallies[module_id, module_version].offer_first(
                learner, parse_timestamp(started_at), items
            )
    return dict(tallies)
