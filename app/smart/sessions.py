"""Server-side SMART sessions in the shared database; the browser's cookie holds only an opaque id.

Every host behind the load balancer reads the same table, so a launch completed through one host
is valid on the others, provided they share the SMART token key that seals the tokens at rest.

One row per launch. A browser may hold several launches (two patients in two tabs): they form the
browser's group, named server-side by a random `group_id` that never leaves the server (the
offline cache's key derives from it, so it lasts the group's life). The cookie holds a random
value whose hash, a `browser_key` in smart_browser_keys, names the group. Each completed sign-in
that joins the group gets a fresh value and retires the one it came with, which keeps working for
ROTATED_COOKIE_GRACE_SECONDS (a request already in flight from another tab), then opens nothing: a
copied cookie stops working that long after the browser's next sign-in. Only that value is
retired, so of two sign-ins finishing at once the browser may keep either answer's cookie. A
page bound to a launch names its `launch_id` (not a secret: the cookie is), and it is found only
through a cookie of its group, whichever of the group's other launches have ended. Only a
launch by the same named user joins a group (a cookie planted by someone else is ended, never
adopted). A sign-in in progress is bound to the browser by a cookie of its own
(pending.SIGNIN_COOKIE), so finishing one never breaks another.

Launches stored before groups had ids (group_id NULL) are found by their row's `browser_key`, and
their group's id is that key, stored at the group's next sign-in. Each row's `browser_key` is kept
at the group's newest cookie for hosts still running the release before this one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Response, current_app, g, request
from sqlalchemy import Connection, TextClause, text
from sqlite_utils import Database as SqliteFile
from sqlite_utils.migrations import Migrations

from app.database import Database, StoreSchema
from app.security import cookie_policy
from app.smart.token_cipher import TokenCipher, UnreadableToken

log = logging.getLogger(__name__)
migrations = Migrations("bedside.smart_sessions")
COOKIE_NAME = "bedside_session"
LAUNCH_ARG = "launch"  # the query argument that binds an app page to one launch
SESSION_SECONDS = 8 * 3600
REFRESH_LOCK_SECONDS = 15
ROTATED_COOKIE_GRACE_SECONDS = 30  # a retired cookie value still opens its group this long


@migrations()
def create_smart_sessions(db: SqliteFile) -> None:
    """One row per signed-in browser: tokens, launch context and expiry."""
    db["smart_sessions"].create(
        {
            "session_key": str,
            "issuer": str,
            "client_id": str,
            "token_endpoint": str,
            "scope": str,
            "access_token": str,
            "refresh_token": str,
            "access_expires_at": float,
            "patient": str,
            "encounter": str,
            "fhir_user": str,
            "need_patient_banner": int,
            "app_context": str,
            "fhir_context": str,
            "smart_style_url": str,
            "id_claims": str,
            "expires_at": float,
            "refreshing_until": float,
        },
        pk="session_key",
        not_null={"issuer", "client_id", "access_token", "expires_at"},
    )


@migrations()
def drop_plaintext_sessions(db: SqliteFile) -> None:
    """Tokens are now sealed at rest: sessions stored in plaintext end (their users relaunch).

    secure_delete overwrites the freed pages, so the old tokens leave the file, not just the table.
    """
    db.execute("PRAGMA secure_delete = ON")
    db.execute("DELETE FROM smart_sessions")


@migrations()
def add_launch_ids(db: SqliteFile) -> None:
    """Several launches per browser: each row gets a launch id and its browser group.

    Sessions from before have neither, so they end (their users relaunch once).
    """
    db.execute("DELETE FROM smart_sessions")
    db["smart_sessions"].add_column("launch_id", str)
    db["smart_sessions"].add_column("browser_key", str)
    db["smart_sessions"].create_index(["launch_id"], unique=True)
    db["smart_sessions"].create_index(["browser_key"])


PG_ADD_LAUNCH_IDS = """
DELETE FROM smart_sessions;
ALTER TABLE smart_sessions ADD COLUMN launch_id TEXT;
ALTER TABLE smart_sessions ADD COLUMN browser_key TEXT;
CREATE UNIQUE INDEX idx_smart_sessions_launch_id ON smart_sessions (launch_id);
CREATE INDEX idx_smart_sessions_browser_key ON smart_sessions (browser_key)
"""


@migrations()
def add_browser_groups(db: SqliteFile) -> None:
    """Cookie values rotate: each group gets a server-side id, and a table of its cookies' hashes.

    Additive: launches stored before keep working (see the module's docstring).
    """
    db["smart_sessions"].add_column("group_id", str)
    db["smart_sessions"].create_index(["group_id"])
    db["smart_browser_keys"].create(
        {"browser_key": str, "group_id": str, "usable_until": float},
        pk="browser_key",
        not_null={"group_id"},
    )
    db["smart_browser_keys"].create_index(["group_id"])


PG_ADD_BROWSER_GROUPS = """
ALTER TABLE smart_sessions ADD COLUMN group_id TEXT;
CREATE INDEX idx_smart_sessions_group_id ON smart_sessions (group_id);
CREATE TABLE smart_browser_keys (
    browser_key TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    usable_until DOUBLE PRECISION
);
CREATE INDEX idx_smart_browser_keys_group_id ON smart_browser_keys (group_id)
"""


def postgresql_script(script: str) -> Callable[[Connection], None]:
    """A PostgreSQL step running statements separated by semicolons at line ends."""

    def run(connection: Connection) -> None:
        for statement in script.strip().split(";\n"):
            connection.exec_driver_sql(statement)

    return run


# A PostgreSQL database never held plaintext tokens, so it needs no step that drops them.
POSTGRESQL_STEPS = [
    (
        "create_smart_sessions",
        """
        CREATE TABLE smart_sessions (
            session_key TEXT PRIMARY KEY,
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            token_endpoint TEXT,
            scope TEXT,
            access_token TEXT NOT NULL,
            refresh_token TEXT,
            access_expires_at DOUBLE PRECISION,
            patient TEXT,
            encounter TEXT,
            fhir_user TEXT,
            need_patient_banner INTEGER,
            app_context TEXT,
            fhir_context TEXT,
            smart_style_url TEXT,
            id_claims TEXT,
            expires_at DOUBLE PRECISION NOT NULL,
            refreshing_until DOUBLE PRECISION
        )
        """,
    ),
    ("add_launch_ids", postgresql_script(PG_ADD_LAUNCH_IDS)),
    ("add_browser_groups", postgresql_script(PG_ADD_BROWSER_GROUPS)),
]
SCHEMA = StoreSchema(
    "bedside.smart_sessions",
    migrations,
    POSTGRESQL_STEPS,
    grants=(("SELECT, INSERT, UPDATE, DELETE", ("smart_sessions", "smart_browser_keys")),),
)


@dataclass(frozen=True)
class SmartSession:
    """A launched session: who, which patient, which EHR, and the tokens (neither ever shown)."""

    issuer: str
    client_id: str
    token_endpoint: str
    scope: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    access_expires_at: float | None
    # the launch's patient context is not shown either: a logged session names no patient
    patient: str | None = field(default=None, repr=False)
    encounter: str | None = field(default=None, repr=False)
    fhir_user: str | None = None
    need_patient_banner: bool = False
    app_context: str | None = field(default=None, repr=False)
    fhir_context: list = field(default_factory=list, repr=False)
    smart_style_url: str | None = None
    id_claims: dict = field(default_factory=dict, repr=False)
    expires_at: float = 0.0
    session_key: str = field(default="", repr=False)
    launch_id: str = ""
    browser_key: str = field(default="", repr=False)
    group_id: str | None = field(default=None, repr=False)

    @property
    def browser_group(self) -> str:
        """The server-side id of the launch's browser group (stored before ids: its row's key)."""
        return self.group_id or self.browser_key

    @property
    def user(self) -> str | None:
        """Who signed in: the fhirUser claim, else the id_token's `sub` (the ledger's user key)."""
        sub = self.id_claims.get("sub")
        return self.fhir_user or (sub if isinstance(sub, str) and sub.strip() else None)

    def access_expired(self, leeway: float = 30) -> bool:
        """Tell whether the access token is (about to be) expired."""
        return self.access_expires_at is not None and self.access_expires_at <= time.time() + leeway


def hash_session_id(session_id: str) -> str:
    """The stored key of a cookie's id: its SHA-256, so a database leak yields no cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()


