"""Discussions and the editorial queue in the shared database (SQLite or PostgreSQL).

Threads hang on a scope: `module` (a module id, with the version the thread was started on);
a later journal club can hang its own threads on scope `club` and reuse posts, edits, reports
and hiding unchanged. Learners are the ledger's opaque ids and show as the display names they
chose; no EHR id, fhirUser or patient data is stored (every text passes the patient-data guard).
An item's reporter is a learner id, or `cds:` and the CDS service's keyed user hash for items
filed from override feedback, which carries no free text and no patient key into the item.
A report stays open until a moderator handles it: marks it handled or hides what it reports
(`Reportable`: journal-club reflections are reported and handled the same way).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlite_utils import Database as SqliteFile
from sqlite_utils.migrations import Migrations

from app.collaboration import queue
from app.collaboration.names import mixes_scripts, name_key
from app.collaboration.posting import PAGE_SIZE, check_posting_budget
from app.collaboration.roles import EDIT_QUEUE, MODERATE
from app.database import Database, StoreSchema
from app.ledger.privacy import check_text

migrations = Migrations("bedside.collaboration")
CDS_REPORTER = "cds:"
ERASED_AUTHOR = ""  # the author of the threads and posts of a learner who deleted their data
ERASED_REPORTER = (
    "erased:"  # prefix of an unlinkable reporter id given to an erased learner's reports
)
# (table, learner column) set to ERASED_AUTHOR when a learner deletes their data
ERASED_KEYS = (
    ("collab_threads", "author_id"),
    ("collab_posts", "author_id"),
    ("collab_items", "reporter_key"),
)
# What a notice is about: an item's reporter hears of its triage, replies and resolution; the
# people in a thread hear of a reply; editors of a new queue item; moderators of a reported post.
ITEM_STATUS, ITEM_REPLY, ITEM_RESOLVED = "status", "reply", "resolved"
THREAD_REPLY, QUEUE_ITEM, POST_REPORTED = "thread-reply", "queue-item", "post-reported"
REFLECTION_REPORTED = "reflection-reported"  # a journal club's; `detail` names the reflection
# Roles are learned when their holder uses them; one not seen used for this long gets no notices
# (a revoked editor who never comes back stops hearing of the queue), until seen again.
ROLE_HOLDER_DAYS = 30
ROLE_SEEN_REFRESH = timedelta(days=1)  # how stale `seen_at` may get before a visit rewrites it


class CollaborationError(Exception):
    """A request the discussions or the queue cannot carry out (the message says why)."""


class NameTaken(CollaborationError):
    """Another learner already shows under this display name."""


class NameMixesScripts(CollaborationError):
    """A new display name mixes letters of scripts that could pass for another learner's name."""


class NotFound(CollaborationError):
    """No such thread, post or item (or not one this user may see)."""


@migrations()
def create_collaboration_tables(db: SqliteFile) -> None:
    """Names, threads, posts with their edits and reports, queue items, events and notices."""
    db["collab_names"].create(
        {"learner_id": str, "display_name": str, "name_key": str}, pk="learner_id"
    )
    db["collab_names"].create_index(["name_key"], unique=True)
    db["collab_threads"].create(
        {
            "thread_id": str,
            "scope": str,
            "scope_id": str,
            "scope_version": str,
            "title": str,
            "author_id": str,
            "created_at": str,
        },
        pk="thread_id",
    )
    db["collab_threads"].create_index(["scope", "scope_id", "created_at"])
    db["collab_posts"].create(
        {
            "post_id": str,
            "thread_id": str,
            "author_id": str,
            "body": str,
            "created_at": str,
            "edited_at": str,
            "hidden_at": str,
            "hidden_by": str,
        },
        pk="post_id",
    )
    db["collab_posts"].create_index(["thread_id", "created_at"])
    db["collab_post_edits"].create(
        {"edit_id": str, "post_id": str, "body": str, "replaced_at": str}, pk="edit_id"
    )
    db["collab_post_edits"].create_index(["post_id", "replaced_at"])
    db["collab_reports"].create(
        {"post_id": str, "reporter_id": str, "reported_at": str}, pk=("post_id", "reporter_id")
    )
    db["collab_items"].create(
        {
            "item_id": str,
            "module_id": str,
            "module_version": str,
            "kind": str,
            "field": str,
            "body": str,
            "status": str,
            "reporter_key": str,
            "source": str,
            "source_ref": str,
            "created_at": str,
            "updated_at": str,
            "resolved_version": str,
        },
        pk="item_id",
    )
    db["collab_items"].create_index(["source_ref"], unique=True)
    db["collab_items"].create_index(["status", "created_at"])
    db["collab_item_events"].create(
        {"event_id": str, "item_id": str, "at": str, "actor_id": str, "kind": str, "detail": str},
        pk="event_id",
    )
    db["collab_item_events"].create_index(["item_id", "at"])
    db["collab_notices"].create(
        {
            "notice_id": str,
            "recipient_key": str,
            "item_id": str,
            "kind": str,
            "detail": str,
            "at": str,
            "read_at": str,
        },
        pk="notice_id",
    )
    db["collab_notices"].create_index(["recipient_key", "at"])


@migrations()
def add_discussion_notices(db: SqliteFile) -> None:
    """Notices about threads and posts too, once per event and recipient; who holds a role."""
    for column in ("thread_id", "post_id", "event_key"):
        db["collab_notices"].add_column(column, str)
    db["collab_notices"].create_index(["recipient_key", "event_key"], unique=True)
    db["collab_role_holders"].create(
        {"learner_id": str, "permission": str, "since": str}, pk=("learner_id", "permission")
    )


@migrations()
def index_posts_by_author(db: SqliteFile) -> None:
    """Count a learner's recent posts by an index (the posting budget)."""
    db["collab_posts"].create_index(["author_id", "created_at"])


@migrations()
def add_role_seen_at(db: SqliteFile) -> None:
    """When a role holder was last seen using the role (holders not seen for long are dropped)."""
    db["collab_role_holders"].add_column("seen_at", str)
    db.execute("UPDATE collab_role_holders SET seen_at = since")


@migrations()
def add_key_links(db: SqliteFile) -> None:
    """Which learner a CDS reporter key belongs to (seen when they open Bedside)."""
    db["collab_key_links"].create(
        {"reporter_key": str, "learner_id": str, "seen_at": str}, pk="reporter_key"
    )
    db["collab_key_links"].create_index(["learner_id"])


@migrations()
def index_items_by_reporter(db: SqliteFile) -> None:
    """Count a learner's recent critiques by an index (their posting budget)."""
    db["collab_items"].create_index(["reporter_key", "created_at"])


@migrations()
def index_notices_by_post(db: SqliteFile) -> None:
    """Find the notices about a post by an index (who has not yet read of its reports)."""
    db["collab_notices"].create_index(["post_id"])


SET_NAME_KEY = "UPDATE collab_names SET name_key = :key WHERE learner_id = :learner"


@migrations()
def rekey_display_names(db: SqliteFile) -> None:
    """Key the names stored before look-alikes were folded by the rule of names.py."""
    rekey_names(db.execute, "rowid")


def pg_rekey_display_names(connection: Connection) -> None:
    """rekey_display_names on PostgreSQL."""
    rekey_names(lambda sql, values: connection.execute(text(sql), values), "ctid")


