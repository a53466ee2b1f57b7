"""Teaching cases drafted from real encounters, in the shared database (SQLite or PostgreSQL).

A case holds only the de-identified vignette its author drafted and edited (never the patient's
FHIR id, the launch, or anything read from the EHR in clear); every text passes the patient-data
guard, given the launched patient's own identifying terms when the author writes it, and the
Safe Harbor check: the scrubber's patterns, and the source patient's terms kept as keyed hashes
from the draft until approval (`source_terms`), whichever patient the author launched since. A
case is the author's alone until a moderator approves it; peers then discuss it in a
collaboration thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy import bindparam, text
from sqlite_utils import Database as SqliteFile
from sqlite_utils.migrations import Migrations

from app.case_conferences.deidentify import identifier_kinds
from app.case_conferences.source_terms import SourceTerms, source_terms
from app.database import Database, StoreSchema
from app.ledger.models import PatientDataRefused
from app.ledger.privacy import NO_TERMS, IdentifyingTerms, check_text

migrations = Migrations("bedside.case_conferences")
STATUSES = ("draft", "submitted", "approved", "rejected")
EDITABLE = ("draft", "submitted", "rejected")  # an approved case is no longer edited
CASE_COLUMNS = (
    "case_id, author_id, title, vignette, status, created_at, updated_at, reviewed_by,"
    " reviewed_at, thread_id"
)


class CaseNotFound(Exception):
    """No such case (or not one this clinician may see)."""


class CaseStateError(Exception):
    """The case is not in a state that allows this (the message says why)."""


class CaseChanged(CaseStateError):
    """The case changed (or was reviewed) after the moderator opened it; nothing was changed."""


class OwnCaseReview(Exception):
    """A moderator may not review a case they wrote."""


class IdentifierFound(PatientDataRefused):
    """A case's title or vignette holds a Safe Harbor identifier: its kind, never the text."""

    def __init__(self, field: str, kind: str):
        super().__init__(f"The case {field} holds an identifier ({kind}); nothing was kept.")
        self.field, self.kind = field, kind


@migrations()
def create_case_conference_tables(db: SqliteFile) -> None:
    """Teaching cases and their review."""
    db["conf_cases"].create(
        {
            "case_id": str,
            "author_id": str,
            "title": str,
            "vignette": str,
            "status": str,
            "created_at": str,
            "updated_at": str,
            "reviewed_by": str,
            "reviewed_at": str,
            "thread_id": str,
        },
        pk="case_id",
    )
    db["conf_cases"].create_index(["status", "updated_at"])
    db["conf_cases"].create_index(["author_id", "created_at"])


@migrations()
def add_case_source_terms(db: SqliteFile) -> None:
    """The source patient's terms as keyed hashes, to check a case's edits until approval."""
    db["conf_cases"].add_column("source_terms", str)


POSTGRESQL_STEPS = [
    (
        "create_case_conference_tables",
        """
        CREATE TABLE conf_cases (
            case_id TEXT PRIMARY KEY,
            author_id TEXT,
            title TEXT,
            vignette TEXT,
            status TEXT,
            created_at TEXT COLLATE "C",
            updated_at TEXT COLLATE "C",
            reviewed_by TEXT,
            reviewed_at TEXT,
            thread_id TEXT
        );
        CREATE INDEX idx_conf_cases_status_updated_at ON conf_cases (status, updated_at);
        CREATE INDEX idx_conf_cases_author_id_created_at ON conf_cases (author_id, created_at)
        """,
    ),
    ("add_case_source_terms", "ALTER TABLE conf_cases ADD COLUMN source_terms TEXT"),
]
CASE_CONFERENCE_SCHEMA = StoreSchema(
    "bedside.case_conferences",
    migrations,
    POSTGRESQL_STEPS,
    grants=(("SELECT, INSERT, UPDATE, DELETE", ("conf_cases",)),),
)


@dataclass(frozen=True)
class TeachingCase:
    """A de-identified teaching case and where it is in review."""

    case_id: str
    author_id: str
    title: str
    vignette: str
    status: str
    created_at: str
    updated_at: str
    reviewed_by: str | None
    reviewed_at: str | None
    thread_id: str | None

    def visible_to(self, learner_id: str, moderator: bool) -> bool:
        """Its author always; a moderator once submitted; everyone else once approved."""
        if learner_id == self.author_id or self.status == "approved":
            return True
        return moderator and self.status == "submitted"


