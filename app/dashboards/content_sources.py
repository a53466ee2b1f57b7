"""Where content analytics come from: the CDS store's exposures and feedback, the ledger's case
attempts and answers, plus (demo mode only) generated synthetic records.

The reads are SQL both SQLite and PostgreSQL run, through each store's own database, over the
last WINDOW_DAYS days. Only opaque keys leave the tables (the CDS store's keyed user hash, the
ledger's learner id); no patient key, free text or token is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import text

from app.dashboards.content_data import CardAction, CardShown, CaseAttempt, ContentRecords
from app.database import Database
from app.ledger.chain import parse_timestamp, timestamp

WINDOW_DAYS = 365
# Demo mode installs a callable returning synthetic ContentRecords here (app/devtools/demo.py).
SYNTHETIC_CONTENT = "synthetic_content_records"
# Hook for issue #19 item 2 (app/collaboration, discussions and the editorial queue): install a
# callable `(module_id, module_version) -> EditorialFigures | None` here and the content page
# shows open items and time to resolution per module version. Not built here on purpose.
EDITORIAL_FIGURES = "content_editorial_figures"

SHOWN = text(
    "SELECT card_uuid, module_id, module_version, user_key, shown_at FROM cds_exposures "
    "WHERE shown_at >= :since"
)
ACTIONS = text(
    "SELECT feedback.card_uuid, feedback.outcome, feedback.override_reason, "
    "feedback.override_reason_system, feedback.outcome_at, feedback.received_at "
    "FROM cds_feedback AS feedback JOIN cds_exposures AS exposure "
    "ON exposure.card_uuid = feedback.card_uuid WHERE exposure.shown_at >= :since"
)
COMPLETED_CASES = (
    "FROM ledger_attempts AS attempt JOIN ledger_activities AS activity "
    "ON activity.activity_key = attempt.activity_key "
    "WHERE activity.activity_type = 'case' AND attempt.completed_at IS NOT NULL "
    "AND attempt.started_at >= :since"
)
ATTEMPTS = text(
    "SELECT attempt.attempt_id, attempt.learner_id, activity.module_id, activity.module_version, "
    "attempt.started_at, attempt.correct, attempt.total, attempt.pass_mark_percent "
    + COMPLETED_CASES
)
ANSWERS = text(
    "SELECT answer.attempt_id, answer.item_id, answer.correct FROM ledger_answers AS answer "
    "JOIN ledger_attempts AS attempt ON attempt.attempt_id = answer.attempt_id "
    "JOIN ledger_activities AS activity ON activity.activity_key = attempt.activity_key "
    "WHERE activity.activity_type = 'case' AND attempt.completed_at IS NOT NULL "
    "AND attempt.started_at >= :since AND answer.correct IS NOT NULL"
)


@dataclass(frozen=True)
class EditorialFigures:
    """What the editorial queue will report per module version (filled by app/collaboration)."""

    open_items: int
    median_days_to_resolution: float | None


def content_records(now: datetime | None = None) -> ContentRecords:
    """The stored records of the window, plus the synthetic ones in demo mode."""
    since = (now or datetime.now(UTC)) - timedelta(days=WINDOW_DAYS)
    stored = ContentRecords(*card_records(cds_database(), since), case_attempts(since))
    synthetic: Callable[[], ContentRecords] | None = current_app.extensions.get(SYNTHETIC_CONTENT)
    return stored if synthetic is None else merged(stored, synthetic())


def editorial_figures(module_id: str, module_version: str) -> EditorialFigures | None:
    """Open critique items and time to resolution, once the editorial queue provides them."""
    provider = current_app.extensions.get(EDITORIAL_FIGURES)
    return provider(module_id, module_version) if provider else None


def merged(stored: ContentRecords, synthetic: ContentRecords) -> ContentRecords:
    """Both sets of records; marked synthetic."""
    return ContentRecords(
        [*stored.shown, *synthetic.shown],
        [*stored.actions, *synthetic.actions],
        [*stored.attempts, *synthetic.attempts],
        synthetic=True,
    )


def cds_database() -> Database | None:
    """The CDS store's database (None when the CDS service is not mounted)."""
    runtime = current_app.extensions.get("cds")
    return runtime.engine.store.database if runtime is not None else None


def card_records(
    database: Database | None, since: datetime
) -> tuple[list[CardShown], list[CardAction]]:
    """Cards shown since a time, and the feedback on them."""
    if database is None:
        return [], []
    with database.read() as connection:
        shown = connection.execute(SHOWN, {"since": since.timestamp()}).all()
        actions = connection.execute(ACTIONS, {"since": since.timestamp()}).all()
    return (
        [CardShown(row[0], row[1], row[2], row[3], from_epoch(row[4])) for row in shown],
        [CardAction(*row[:4], acted_at(row[4], row[5])) for row in actions],
    )


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


def case_attempts(since: datetime) -> list[CaseAttempt]:
    """Completed case attempts since a time, each with its scored answers."""
    database = current_app.extensions["ledger"].store.database
    parameters = {"since": timestamp(since)}
    with database.read() as connection:
        attempts = connection.execute(ATTEMPTS, parameters).all()
        answers = connection.execute(ANSWERS, parameters).all()
    scored: dict[str, dict[str, bool]] = {}
    for attempt_id, item_id, correct in answers:
        scored.setdefault(attempt_id, {})[item_id] = bool(correct)
    return [
        CaseAttempt(
            row[1], row[2], row[3], parse_timestamp(row[4]), *row[5:], scored.get(row[0], {})
        )
        for row in attempts
    ]