def rekey_names(run: Callable[[str, Mapping[str, str | None]], Any], row_order: str) -> None:
    """Give every stored name its key by names.py; of names now read alike, the first saved stays.

    The table keeps no time, so "first saved" is row order: SQLite's rowid (a later change of
    name keeps it), PostgreSQL's physical order (where a change of name may move a row). The
    other names are deleted: their learners choose a name again before they next post, as a
    learner who never chose one does; what they wrote stays theirs. A key already right is left
    as it is, so a second run changes nothing.
    """
    stored = run(
        f"SELECT learner_id, display_name, name_key FROM collab_names ORDER BY {row_order}", {}
    ).fetchall()
    cleared, rekeyed = keys_to_change(stored)
    for learner_id in cleared:
        run("DELETE FROM collab_names WHERE learner_id = :learner", {"learner": learner_id})
    for learner_id, _ in rekeyed:  # no two rows share a key halfway: NULLs never clash
        run(SET_NAME_KEY, {"learner": learner_id, "key": None})
    for learner_id, key in rekeyed:
        run(SET_NAME_KEY, {"learner": learner_id, "key": key})


def keys_to_change(
    stored: Iterable[tuple[str, str, str]],
) -> tuple[list[str], list[tuple[str, str]]]:
    """Of (learner, name, key) rows in the order saved: whose name to clear, whose key to change."""
    taken: set[str] = set()
    cleared: list[str] = []
    rekeyed: list[tuple[str, str]] = []
    for learner_id, name, stored_key in stored:
        key = name_key(name)
        if key in taken:
            cleared.append(learner_id)
            continue
        taken.add(key)
        if key != stored_key:
            rekeyed.append((learner_id, key))
    return cleared, rekeyed


# A post hidden before reports could be marked handled: its hiding handled the reports it had.
HANDLE_REPORTS_OF_HIDDEN_POSTS = (
    "INSERT INTO collab_report_handlings (handling_id, post_id, handled_by, handled_at, action)"
    " SELECT 'hidden:' || post_id, post_id, hidden_by, hidden_at, 'hidden' FROM collab_posts"
    " WHERE hidden_at IS NOT NULL AND post_id IN (SELECT post_id FROM collab_reports)",
    "UPDATE collab_reports SET handling_id = 'hidden:' || post_id"
    " WHERE post_id IN (SELECT post_id FROM collab_posts WHERE hidden_at IS NOT NULL)",
)


@migrations()
def add_report_handlings(db: SqliteFile) -> None:
    """Moderators mark reports handled: who handled which reports, when, and how."""
    db["collab_reports"].add_column("handling_id", str)
    db["collab_report_handlings"].create(
        {
            "handling_id": str,
            "post_id": str,
            "handled_by": str,
            "handled_at": str,
            "action": str,
        },
        pk="handling_id",
    )
    db["collab_report_handlings"].create_index(["post_id", "handled_at"])
    for statement in HANDLE_REPORTS_OF_HIDDEN_POSTS:
        db.execute(statement)


POSTGRESQL_STEPS = [
    (
        "create_collaboration_tables",
        """
        CREATE TABLE collab_names (
            learner_id TEXT PRIMARY KEY,
            display_name TEXT,
            name_key TEXT
        );
        CREATE UNIQUE INDEX idx_collab_names_name_key ON collab_names (name_key);
        CREATE TABLE collab_threads (
            thread_id TEXT PRIMARY KEY,
            scope TEXT,
            scope_id TEXT,
            scope_version TEXT,
            title TEXT,
            author_id TEXT,
            created_at TEXT COLLATE "C"
        );
        CREATE INDEX idx_collab_threads_scope_scope_id_created_at
            ON collab_threads (scope, scope_id, created_at);
        CREATE TABLE collab_posts (
            post_id TEXT PRIMARY KEY,
            thread_id TEXT,
            author_id TEXT,
            body TEXT,
            created_at TEXT COLLATE "C",
            edited_at TEXT,
            hidden_at TEXT,
            hidden_by TEXT
        );
        CREATE INDEX idx_collab_posts_thread_id_created_at ON collab_posts (thread_id, created_at);
        CREATE TABLE collab_post_edits (
            edit_id TEXT PRIMARY KEY,
            post_id TEXT,
            body TEXT,
            replaced_at TEXT COLLATE "C"
        );
        CREATE INDEX idx_collab_post_edits_post_id_replaced_at
            ON collab_post_edits (post_id, replaced_at);
        CREATE TABLE collab_reports (
            post_id TEXT,
            reporter_id TEXT,
            reported_at TEXT,
            PRIMARY KEY (post_id, reporter_id)
        );
        CREATE TABLE collab_items (
            item_id TEXT PRIMARY KEY,
            module_id TEXT,
            module_version TEXT,
            kind TEXT,
            field TEXT,
            body TEXT,
            status TEXT,
            reporter_key TEXT,
            source TEXT,
            source_ref TEXT,
            created_at TEXT COLLATE "C",
            updated_at TEXT,
            resolved_version TEXT
        );
        CREATE UNIQUE INDEX idx_collab_items_source_ref ON collab_items (source_ref);
        CREATE INDEX idx_collab_items_status_created_at ON collab_items (status, created_at);
        CREATE TABLE collab_item_events (
            event_id TEXT PRIMARY KEY,
            item_id TEXT,
            at TEXT COLLATE "C",
            actor_id TEXT,
            kind TEXT,
            detail TEXT
        );
        CREATE INDEX idx_collab_item_events_item_id_at ON collab_item_events (item_id, at);
        CREATE TABLE collab_notices (
            notice_id TEXT PRIMARY KEY,
            recipient_key TEXT,
            item_id TEXT,
            kind TEXT,
            detail TEXT,
            at TEXT COLLATE "C",
            read_at TEXT
        );
        CREATE INDEX idx_collab_notices_recipient_key_at ON collab_notices (recipient_key, at)
        """,
    ),
    (
        "add_discussion_notices",
        """
        ALTER TABLE collab_notices ADD COLUMN thread_id TEXT;
        ALTER TABLE collab_notices ADD COLUMN post_id TEXT;
        ALTER TABLE collab_notices ADD COLUMN event_key TEXT;
        CREATE UNIQUE INDEX idx_collab_notices_recipient_key_event_key
            ON collab_notices (recipient_key, event_key);
        CREATE TABLE collab_role_holders (
            learner_id TEXT,
            permission TEXT,
            since TEXT,
            PRIMARY KEY (learner_id, permission)
        )
        """,
    ),
    (
        "index_posts_by_author",
        "CREATE INDEX idx_collab_posts_author_id_created_at"
        " ON collab_posts (author_id, created_at)",
    ),
    (
        "add_role_seen_at",
        """
        ALTER TABLE collab_role_holders ADD COLUMN seen_at TEXT COLLATE "C";
        UPDATE collab_role_holders SET seen_at = since
        """,
    ),
    (
        "add_key_links",
        """
        CREATE TABLE collab_key_links (
            reporter_key TEXT PRIMARY KEY,
            learner_id TEXT,
            seen_at TEXT COLLATE "C"
        );
        CREATE INDEX idx_collab_key_links_learner_id ON collab_key_links (learner_id)
        """,
    ),
    (
        "index_items_by_reporter",
        "CREATE INDEX idx_collab_items_reporter_key_created_at"
        " ON collab_items (reporter_key, created_at)",
    ),
    (
        "index_notices_by_post",
        "CREATE INDEX idx_collab_notices_post_id ON collab_notices (post_id)",
    ),
    ("rekey_display_names", pg_rekey_display_names),
    (
        "add_report_handlings",
        """
        ALTER TABLE collab_reports ADD COLUMN handling_id TEXT;
        CREATE TABLE collab_report_handlings (
            handling_id TEXT PRIMARY KEY,
            post_id TEXT,
            handled_by TEXT,
            handled_at TEXT COLLATE "C",
            action TEXT
        );
        CREATE INDEX idx_collab_report_handlings_post_id_handled_at
            ON collab_report_handlings (post_id, handled_at);
        """
        + ";\n".join(HANDLE_REPORTS_OF_HIDDEN_POSTS),
    ),
]
TABLES = (
    "collab_names",
    "collab_threads",
    "collab_posts",
    "collab_post_edits",
    "collab_reports",
    "collab_items",
    "collab_item_events",
    "collab_notices",
    "collab_role_holders",
    "collab_key_links",
    "collab_report_handlings",
)
COLLABORATION_SCHEMA = StoreSchema(
    "bedside.collaboration",
    migrations,
    POSTGRESQL_STEPS,
    # Override feedback is pulled with SELECT on cds_feedback and cds_exposures, which the CDS
    # store's own grants already give (granting them here would revoke its other privileges).
    # A learner deleting their data deletes their display name, their notices and the roles
    # Bedside saw them hold (their posts stay, unnamed); a role no longer held is deleted when it
    # is noticed; a handling of reports is only ever added. One tuple a table: a later tuple's
    # REVOKE ALL would wipe an earlier grant.
    grants=(
        ("SELECT, INSERT, UPDATE", TABLES[1:7]),
        ("SELECT, INSERT, UPDATE, DELETE", (TABLES[0], *TABLES[7:10])),
        ("SELECT, INSERT", TABLES[10:]),
    ),
)
NEW_OVERRIDES = text(
    "SELECT feedback.feedback_key, feedback.module_id, exposure.module_version,"
    " feedback.user_key, feedback.override_reason, feedback.override_reason_system"
    " FROM cds_feedback AS feedback"
    " JOIN cds_exposures AS exposure ON exposure.card_uuid = feedback.card_uuid"
    " WHERE feedback.outcome = 'overridden' AND feedback.override_reason IN :reasons"
    " AND NOT EXISTS (SELECT 1 FROM collab_items AS item"
    " WHERE item.source_ref = 'cds:' || feedback.feedback_key)"
).bindparams(bindparam("reasons", expanding=True))
ITEM_COLUMNS = (
    "item_id, module_id, module_version, kind, field, body, status, reporter_key, source,"
    " source_ref, created_at, updated_at, resolved_version"
)
NOTICE_QUERY = (
    "SELECT notice.notice_id, notice.item_id, notice.kind, notice.detail, notice.at,"
    " notice.read_at, notice.thread_id, notice.post_id, thread.scope, thread.scope_id,"
    " thread.title FROM collab_notices AS notice"
    " LEFT JOIN collab_posts AS post ON post.post_id = notice.post_id"
    " LEFT JOIN collab_threads AS thread ON thread.thread_id = notice.thread_id"
)
POST_COLUMNS = "post_id, thread_id, author_id, body, created_at, edited_at, hidden_at, hidden_by"
DISMISSED, HIDDEN = "dismissed", "hidden"  # how a moderator handled a row's reports