class CaseConferenceStore:
    """Teaching cases for every worker and host."""

    def __init__(self, database: Database, identity_key: bytes | None = None):
        self.database = database
        self.identity_key = identity_key  # hashes the source patient's terms
        database.migrate(CASE_CONFERENCE_SCHEMA)

    def draft(
        self,
        author_id: str,
        title: str,
        vignette: str,
        known: IdentifyingTerms = NO_TERMS,
        source: Iterable[Mapping[str, object]] = (),
    ) -> str:
        """Keep the author's draft (checked for patient data); return the case id.

        `source` is the record the vignette was drafted from: only its terms' hashes are kept.
        """
        terms = self.source_terms(list(source))
        check_case_text(title, vignette, known, terms)
        case_id, now = uuid.uuid4().hex, timestamp()
        with self.database.write() as connection:
            connection.execute(
                text(
                    f"INSERT INTO conf_cases ({CASE_COLUMNS}, source_terms) VALUES (:case_id,"
                    " :author, :title, :vignette, 'draft', :now, :now, NULL, NULL, NULL, :terms)"
                ),
                {
                    "case_id": case_id,
                    "author": author_id,
                    "title": title,
                    "vignette": vignette,
                    "now": now,
                    "terms": terms.as_json(),
                },
            )
        return case_id

    def source_terms(self, source: list[Mapping[str, object]]) -> SourceTerms:
        """The hashed terms of the record a draft comes from (none without a record)."""
        if not source:
            return SourceTerms()
        if not self.identity_key:
            raise ValueError("This case store was opened without a key to hash patient terms.")
        return source_terms(self.identity_key, source)

    def kept_terms(self, case_id: str, author_id: str) -> SourceTerms:
        """The hashed source terms the author's case keeps; CaseNotFound for anyone else."""
        with self.database.read() as connection:
            row = connection.execute(
                text(
                    "SELECT source_terms FROM conf_cases"
                    " WHERE case_id = :id AND author_id = :author"
                ),
                {"id": case_id, "author": author_id},
            ).first()
        if row is None:
            raise CaseNotFound(case_id)
        return SourceTerms.from_json(self.identity_key or b"", row[0])

    def case(self, case_id: str) -> TeachingCase:
        """One case; CaseNotFound if there is none."""
        with self.database.read() as connection:
            row = connection.execute(
                text(f"SELECT {CASE_COLUMNS} FROM conf_cases WHERE case_id = :id"), {"id": case_id}
            ).first()
        if row is None:
            raise CaseNotFound(case_id)
        return TeachingCase(*row)

    def visible_case(self, case_id: str, learner_id: str, moderator: bool) -> TeachingCase:
        """A case this clinician may read; CaseNotFound for anyone else."""
        found = self.case(case_id)
        if not found.visible_to(learner_id, moderator):
            raise CaseNotFound(case_id)
        return found

    def edit(
        self,
        case_id: str,
        author_id: str,
        title: str,
        vignette: str,
        known: IdentifyingTerms = NO_TERMS,
    ) -> None:
        """The author changes a case not yet approved; it goes back to draft."""
        check_case_text(title, vignette, known, self.kept_terms(case_id, author_id))
        changed = self.change(
            case_id, author_id, EDITABLE, title=title, vignette=vignette, status="draft"
        )
        if not changed:
            self.refuse(case_id, author_id, "An approved case is no longer edited.")

    def submit(self, case_id: str, author_id: str) -> None:
        """The author asks a moderator to approve the case."""
        if not self.change(case_id, author_id, ("draft",), status="submitted"):
            self.refuse(case_id, author_id, "Only a draft is submitted for review.")

    def review(self, case_id: str, moderator_id: str, *, approve: bool, seen: str) -> None:
        """A moderator approves or rejects the submitted case as it was when they opened it."""
        found = self.case(case_id)
        if found.author_id == moderator_id:
            raise OwnCaseReview(case_id)
        now = timestamp()
        # Conditional on the submitted version the moderator read: an edit since, or another
        # moderator's review, leaves no row to update, so two approvals never both pass.
        with self.database.write() as connection:
            changed = connection.execute(
                text(
                    "UPDATE conf_cases SET status = :status, reviewed_by = :moderator,"
                    " reviewed_at = :now, updated_at = :now, source_terms = CASE WHEN :status"
                    " = 'approved' THEN NULL ELSE source_terms END WHERE case_id = :id"
                    " AND status = 'submitted' AND updated_at = :seen"
                ),
                {
                    "status": "approved" if approve else "rejected",
                    "moderator": moderator_id,
                    "now": now,
                    "id": case_id,
                    "seen": seen,
                },
            ).rowcount
        if changed != 1:
            raise CaseChanged(case_id)

    def open_discussion(self, case_id: str, thread_id: str) -> str:
        """Attach a thread to an approved case that has none; return the case's thread.

        Of two threads opened at once for one case, the first attached is the discussion; the
        other stays unattached, and a case's thread is shown only through its case.
        """
        with self.database.write() as connection:
            connection.execute(
                text(
                    "UPDATE conf_cases SET thread_id = :thread WHERE case_id = :id"
                    " AND status = 'approved' AND thread_id IS NULL"
                ),
                {"thread": thread_id, "id": case_id},
            )
        found = self.case(case_id)
        if found.status != "approved" or found.thread_id is None:
            raise CaseStateError("Only an approved case is discussed.")
        return found.thread_id

    def cases(self, status: str) -> list[TeachingCase]:
        """Cases in a status, newest first."""
        return self.select("status = :value", status)

    def cases_by(self, author_id: str) -> list[TeachingCase]:
        """An author's own cases, newest first."""
        return self.select("author_id = :value", author_id)

    def export(self, author_id: str) -> list[dict]:
        """An author's own cases as JSON values, whatever their review status."""
        return [dict(case.__dict__) for case in self.cases_by(author_id)]

    def delete_unapproved(self, author_id: str) -> None:
        """Delete an author's cases no moderator approved (approved ones carry a discussion)."""
        with self.database.write() as connection:
            connection.execute(
                text("DELETE FROM conf_cases WHERE author_id = :author AND status <> 'approved'"),
                {"author": author_id},
            )

    def authors_case(self, case_id: str, author_id: str) -> TeachingCase:
        """The author's own case; CaseNotFound for anyone else."""
        found = self.case(case_id)
        if found.author_id != author_id:
            raise CaseNotFound(case_id)
        return found

    def select(self, condition: str, value: str) -> list[TeachingCase]:
        """Cases matching a condition on one column (conditions from this module only)."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    f"SELECT {CASE_COLUMNS} FROM conf_cases WHERE {condition}"
                    " ORDER BY updated_at DESC"
                ),
                {"value": value},
            ).all()
        return [TeachingCase(*row) for row in rows]

    def change(self, case_id: str, author_id: str, states: tuple[str, ...], **columns: str) -> bool:
        """Set columns of the author's case if it is in one of the states; whether it was.

        One conditional statement, so a review on another host between a check and the write
        cannot be overwritten (column names from this module only).
        """
        assignments = ", ".join(f"{name} = :{name}" for name in columns)
        statement = text(
            f"UPDATE conf_cases SET {assignments}, updated_at = :now WHERE case_id = :id"
            " AND author_id = :author AND status IN :states"
        ).bindparams(bindparam("states", expanding=True))
        values = {"now": timestamp(), "id": case_id, "author": author_id, "states": states}
        with self.database.write() as connection:
            return connection.execute(statement, {**columns, **values}).rowcount == 1

    def refuse(self, case_id: str, author_id: str, reason: str) -> NoReturn:
        """Why a change matched no case: CaseNotFound if not the author's, else CaseStateError."""
        self.authors_case(case_id, author_id)
        raise CaseStateError(reason)


def check_case_text(
    title: str, vignette: str, known: IdentifyingTerms, source: SourceTerms
) -> None:
    """The patient-data guard and the Safe Harbor check over a case's title and vignette."""
    for field, written in (("title", title), ("vignette", vignette)):
        check_text(written, f"case {field}", known)
        kind = safe_harbor_kind(written, source)
        if kind is not None:
            raise IdentifierFound(field, kind)


def safe_harbor_kind(written: str, source: SourceTerms) -> str | None:
    """The first kind of Safe Harbor identifier in a text: the source patient's, then any."""
    if source.found_in(written):
        return "record"
    return next(iter(identifier_kinds(written)), None)


def timestamp() -> str:
    """Now, in UTC, as sortable ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