# The columns a SmartSession is built from (refreshing_until is the store's own lock).
SESSION_COLUMNS = ", ".join(column.name for column in dataclasses.fields(SmartSession))


# The launches of the group a cookie's hash (:browser) names: through one of the group's usable
# keys, or, stored before groups had ids, under that hash itself.
IN_BROWSER_GROUP = (
    "(group_id = (SELECT group_id FROM smart_browser_keys WHERE browser_key = :browser"
    " AND (usable_until IS NULL OR usable_until > :now))"
    " OR (group_id IS NULL AND browser_key = :browser))"
)
# A cookie's key retired at a sign-in: its grace starts then, and a later sign-in never extends it.
RETIRE_KEY = (
    "INSERT INTO smart_browser_keys (browser_key, group_id, usable_until)"
    " VALUES (:browser, :group, :until) ON CONFLICT (browser_key)"
    " DO UPDATE SET usable_until = excluded.usable_until"
    " WHERE smart_browser_keys.usable_until IS NULL"
)


class SmartSessionStore:
    """SMART sessions shared by every worker and host through one database; tokens sealed."""

    def __init__(
        self,
        database: Database,
        cipher: TokenCipher,
        *,
        lifetime: float = SESSION_SECONDS,
        clock: Callable[[], float] = time.time,
    ):
        self.database = database
        self.cipher = cipher
        self.lifetime = lifetime
        self.clock = clock
        database.migrate(SCHEMA)

    def create(
        self, session: SmartSession, browser_id: str | None = None
    ) -> tuple[str, SmartSession]:
        """Store a new launch; return (a fresh cookie value naming its browser group, session).

        `browser_id` (a cookie's) joins the launch to that browser's group and retires that
        value; None, or a value naming no live launch, starts a new group.
        """
        now = self.clock()
        cookie = secrets.token_urlsafe(32)
        key = hash_session_id(cookie)
        with self.database.write() as connection:
            group = self.rotate(connection, browser_id, key, now) if browser_id else None
            stored = dataclasses.replace(
                session,
                session_key=secrets.token_hex(32),
                expires_at=now + self.lifetime,
                launch_id=secrets.token_urlsafe(12),
                browser_key=key,
                group_id=group or secrets.token_urlsafe(32),
            )
            key_row = {"browser_key": key, "group_id": stored.group_id}
            connection.execute(insert_statement("smart_browser_keys", key_row), key_row)
            row = self.sealed_row(stored)
            connection.execute(insert_statement("smart_sessions", row), row)
            forget_unused_keys(connection, now)
        return cookie, stored

    def rotate(
        self, connection: Connection, browser_id: str, new_key: str, now: float
    ) -> str | None:
        """Move a cookie's group to a new key, retiring the cookie's; the group's id, or None."""
        found = {"browser": hash_session_id(browser_id), "now": now}
        group = connection.execute(
            text(
                "SELECT COALESCE(group_id, browser_key) FROM smart_sessions "
                f"WHERE {IN_BROWSER_GROUP} AND expires_at > :now LIMIT 1"
            ),
            found,
        ).scalar()
        if group is None:
            return None
        until = now + ROTATED_COOKIE_GRACE_SECONDS
        connection.execute(text(RETIRE_KEY), {**found, "group": group, "until": until})
        connection.execute(
            text(
                "UPDATE smart_sessions SET group_id = :group, browser_key = :new WHERE "
                "group_id = :group OR (group_id IS NULL AND browser_key = :browser)"
            ),
            {**found, "group": group, "new": new_key},
        )
        return group

    def sealed_row(self, stored: SmartSession) -> dict:
        """A launch's smart_sessions row: tokens sealed, context and claims as JSON."""
        row = {
            name: value
            for name, value in dataclasses.asdict(stored).items()
            if name not in {"fhir_context", "id_claims"}
        }
        return row | {
            "access_token": self.cipher.seal(stored.access_token, row=stored.session_key),
            "refresh_token": self.cipher.seal(stored.refresh_token, row=stored.session_key),
            "fhir_context": json.dumps(stored.fhir_context),
            "id_claims": json.dumps(stored.id_claims),
            "need_patient_banner": int(stored.need_patient_banner),
        }

    def load(self, browser_id: str) -> SmartSession | None:
        """Return the latest unexpired launch of a cookie's browser group, or None."""
        return self.select(IN_BROWSER_GROUP, {"browser": hash_session_id(browser_id)})

    def load_key(self, key: str) -> SmartSession | None:
        """Return the unexpired session stored under a key, or None."""
        return self.select("session_key = :key", {"key": key})

    def load_launch(self, browser_id: str, launch_id: str) -> SmartSession | None:
        """Return the unexpired launch with this id of the cookie's browser group, or None."""
        return self.select(
            f"launch_id = :launch AND {IN_BROWSER_GROUP}",
            {"launch": launch_id, "browser": hash_session_id(browser_id)},
        )

    def end_browser(self, browser_id: str) -> None:
        """Sign a browser out: end every launch of the cookie's group (and expired ones)."""
        now = self.clock()
        with self.database.write() as connection:
            connection.execute(
                text(f"DELETE FROM smart_sessions WHERE {IN_BROWSER_GROUP} OR expires_at < :now"),
                {"browser": hash_session_id(browser_id), "now": now},
            )
            forget_unused_keys(connection, now)

    def select(self, condition: str, parameters: dict) -> SmartSession | None:
        """The latest unexpired session matching a condition, tokens opened; None if none."""
        with self.database.read() as connection:
            row = connection.execute(
                text(
                    f"SELECT {SESSION_COLUMNS} FROM smart_sessions "
                    f"WHERE {condition} AND expires_at > :now ORDER BY expires_at DESC LIMIT 1"
                ),
                {**parameters, "now": self.clock()},
            ).fetchone()
        if row is None:
            return None
        values = dict(row._mapping)
        key = values["session_key"]
        try:
            for name in ("access_token", "refresh_token"):
                values[name] = self.cipher.open(values[name], row=key)
        except UnreadableToken as problem:
            log.info("SMART session ended: its stored tokens are unreadable (%s)", problem)
            self.delete_key(key)
            return None
        values["fhir_context"] = json.loads(values["fhir_context"] or "[]")
        values["id_claims"] = json.loads(values["id_claims"] or "{}")
        values["need_patient_banner"] = bool(values["need_patient_banner"])
        return SmartSession(**values)

    def delete_key(self, key: str) -> None:
        """End a session (logout, refused refresh); also drop long-expired ones."""
        with self.database.write() as connection:
            connection.execute(
                text("DELETE FROM smart_sessions WHERE session_key = :key"), {"key": key}
            )
            now = self.clock()
            connection.execute(
                text("DELETE FROM smart_sessions WHERE expires_at < :now"), {"now": now}
            )
            forget_unused_keys(connection, now)

    def claim_refresh(self, key: str) -> bool:
        """Take the session's refresh lock: one worker of one host refreshes, the others wait."""
        now = self.clock()
        with self.database.write() as connection:
            claimed = connection.execute(
                text(
                    "UPDATE smart_sessions SET refreshing_until = :until WHERE session_key = :key "
                    "AND (refreshing_until IS NULL OR refreshing_until < :now)"
                ),
                {"until": now + REFRESH_LOCK_SECONDS, "key": key, "now": now},
            )
        return claimed.rowcount == 1

    def save_tokens(self, session: SmartSession) -> None:
        """Store refreshed tokens (the new refresh token replaces the old) and release the lock."""
        with self.database.write() as connection:
            connection.execute(
                text(
                    "UPDATE smart_sessions SET access_token = :access_token, "
                    "refresh_token = :refresh_token, access_expires_at = :access_expires_at, "
                    "scope = :scope, refreshing_until = NULL WHERE session_key = :key"
                ),
                {
                    "access_token": self.cipher.seal(session.access_token, row=session.session_key),
                    "refresh_token": self.cipher.seal(
                        session.refresh_token, row=session.session_key
                    ),
                    "access_expires_at": session.access_expires_at,
                    "scope": session.scope,
                    "key": session.session_key,
                },
            )

    def release_refresh(self, key: str) -> None:
        """Release the refresh lock without changing the tokens."""
        with self.database.write() as connection:
            connection.execute(
                text("UPDATE smart_sessions SET refreshing_until = NULL WHERE session_key = :key"),
                {"key": key},
            )