@dataclass(frozen=True)
class Reportable:
    """Rows learners report to the moderators, who hide them or mark their reports handled.

    Names from the stores' code, never from input. `table` has `key`, `columns`, created_at,
    hidden_at and hidden_by; `reports` has (key, reporter_id, reported_at, handling_id), one row
    a reporter, open while handling_id is NULL; `handlings` logs (handling_id, key, handled_by,
    handled_at, action) for every time a moderator handled the row's reports.
    """

    table: str
    key: str
    columns: str
    reports: str
    handlings: str


POSTS = Reportable(
    "collab_posts", "post_id", POST_COLUMNS, "collab_reports", "collab_report_handlings"
)


@dataclass(frozen=True)
class CdsOverride:
    """An override of a card: the keyed user and the coded reason (no patient, no free text)."""

    feedback_key: str
    module_id: str
    module_version: str
    user_key: str
    reason_code: str | None
    reason_system: str | None


@dataclass(frozen=True)
class Thread:
    """A discussion thread on one scope (a module version, later a journal club)."""

    thread_id: str
    scope: str
    scope_id: str
    scope_version: str
    title: str
    author_id: str
    created_at: str
    posts: int = 0


@dataclass(frozen=True)
class Post:
    """One post: the opening post of a thread or a reply."""

    post_id: str
    thread_id: str
    author_id: str
    body: str
    created_at: str
    edited_at: str | None
    hidden_at: str | None
    hidden_by: str | None

    @property
    def hidden(self) -> bool:
        """Tell whether a moderator hid the post."""
        return self.hidden_at is not None


@dataclass(frozen=True)
class Edit:
    """An earlier text of a post, kept when its author changed it."""

    body: str
    replaced_at: str


@dataclass(frozen=True)
class Item:
    """A critique in the editorial queue."""

    item_id: str
    module_id: str
    module_version: str
    kind: str
    field: str | None
    body: str
    status: str
    reporter_key: str
    source: str
    source_ref: str
    created_at: str
    updated_at: str
    resolved_version: str | None


@dataclass(frozen=True)
class Event:
    """Something that happened to an item: triage, a reply, a link, its resolution."""

    at: str
    actor_id: str
    kind: str
    detail: str


@dataclass(frozen=True)
class Notice:
    """An in-app notification: to an item's reporter, the people in a thread, editors, moderators.

    `scope`, `scope_id` and `thread_title` name the thread of a notice about a post; `detail` is
    an item's new status, an editor's reply or the resolving version (never a post's text).
    """

    notice_id: str
    item_id: str | None
    kind: str
    detail: str
    at: str
    read_at: str | None
    thread_id: str | None = None
    post_id: str | None = None
    scope: str | None = None
    scope_id: str | None = None
    thread_title: str | None = None


class CollaborationStore:
    """Discussions, the editorial queue and its notices, for every worker and host."""

    def __init__(self, database: Database):
        self.database = database
        database.migrate(COLLABORATION_SCHEMA)

    # Display names

    def display_name(self, learner_id: str) -> str | None:
        """The name a learner chose to show, or None."""
        return self.display_names([learner_id]).get(learner_id)

    def display_names(self, learner_ids: Collection[str]) -> dict[str, str]:
        """The chosen names of these learners (those who chose none are left out)."""
        if not learner_ids:
            return {}
        query = text(
            "SELECT learner_id, display_name FROM collab_names WHERE learner_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        with self.database.read() as connection:
            rows = connection.execute(query, {"ids": sorted(set(learner_ids))}).all()
        return dict(rows)

    def set_display_name(self, learner_id: str, name: str) -> None:
        """Choose (or change) the learner's display name.

        NameTaken if another learner's name reads the same (names.py), NameMixesScripts for a
        new name that mixes scripts (a name the learner already has is kept as it is).
        """
        check_text(name, "display name")
        key = name_key(name)
        try:
            with self.database.write() as connection:
                current = connection.execute(
                    text("SELECT display_name FROM collab_names WHERE learner_id = :learner"),
                    {"learner": learner_id},
                ).scalar()
                if name != current and mixes_scripts(name):
                    raise NameMixesScripts(name)
                owner = connection.execute(
                    text("SELECT learner_id FROM collab_names WHERE name_key = :key"),
                    {"key": key},
                ).scalar()
                if owner not in {None, learner_id}:
                    raise NameTaken(name)
                connection.execute(
                    text(
                        "INSERT INTO collab_names (learner_id, display_name, name_key)"
                        " VALUES (:learner, :name, :key) ON CONFLICT (learner_id)"
                        " DO UPDATE SET display_name = excluded.display_name,"
                        " name_key = excluded.name_key"
                    ),
                    {"learner": learner_id, "name": name, "key": key},
                )
        except IntegrityError:
            # PostgreSQL: another learner took the name between our check and our insert.
            raise NameTaken(name) from None

    # Threads and posts

    def export(self, learner_id: str) -> dict:
        """A learner's own contributions as JSON values: name, posts, reports and filed items."""
        keys = [learner_id, *self.linked_keys(learner_id)]
        with self.database.read() as connection:
            name = connection.execute(
                text("SELECT display_name FROM collab_names WHERE learner_id = :l"),
                {"l": learner_id},
            ).scalar()
            posts = connection.execute(
                text(
                    "SELECT post_id, thread_id, body, created_at, edited_at, hidden_at"
                    " FROM collab_posts WHERE author_id = :l ORDER BY created_at, post_id"
                ),
                {"l": learner_id},
            ).all()
            reports = connection.execute(
                text(
                    "SELECT post_id, reported_at FROM collab_reports WHERE reporter_id = :l"
                    " ORDER BY reported_at, post_id"
                ),
                {"l": learner_id},
            ).all()
        return {
            "display_name": name,
            "posts": [dict(row._mapping) for row in posts],
            "reports": [dict(row._mapping) for row in reports],
            "items": [item_data(item) for item in self.items_reported_by(keys)],
        }

    def forget_display_name(self, learner_id: str, cds_keys: Collection[str] = ()) -> list[str]:
        """Erase a learner: name, notices and roles go; what they wrote or filed stays, unowned.

        Their CDS keys are those linked to them and `cds_keys` (their session's, perhaps never
        noted), except a key linked to another learner; they are returned, for the CDS store.
        """
        with self.database.write() as connection:
            erasable = erasable_keys(connection, learner_id, cds_keys)
            keys = [learner_id, *erasable]
            for table in ("collab_names", "collab_role_holders", "collab_key_links"):
                connection.execute(
                    text(f"DELETE FROM {table} WHERE learner_id = :l"), {"l": learner_id}
                )
            for key in keys:  # their learner id and the CDS keys seen to be theirs
                connection.execute(
                    text("DELETE FROM collab_notices WHERE recipient_key = :k"), {"k": key}
                )
                for table, column in ERASED_KEYS:
                    connection.execute(
                        text(f"UPDATE {table} SET {column} = :erased WHERE {column} = :k"),
                        {"erased": ERASED_AUTHOR, "k": key},
                    )
            detach_reports(connection, learner_id)
        return erasable

    def start_thread(
        self,
        scope: str,
        scope_id: str,
        version: str,
        title: str,
        author_id: str,
        body: str,
        *,
        budgeted: bool = True,
        thread_id: str | None = None,
    ) -> str:
        """Open a thread with its first post (PostingTooFast over the budget); return its id.

        `budgeted=False` for a thread Bedside opens in an author's name (an approved case's
        discussion): the author did not post just now, so their posting budget does not apply.
        Given a `thread_id`, opening is done once: a thread of that id is left as it is.
        """
        check_text(title, "thread title")
        check_text(body, "post")
        thread_id, moment = thread_id or new_id(), datetime.now(UTC)
        now = moment.isoformat(timespec="microseconds")
        with self.database.write() as connection:
            if budgeted:
                check_posting_budget(connection, "collab_posts", author_id, moment)
            opened = connection.execute(
                text(
                    "INSERT INTO collab_threads (thread_id, scope, scope_id, scope_version, title,"
                    " author_id, created_at) VALUES (:thread_id, :scope, :scope_id, :version,"
                    " :title, :author, :now) ON CONFLICT (thread_id) DO NOTHING"
                ),
                {
                    "thread_id": thread_id,
                    "scope": scope,
                    "scope_id": scope_id,
                    "version": version,
                    "title": title,
                    "author": author_id,
                    "now": now,
                },
            ).rowcount
            if opened:
                insert_post(connection, thread_id, author_id, body, now)
        return thread_id

    def thread_count(self, scope: str, scope_id: str) -> int:
        """How many threads the scope has."""
        with self.database.read() as connection:
            return connection.execute(
                text(
                    "SELECT count(*) FROM collab_threads"
                    " WHERE scope = :scope AND scope_id = :scope_id"
                ),
                {"scope": scope, "scope_id": scope_id},
            ).scalar_one()

    def threads(
        self, scope: str, scope_id: str, *, limit: int = PAGE_SIZE, offset: int = 0
    ) -> list[Thread]:
        """A page of the scope's threads, newest first, with their post counts."""
        query = text(
            "SELECT thread.thread_id, thread.scope, thread.scope_id, thread.scope_version,"
            " thread.title, thread.author_id, thread.created_at, count(post.post_id)"
            " FROM collab_threads AS thread"
            " LEFT JOIN collab_posts AS post ON post.thread_id = thread.thread_id"
            " WHERE thread.scope = :scope AND thread.scope_id = :scope_id"
            " GROUP BY thread.thread_id, thread.scope, thread.scope_id, thread.scope_version,"
            " thread.title, thread.author_id, thread.created_at"
            " ORDER BY thread.created_at DESC, thread.thread_id LIMIT :limit OFFSET :offset"
        )
        values = {"scope": scope, "scope_id": scope_id, "limit": limit, "offset": offset}
        with self.database.read() as connection:
            rows = connection.execute(query, values).all()
        return [Thread(*row) for row in rows]

    def thread(self, thread_id: str) -> Thread:
        """One thread; NotFound if there is none."""
        with self.database.read() as connection:
            row = connection.execute(
                text(
                    "SELECT thread_id, scope, scope_id, scope_version, title, author_id,"
                    " created_at FROM collab_threads WHERE thread_id = :id"
                ),
                {"id": thread_id},
            ).first()
        if row is None:
            raise NotFound(thread_id)
        return Thread(*row)

    def retitle_thread(self, thread_id: str, title: str) -> None:
        """A moderator replaces a thread's title (one naming a patient); the old one is not kept."""
        check_text(title, "thread title")
        with self.database.write() as connection:
            retitled = connection.execute(
                text("UPDATE collab_threads SET title = :title WHERE thread_id = :id"),
                {"title": title, "id": thread_id},
            ).rowcount
        if not retitled:
            raise NotFound(thread_id)

    def post_count(self, thread_id: str, *, hidden: bool = True) -> int:
        """How many posts the thread has (without the hidden ones when hidden=False)."""
        shown = "" if hidden else " AND hidden_at IS NULL"
        with self.database.read() as connection:
            return connection.execute(
                text(f"SELECT count(*) FROM collab_posts WHERE thread_id = :id{shown}"),
                {"id": thread_id},
            ).scalar_one()

    def posts(
        self, thread_id: str, *, limit: int = PAGE_SIZE, offset: int = 0, hidden: bool = True
    ) -> list[Post]:
        """A page of a thread's posts in the order they were written (hidden ones if asked)."""
        shown = "" if hidden else " AND hidden_at IS NULL"
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    f"SELECT {POST_COLUMNS} FROM collab_posts WHERE thread_id = :id{shown}"
                    " ORDER BY created_at, post_id LIMIT :limit OFFSET :offset"
                ),
                {"id": thread_id, "limit": limit, "offset": offset},
            ).all()
        return [Post(*row) for row in rows]

    def post(self, post_id: str) -> Post:
        """One post; NotFound if there is none."""
        with self.database.read() as connection:
            row = connection.execute(
                text(f"SELECT {POST_COLUMNS} FROM collab_posts WHERE post_id = :id"),
                {"id": post_id},
            ).first()
        if row is None:
            raise NotFound(post_id)
        return Post(*row)

    def reply(self, thread_id: str, author_id: str, body: str) -> str:
        """Add a reply to a thread (PostingTooFast over the author's budget); return the post id."""
        check_text(body, "post")
        self.thread(thread_id)
        moment = datetime.now(UTC)
        now = moment.isoformat(timespec="microseconds")
        with self.database.write() as connection:
            check_posting_budget(connection, "collab_posts", author_id, moment)
            post_id = insert_post(connection, thread_id, author_id, body, now)
            notify_thread(connection, thread_id, post_id, author_id, now)
        return post_id

    def edit_post(self, post_id: str, author_id: str, body: str) -> None:
        """Replace the author's own post, keeping the earlier text in its edit history."""
        check_text(body, "post")
        with self.database.write() as connection:
            row = connection.execute(
                text(
                    "SELECT body FROM collab_posts WHERE post_id = :id AND author_id = :author"
                    + row_lock(connection)
                ),
                {"id": post_id, "author": author_id},
            ).first()
            if row is None:
                raise NotFound(post_id)
            now = timestamp()  # after the lock: edits are timed in the order they replace texts
            connection.execute(
                text(
                    "INSERT INTO collab_post_edits (edit_id, post_id, body, replaced_at)"
                    " VALUES (:edit_id, :post_id, :body, :now)"
                ),
                {"edit_id": new_id(), "post_id": post_id, "body": row[0], "now": now},
            )
            connection.execute(
                text("UPDATE collab_posts SET body = :body, edited_at = :now WHERE post_id = :id"),
                {"body": body, "now": now, "id": post_id},
            )

    def edits(self, post_id: str) -> list[Edit]:
        """A post's earlier texts, oldest first."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    "SELECT body, replaced_at FROM collab_post_edits WHERE post_id = :id"
                    " ORDER BY replaced_at, edit_id"
                ),
                {"id": post_id},
            ).all()
        return [Edit(*row) for row in rows]

    def report_post(self, post_id: str, reporter_id: str) -> bool:
        """Flag a post for the moderators; False when this learner's report is already open.

        A moderator is told of a report unless a notice of an earlier one of this post is still
        unread for them: a post reported again after they read of it reaches them again. Notices
        are keyed by the report's time, never by its reporter.
        """
        post = self.post(post_id)
        with self.database.write() as connection:
            reported_at = add_report(connection, POSTS, post_id, reporter_id)
            if reported_at is not None:
                notify_role(
                    connection,
                    MODERATE,
                    kind=POST_REPORTED,
                    event_key=f"report:{post_id}:{reported_at}",
                    values={"thread_id": post.thread_id, "post_id": post_id},
                    now=reported_at,
                    skip={reporter_id, *unread_report_notices(connection, post_id)},
                )
        return reported_at is not None

    def notify_reflection_reported(self, reflection_id: str, reporter_id: str) -> None:
        """Tell the moderators a journal-club reflection was reported (as `report_post` does)."""
        now = timestamp()
        with self.database.write() as connection:
            unread = connection.execute(
                text(
                    "SELECT recipient_key FROM collab_notices WHERE kind = :kind"
                    " AND detail = :reflection AND read_at IS NULL"
                ),
                {"kind": REFLECTION_REPORTED, "reflection": reflection_id},
            ).scalars()
            notify_role(
                connection,
                MODERATE,
                kind=REFLECTION_REPORTED,
                event_key=f"reflection-report:{reflection_id}:{now}",
                values={"detail": reflection_id},
                now=now,
                skip={reporter_id, *unread},
            )

    def reported_posts(self, *, limit: int = PAGE_SIZE, offset: int = 0) -> list[tuple[Post, int]]:
        """A page of the posts with reports not yet handled, with how many each has, most first."""
        with self.database.read() as connection:
            rows = reported_rows(connection, POSTS, limit=limit, offset=offset)
        return [(Post(*row), count) for row, count in rows]

    def reported_post_count(self) -> int:
        """How many posts `reported_posts` lists, over all its pages."""
        with self.database.read() as connection:
            return reported_row_count(connection, POSTS)

    def dismiss_reports(self, post_id: str, moderator_id: str) -> None:
        """A moderator marks a post's reports handled, leaving it shown (the handling is kept)."""
        self.post(post_id)
        with self.database.write() as connection:
            handle_reports(connection, POSTS, post_id, moderator_id, DISMISSED)

    def set_hidden(self, post_id: str, moderator_id: str, *, hidden: bool) -> None:
        """Hide a post from learners (handling its reports) or restore it; the text is kept."""
        self.post(post_id)
        with self.database.write() as connection:
            set_row_hidden(connection, POSTS, post_id, moderator_id, hidden=hidden)

    # The editorial queue

    def file_item(
        self,
        module: Mapping[str, Any],
        kind: str,
        body: str,
        reporter_key: str,
        *,
        field: str | None = None,
        source: str = "learner",
        source_ref: str | None = None,
    ) -> str:
        """Add a learner's critique to the queue; return its id (an existing one for a repeat).

        PostingTooFast over the learner's budget of critiques (each one tells every editor).
        """
        if kind not in queue.KINDS:
            raise CollaborationError(f"Unknown kind of item {kind!r}.")
        check_text(body, "critique")
        item_id = queue.new_item_id()
        with self.database.write() as connection:
            check_posting_budget(
                connection,
                "collab_items",
                reporter_key,
                datetime.now(UTC),
                author_column="reporter_key",
            )
            filed = insert_item(
                connection,
                item_id=item_id,
                module=module,
                kind=kind,
                body=body,
                reporter=reporter_key,
                field=field,
                source=source,
                source_ref=source_ref or f"{source}:{item_id}",
            )
            notify_editors(connection, filed, reporter_key)
        return filed

    def file_cds_override(self, override: CdsOverride) -> None:
        """File an item for an override that critiques the content, once per feedback id."""
        with self.database.write() as connection:
            file_override(connection, override)

    def import_cds_feedback(self) -> int:
        """File an item for each critiquing CDS override not yet filed; return how many."""
        reasons = sorted(queue.CRITIQUE_REASONS)
        with self.database.write() as connection:
            rows = connection.execute(NEW_OVERRIDES, {"reasons": reasons}).all()
            return sum(file_override(connection, CdsOverride(*row)) for row in rows)

    def items(
        self,
        statuses: Collection[str] = queue.STATUSES,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Item]:
        """Queue items in these statuses, oldest first (a page of them with a limit)."""
        page_clause = "" if limit is None else " LIMIT :limit OFFSET :offset"
        query = text(
            f"SELECT {ITEM_COLUMNS} FROM collab_items WHERE status IN :statuses"
            f" ORDER BY created_at, item_id{page_clause}"
        ).bindparams(bindparam("statuses", expanding=True))
        values = {"statuses": list(statuses), "limit": limit, "offset": offset}
        with self.database.read() as connection:
            rows = connection.execute(query, values).all()
        return [Item(*row) for row in rows]

    def item_count(self, statuses: Collection[str] = queue.STATUSES) -> int:
        """How many queue items are in these statuses."""
        query = text("SELECT count(*) FROM collab_items WHERE status IN :statuses").bindparams(
            bindparam("statuses", expanding=True)
        )
        with self.database.read() as connection:
            return connection.execute(query, {"statuses": list(statuses)}).scalar_one()

    def item(self, item_id: str) -> Item:
        """One item; NotFound if there is none."""
        with self.database.read() as connection:
            row = connection.execute(
                text(f"SELECT {ITEM_COLUMNS} FROM collab_items WHERE item_id = :id"),
                {"id": item_id},
            ).first()
        if row is None:
            raise NotFound(item_id)
        return Item(*row)

    def items_reported_by(self, reporter_keys: Collection[str]) -> list[Item]:
        """The items these reporter keys filed, newest first."""
        query = text(
            f"SELECT {ITEM_COLUMNS} FROM collab_items WHERE reporter_key IN :keys"
            " ORDER BY created_at DESC"
        ).bindparams(bindparam("keys", expanding=True))
        with self.database.read() as connection:
            rows = connection.execute(query, {"keys": sorted(reporter_keys)}).all()
        return [Item(*row) for row in rows]

    def events(self, item_id: str) -> list[Event]:
        """What happened to an item, in order."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    "SELECT at, actor_id, kind, detail FROM collab_item_events"
                    " WHERE item_id = :id ORDER BY at, event_id"
                ),
                {"id": item_id},
            ).all()
        return [Event(*row) for row in rows]

    def triage(self, item_id: str, status: str, editor_id: str) -> None:
        """Move an item to new, accepted or rejected, and tell the reporter."""
        if status not in queue.TRIAGE_STATUSES:
            raise CollaborationError(f"An editor cannot set the status {status!r}.")
        with self.database.write() as connection:
            item = locked_item(connection, item_id)
            if item.status == "resolved":
                raise CollaborationError("A resolved item stays resolved.")
            update_item(connection, item_id, status=status)
            record_event(connection, item, editor_id, "status", status, notify=True)

    def reply_to_reporter(self, item_id: str, editor_id: str, message: str) -> None:
        """Send the reporter a reply (shown in their notices and in the item's history)."""
        check_text(message, "reply")
        with self.database.write() as connection:
            item = locked_item(connection, item_id)
            record_event(connection, item, editor_id, "reply", message, notify=True)

    def link_field(self, item_id: str, field: str, editor_id: str) -> None:
        """Point the item at the module field it concerns."""
        with self.database.write() as connection:
            item = locked_item(connection, item_id)
            update_item(connection, item_id, field=field)
            record_event(connection, item, editor_id, "field", field, notify=False)

    def resolve_published(self, modules: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """Resolve every open item a loaded module version cites; return their ids.

        Every worker does this as it starts, so the status moves by a conditional UPDATE: of
        workers starting at once (on PostgreSQL too) one resolves the item and tells its reporter.
        """
        resolved = []
        for item in self.items(queue.OPEN_STATUSES):
            module = modules.get(item.module_id)
            version = module and queue.resolving_version(module, item.item_id, item.module_version)
            if not version:
                continue
            with self.database.write() as connection:
                if not mark_resolved(connection, item.item_id, version):
                    continue
                record_event(connection, item, "", "resolved", version, notify=True)
            resolved.append(item.item_id)
        return resolved

    # Notices

    def notices(
        self, recipient_keys: Collection[str], *, limit: int = PAGE_SIZE, offset: int = 0
    ) -> list[Notice]:
        """A page of the notices to any of these keys (one person's learner id and CDS keys),
        newest first. A notice about a post a moderator hid is left out (hidden posts notify
        nobody)."""
        query = text(
            f"{NOTICE_QUERY} WHERE notice.recipient_key IN :keys AND post.hidden_at IS NULL"
            " ORDER BY notice.at DESC, notice.notice_id LIMIT :limit OFFSET :offset"
        ).bindparams(bindparam("keys", expanding=True))
        values = {"keys": sorted(recipient_keys), "limit": limit, "offset": offset}
        with self.database.read() as connection:
            rows = connection.execute(query, values).all()
        return [Notice(*row) for row in rows]

    def notice_count(self, recipient_keys: Collection[str]) -> int:
        """How many notices `notices` lists for these keys, over all its pages."""
        query = text(
            "SELECT count(*) FROM collab_notices AS notice"
            " LEFT JOIN collab_posts AS post ON post.post_id = notice.post_id"
            " WHERE notice.recipient_key IN :keys AND post.hidden_at IS NULL"
        ).bindparams(bindparam("keys", expanding=True))
        with self.database.read() as connection:
            return connection.execute(query, {"keys": sorted(recipient_keys)}).scalar_one()

    def unread_notices(
        self, learner_id: str, since: str, mailed: Collection[str] = (), limit: int = 50
    ) -> list[Notice]:
        """A learner's first unread notices after `since` not in `mailed`, oldest first.

        Those to the CDS keys seen to be theirs count too (an editor's reply to an override they
        made in the EHR). Mailed ones are left out before the limit, so a run always finds the
        next unmailed ones; none about a hidden post.
        """
        query = text(
            f"{NOTICE_QUERY} WHERE (notice.recipient_key = :learner OR notice.recipient_key IN"
            " (SELECT reporter_key FROM collab_key_links WHERE learner_id = :learner))"
            " AND notice.read_at IS NULL AND notice.at > :since AND post.hidden_at IS NULL"
            " AND notice.notice_id NOT IN :mailed"
            " ORDER BY notice.at, notice.notice_id LIMIT :limit"
        ).bindparams(bindparam("mailed", expanding=True, type_=String))
        values = {"learner": learner_id, "since": since, "mailed": sorted(mailed), "limit": limit}
        with self.database.read() as connection:
            rows = connection.execute(query, values).all()
        return [Notice(*row) for row in rows]

    def mark_read(self, recipient_keys: Collection[str], shown_at: str | None = None) -> None:
        """Mark the notices to these keys read: all, or those already there at `shown_at`."""
        now = timestamp()
        up_to = now if shown_at is None else min(shown_at, now)
        query = text(
            "UPDATE collab_notices SET read_at = :now"
            " WHERE recipient_key IN :keys AND read_at IS NULL AND at <= :up_to"
        ).bindparams(bindparam("keys", expanding=True))
        with self.database.write() as connection:
            connection.execute(query, {"keys": sorted(recipient_keys), "now": now, "up_to": up_to})

    def note_role(self, learner_id: str, permission: str, *, held: bool) -> None:
        """Remember whether a learner holds a permission (editors and moderators get notices).

        Roles come from the configuration at sign-in, so Bedside learns who holds one when they
        use it; it writes only when that changed or the last sighting is a day old.
        """
        now = datetime.now(UTC)
        with self.database.read() as connection:
            seen_at = connection.execute(
                text(
                    "SELECT seen_at FROM collab_role_holders"
                    " WHERE learner_id = :l AND permission = :p"
                ),
                {"l": learner_id, "p": permission},
            ).first()
        if held and seen_at is not None and seen_at[0] > iso(now - ROLE_SEEN_REFRESH):
            return
        if not held and seen_at is None:
            return
        with self.database.write() as connection:
            if held:
                connection.execute(
                    text(
                        "INSERT INTO collab_role_holders (learner_id, permission, since, seen_at)"
                        " VALUES (:l, :p, :now, :now) ON CONFLICT (learner_id, permission)"
                        " DO UPDATE SET seen_at = excluded.seen_at"
                    ),
                    {"l": learner_id, "p": permission, "now": iso(now)},
                )
            else:
                connection.execute(
                    text(
                        "DELETE FROM collab_role_holders WHERE learner_id = :l AND permission = :p"
                    ),
                    {"l": learner_id, "p": permission},
                )

    def note_keys(self, learner_id: str, keys: Collection[str]) -> None:
        """Remember which CDS reporter keys are this learner's (written at most once a day each).

        A CDS override names its clinician by a keyed hash of the EHR user; when that clinician
        opens Bedside the link is seen, so notices filed under the hash reach them by e-mail too,
        and their export and erasure cover those items. A key linked to another learner stays
        theirs (it is never taken over).
        """
        cds_keys = sorted(key for key in keys if key.startswith(CDS_REPORTER))
        if not cds_keys:
            return
        now = datetime.now(UTC)
        query = text(
            "SELECT reporter_key FROM collab_key_links WHERE reporter_key IN :keys"
            " AND (learner_id <> :l OR seen_at > :fresh)"
        ).bindparams(bindparam("keys", expanding=True))
        values = {"keys": cds_keys, "l": learner_id, "fresh": iso(now - ROLE_SEEN_REFRESH)}
        with self.database.read() as connection:
            settled = set(connection.execute(query, values).scalars())
        stale = [key for key in cds_keys if key not in settled]
        if not stale:
            return
        with self.database.write() as connection:
            for key in stale:
                connection.execute(
                    text(
                        "INSERT INTO collab_key_links (reporter_key, learner_id, seen_at)"
                        " VALUES (:k, :l, :now) ON CONFLICT (reporter_key) DO UPDATE"
                        " SET seen_at = excluded.seen_at"
                        " WHERE collab_key_links.learner_id = excluded.learner_id"
                    ),
                    {"k": key, "l": learner_id, "now": iso(now)},
                )

    def linked_keys(self, learner_id: str) -> list[str]:
        """The CDS reporter keys seen to be this learner's."""
        with self.database.read() as connection:
            query = text("SELECT reporter_key FROM collab_key_links WHERE learner_id = :l")
            return sorted(connection.execute(query, {"l": learner_id}).scalars())


def item_data(item: Item) -> dict:
    """An item its reporter filed, as JSON values for their data export."""
    return {
        "item_id": item.item_id,
        "module": f"{item.module_id}@{item.module_version}",
        "kind": item.kind,
        "body": item.body,
        "status": item.status,
        "created_at": item.created_at,
    }


def insert_post(connection: Connection, thread_id: str, author_id: str, body: str, now: str) -> str:
    """Insert a post row; return its id."""
    post_id = new_id()
    connection.execute(
        text(
            "INSERT INTO collab_posts (post_id, thread_id, author_id, body, created_at)"
            " VALUES (:post_id, :thread_id, :author, :body, :now)"
        ),
        {"post_id": post_id, "thread_id": thread_id, "author": author_id, "body": body, "now": now},
    )
    return post_id


def insert_item(
    connection: Connection, *, item_id: str, module: Mapping[str, Any], **values
) -> str:
    """Insert an item once per source_ref; return the id of the item that holds it."""
    now = timestamp()
    connection.execute(
        text(
            f"INSERT INTO collab_items ({ITEM_COLUMNS}) VALUES (:item_id, :module_id, :version,"
            " :kind, :field, :body, 'new', :reporter, :source, :source_ref, :now, :now, NULL)"
            " ON CONFLICT DO NOTHING"
        ),
        {
            "item_id": item_id,
            "module_id": module["id"],
            "version": str(module["version"]),
            "now": now,
            **values,
        },
    )
    return connection.execute(
        text("SELECT item_id FROM collab_items WHERE source_ref = :ref"),
        {"ref": values["source_ref"]},
    ).scalar_one()


def file_override(connection: Connection, override: CdsOverride) -> bool:
    """Insert the item a critiquing override files (once per feedback id); False for no critique."""
    kind = queue.critique_kind(override.reason_code, override.reason_system)
    if kind is None:
        return False
    reporter = CDS_REPORTER + override.user_key
    item_id = insert_item(
        connection,
        item_id=queue.new_item_id(),
        module={"id": override.module_id, "version": override.module_version},
        kind=kind,
        body="",
        reporter=reporter,
        field="card",
        source="cds",
        source_ref=f"cds:{override.feedback_key}",
    )
    notify_editors(connection, item_id, reporter)
    return True


def locked_item(connection: Connection, item_id: str) -> Item:
    """Read and lock an item inside a write transaction; NotFound if there is none."""
    row = connection.execute(
        text(f"SELECT {ITEM_COLUMNS} FROM collab_items WHERE item_id = :id{row_lock(connection)}"),
        {"id": item_id},
    ).first()
    if row is None:
        raise NotFound(item_id)
    return Item(*row)


def row_lock(connection: Connection) -> str:
    """The clause that locks the rows a write reads until it commits (on PostgreSQL).

    SQLite needs none: a write() holds the database's write lock from its first statement.
    """
    return " FOR UPDATE" if connection.dialect.name == "postgresql" else ""


def lock_row(connection: Connection, what: Reportable, row_id: str) -> None:
    """Lock a reported row until the write commits, so its reports and handlings queue up.

    Each takes its time after the lock: a report made while a moderator handles the row is
    either handled with the others or stays open, never lost (on PostgreSQL too).
    """
    connection.execute(
        text(f"SELECT {what.key} FROM {what.table} WHERE {what.key} = :id{row_lock(connection)}"),
        {"id": row_id},
    )


def add_report(
    connection: Connection, what: Reportable, row_id: str, reporter_id: str
) -> str | None:
    """Report a row for this learner; when the report is new, its time, else None.

    A learner's report counts once until a moderator handles it; reporting again after that
    opens it again (what they report may have changed since).
    """
    lock_row(connection, what, row_id)
    now = timestamp()
    result = connection.execute(
        text(
            f"INSERT INTO {what.reports} ({what.key}, reporter_id, reported_at)"
            f" VALUES (:id, :reporter, :now) ON CONFLICT ({what.key}, reporter_id) DO UPDATE"
            " SET reported_at = excluded.reported_at, handling_id = NULL"
            f" WHERE {what.reports}.handling_id IS NOT NULL"
        ),
        {"id": row_id, "reporter": reporter_id, "now": now},
    )
    return now if result.rowcount == 1 else None


def handle_reports(
    connection: Connection, what: Reportable, row_id: str, moderator_id: str, action: str
) -> int:
    """Record that a moderator handled a row (DISMISSED or HIDDEN); close its open reports.

    Returns how many reports it closed. The handling is logged even when none was open.
    """
    lock_row(connection, what, row_id)
    handling_id, now = new_id(), timestamp()
    connection.execute(
        text(
            f"INSERT INTO {what.handlings} (handling_id, {what.key}, handled_by, handled_at,"
            " action) VALUES (:handling, :id, :moderator, :now, :action)"
        ),
        {
            "handling": handling_id,
            "id": row_id,
            "moderator": moderator_id,
            "now": now,
            "action": action,
        },
    )
    return connection.execute(
        text(
            f"UPDATE {what.reports} SET handling_id = :handling"
            f" WHERE {what.key} = :id AND handling_id IS NULL"
        ),
        {"handling": handling_id, "id": row_id},
    ).rowcount


def set_row_hidden(
    connection: Connection, what: Reportable, row_id: str, moderator_id: str, *, hidden: bool
) -> None:
    """Hide a row from learners, which handles its reports, or show it again."""
    lock_row(connection, what, row_id)
    values = {"id": row_id, "at": timestamp() if hidden else None}
    values["by"] = moderator_id if hidden else None
    connection.execute(
        text(f"UPDATE {what.table} SET hidden_at = :at, hidden_by = :by WHERE {what.key} = :id"),
        values,
    )
    if hidden:
        handle_reports(connection, what, row_id, moderator_id, HIDDEN)


def reported_rows(
    connection: Connection, what: Reportable, *, limit: int, offset: int
) -> list[tuple[tuple, int]]:
    """A page of the rows with open reports, with how many each has, most reported first."""
    columns = ", ".join("subject." + column for column in what.columns.split(", "))
    rows = connection.execute(
        text(
            f"SELECT {columns}, count(*) FROM {what.reports} AS report"
            f" JOIN {what.table} AS subject ON subject.{what.key} = report.{what.key}"
            f" WHERE report.handling_id IS NULL GROUP BY {columns}"
            f" ORDER BY count(*) DESC, subject.created_at, subject.{what.key}"
            " LIMIT :limit OFFSET :offset"
        ),
        {"limit": limit, "offset": offset},
    ).all()
    return [(tuple(row[:-1]), row[-1]) for row in rows]


def reported_row_count(connection: Connection, what: Reportable) -> int:
    """How many rows `reported_rows` lists, over all its pages."""
    return connection.execute(
        text(f"SELECT count(DISTINCT {what.key}) FROM {what.reports} WHERE handling_id IS NULL")
    ).scalar_one()


def mark_resolved(connection: Connection, item_id: str, version: str) -> bool:
    """Move an open item to resolved by this version; False when it was no longer open."""
    result = connection.execute(
        text(
            "UPDATE collab_items SET status = 'resolved', resolved_version = :version,"
            " updated_at = :now WHERE item_id = :id AND status IN :open"
        ).bindparams(bindparam("open", expanding=True)),
        {"version": version, "now": timestamp(), "id": item_id, "open": list(queue.OPEN_STATUSES)},
    )
    return result.rowcount == 1


def update_item(connection: Connection, item_id: str, **columns: str) -> None:
    """Set some of an item's columns (names from this module only) and its update time."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    connection.execute(
        text(f"UPDATE collab_items SET {assignments}, updated_at = :now WHERE item_id = :id"),
        {**columns, "now": timestamp(), "id": item_id},
    )


def record_event(
    connection: Connection, item: Item, actor_id: str, kind: str, detail: str, *, notify: bool
) -> None:
    """Add an event to the item's history and, if asked, a notice to its reporter."""
    now, event_id = timestamp(), new_id()
    connection.execute(
        text(
            "INSERT INTO collab_item_events (event_id, item_id, at, actor_id, kind, detail)"
            " VALUES (:event_id, :item_id, :now, :actor, :kind, :detail)"
        ),
        {
            "event_id": event_id,
            "item_id": item.item_id,
            "now": now,
            "actor": actor_id,
            "kind": kind,
            "detail": detail,
        },
    )
    if notify:
        insert_notice(
            connection,
            item.reporter_key,
            kind=kind,
            event_key=f"event:{event_id}",
            values={"item_id": item.item_id, "detail": detail},
            now=now,
        )


def notify_thread(
    connection: Connection, thread_id: str, post_id: str, author_id: str, now: str
) -> None:
    """Tell whoever started or posted in the thread of a reply (not its author)."""
    rows = connection.execute(
        text(
            "SELECT author_id FROM collab_threads WHERE thread_id = :t"
            " UNION SELECT author_id FROM collab_posts WHERE thread_id = :t"
        ),
        {"t": thread_id},
    ).all()
    for (recipient,) in rows:
        if recipient not in {author_id, ERASED_AUTHOR}:
            insert_notice(
                connection,
                recipient,
                kind=THREAD_REPLY,
                event_key=f"post:{post_id}",
                values={"thread_id": thread_id, "post_id": post_id},
                now=now,
            )


def notify_editors(connection: Connection, item_id: str, reporter_key: str) -> None:
    """Tell the editors of a new queue item (once per item, not its reporter)."""
    notify_role(
        connection,
        EDIT_QUEUE,
        kind=QUEUE_ITEM,
        event_key=f"item:{item_id}",
        values={"item_id": item_id},
        now=timestamp(),
        skip={reporter_key},
    )


def unread_report_notices(connection: Connection, post_id: str) -> set[str]:
    """Who has a notice of a report of this post not yet read."""
    rows = connection.execute(
        text(
            "SELECT recipient_key FROM collab_notices"
            " WHERE post_id = :p AND kind = :kind AND read_at IS NULL"
        ),
        {"p": post_id, "kind": POST_REPORTED},
    )
    return set(rows.scalars())


def notify_role(
    connection: Connection,
    permission: str,
    *,
    kind: str,
    event_key: str,
    values: Mapping[str, str],
    now: str,
    skip: Collection[str],
) -> None:
    """Give every learner seen holding the permission lately a notice of the event (once each)."""
    recent = iso(datetime.fromisoformat(now) - timedelta(days=ROLE_HOLDER_DAYS))
    holders = connection.execute(
        text(
            "SELECT learner_id FROM collab_role_holders WHERE permission = :p AND seen_at > :recent"
        ),
        {"p": permission, "recent": recent},
    ).scalars()
    for recipient in holders.all():
        if recipient not in skip:
            insert_notice(
                connection, recipient, kind=kind, event_key=event_key, values=values, now=now
            )


def insert_notice(
    connection: Connection,
    recipient: str,
    *,
    kind: str,
    event_key: str,
    values: Mapping[str, str],
    now: str,
) -> None:
    """Insert a notice once per event and recipient (a repeated event adds nothing).

    Nothing is addressed to an erased learner (their threads, posts and items have no owner).
    """
    if recipient == ERASED_AUTHOR:
        return
    row = {"item_id": None, "detail": "", "thread_id": None, "post_id": None, **values}
    connection.execute(
        text(
            "INSERT INTO collab_notices (notice_id, recipient_key, item_id, kind, detail, at,"
            " thread_id, post_id, event_key) VALUES (:notice_id, :recipient, :item_id, :kind,"
            " :detail, :now, :thread_id, :post_id, :event_key) ON CONFLICT DO NOTHING"
        ),
        {
            "notice_id": new_id(),
            "recipient": recipient,
            "kind": kind,
            "event_key": event_key,
            "now": now,
            **row,
        },
    )


def erasable_keys(connection: Connection, learner_id: str, cds_keys: Collection[str]) -> list[str]:
    """The CDS keys linked to a learner, and those given that no other learner is linked to."""
    given = sorted(key for key in cds_keys if key.startswith(CDS_REPORTER))
    query = text(
        "SELECT reporter_key, learner_id FROM collab_key_links"
        " WHERE learner_id = :l OR reporter_key IN :keys"
    ).bindparams(bindparam("keys", expanding=True, type_=String))
    owners = dict(connection.execute(query, {"l": learner_id, "keys": given}).all())
    mine = {key for key, owner in owners.items() if owner == learner_id}
    return sorted(mine | {key for key in given if key not in owners})


def detach_reports(connection: Connection, learner_id: str, reported: Reportable = POSTS) -> None:
    """Give each of a learner's reports its own unlinkable reporter (the rows' counts stay)."""
    rows = connection.execute(
        text(f"SELECT {reported.key} FROM {reported.reports} WHERE reporter_id = :l"),
        {"l": learner_id},
    ).scalars()
    for row_id in list(rows):
        connection.execute(
            text(
                f"UPDATE {reported.reports} SET reporter_id = :erased"
                f" WHERE {reported.key} = :row AND reporter_id = :l"
            ),
            {"erased": ERASED_REPORTER + new_id(), "row": row_id, "l": learner_id},
        )


def new_id() -> str:
    """A random row id."""
    return uuid.uuid4().hex


def timestamp() -> str:
    """Now, in UTC, as sortable ISO 8601 text (microseconds keep the order of quick writes)."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """A UTC moment as the sortable ISO 8601 text the store writes."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