def forget_unused_keys(connection: Connection, now: float) -> None:
    """Drop retired cookie keys past their grace, and the keys of groups with no launch left."""
    connection.execute(
        text(
            "DELETE FROM smart_browser_keys WHERE usable_until <= :now OR NOT EXISTS (SELECT 1 "
            "FROM smart_sessions WHERE smart_sessions.group_id = smart_browser_keys.group_id)"
        ),
        {"now": now},
    )


def insert_statement(table: str, row: dict) -> TextClause:
    """An INSERT of one row's columns as named parameters."""
    columns = ", ".join(row)
    parameters = ", ".join(f":{name}" for name in row)
    return text(f"INSERT INTO {table} ({columns}) VALUES ({parameters})")


def current_smart_session() -> SmartSession | None:
    """This request's SMART session: the bound launch, else the browser's latest; None if none."""
    if "smart_session" not in g:
        browser_id = browser_session_id()
        store = current_app.extensions["smart"].sessions
        g.smart_session = store.load(browser_id) if browser_id else None
    return g.smart_session


def bind_launch(launch_id: str) -> SmartSession | None:
    """Bind this request to one launch of this browser (None: unknown, ended, another browser's).

    Afterwards current_smart_session() answers with that launch for the rest of the request.
    The browser's latest launch, when already read this request (the rate limit's key), is it.
    """
    latest = g.get("smart_session")
    if latest is not None and latest.launch_id == launch_id:
        return latest
    browser_id = browser_session_id()
    store = current_app.extensions["smart"].sessions
    g.smart_session = store.load_launch(browser_id, launch_id) if browser_id else None
    return g.smart_session


def same_clinician(one: SmartSession, other: SmartSession) -> bool:
    """Tell whether two launches are the same named user at the same EHR (no name: never)."""
    same_issuer = one.issuer.rstrip("/") == other.issuer.rstrip("/")
    return same_issuer and one.user is not None and one.user == other.user


def browser_session_id() -> str | None:
    """The opaque id of the browser's group of launches in its session cookie, if any."""
    return request.cookies.get(COOKIE_NAME) or None


def set_session_cookie(response: Response, browser_id: str, max_age: int) -> None:
    """Set the cookie: opaque id only, HttpOnly, Path=/, with the deployment's cookie policy."""
    response.set_cookie(
        COOKIE_NAME, browser_id, max_age=max_age, path="/", httponly=True, **cookie_policy()
    )


def forget_ended_session(response: Response) -> None:
    """Drop the browser's cookie once none of its launches is left (an ended tab may be one)."""
    browser_id = browser_session_id()
    if browser_id is None or current_app.extensions["smart"].sessions.load(browser_id) is None:
        clear_session_cookie(response)


def clear_session_cookie(response: Response) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, **cookie_policy())
