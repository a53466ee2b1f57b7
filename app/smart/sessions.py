"""Server-side SMART sessions in the shared database; the browser's cookie holds only an opaque id.

Every host behind the load balancer reads the same table, so a launch completed through one host
is valid on the others, provided they share the SMART token key that seals the tokens at rest.

One row per launch. A browser may hold several launches (two patients in two tabs): the cookie
holds a random id of the browser's group of launches, and every launch of the same clinician in
that browser is stored under its hash, `browser_key`. A page bound to a launch names its
`launch_id` (not a secret: the cookie is), and it is found only through the cookie of its browser
group, whichever of the group's other launches have ended. Only a launch by the same named user
joins a group (a cookie planted by someone else is ended, never adopted), and the group's key
stays the offline cache's for its life. A sign-in in progress is bound to the browser by a cookie
of its own (pending.SIGNIN_COOKIE), so finishing one never breaks another.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
import time
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


def pg_add_launch_ids(connection: Connection) -> None:
    """add_launch_ids on PostgreSQL."""
    for statement in PG_ADD_LAUNCH_IDS.strip().split(";\n"):
        connection.exec_driver_sql(statement)


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
    ("add_launch_ids", pg_add_launch_ids),
]
SCHEMA = StoreSchema(
    "bedside.smart_sessions",
    migrations,
    POSTGRESQL_STEPS,
    grants=(("SELECT, INSERT, UPDATE, DELETE", ("smart_sessions",)),),
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


class SmartSessionStore:
    """SMART sessions shared by every worker and host through one database; tokens sealed."""

    def __init__(
        self, database: Database, cipher: TokenCipher, *, lifetime: float = SESSION_SECONDS
    ):
        self.database = database
        self.cipher = cipher
        self.lifetime = lifetime
        database.migrate(SCHEMA)

    def create(
        self, session: SmartSession, browser_id: str | None = None
    ) -> tuple[str, SmartSession]:
        """Store a new launch in a browser group; return (the group's id for the cookie, session).

        `browser_id` (a cookie's) joins the launch to that browser's earlier ones; None starts
        a new group under a fresh random id.
        """
        browser_id = browser_id or secrets.token_urlsafe(32)
        stored = dataclasses.replace(
            session,
            session_key=secrets.token_hex(32),
            expires_at=time.time() + self.lifetime,
            launch_id=secrets.token_urlsafe(12),
            browser_key=hash_session_id(browser_id),
        )
        row = {
            name: value
            for name, value in dataclasses.asdict(stored).items()
            if name not in {"fhir_context", "id_claims"}
        }
        row |= {
            "access_token": self.cipher.seal(stored.access_token, row=stored.session_key),
            "refresh_token": self.cipher.seal(stored.refresh_token, row=stored.session_key),
            "fhir_context": json.dumps(stored.fhir_context),
            "id_claims": json.dumps(stored.id_claims),
            "need_patient_banner": int(stored.need_patient_banner),
        }
        with self.database.write() as connection:
            connection.execute(insert_statement("smart_sessions", row), row)
        return browser_id, stored

    def load(self, browser_id: str) -> SmartSession | None:
        """Return the latest unexpired launch of a cookie's browser group, or None."""
        return self.select("browser_key = :browser", {"browser": hash_session_id(browser_id)})

    def load_key(self, key: str) -> SmartSession | None:
        """Return the unexpired session stored under a key, or None."""
        return self.select("session_key = :key", {"key": key})

    def load_launch(self, browser_id: str, launch_id: str) -> SmartSession | None:
        """Return the unexpired launch with this id of the cookie's browser group, or None."""
        return self.select(
            "launch_id = :launch AND browser_key = :browser",
            {"launch": launch_id, "browser": hash_session_id(browser_id)},
        )

    def end_browser(self, browser_id: str) -> None:
        """Sign a browser out: end every launch of the cookie's group (and expired ones)."""
        with self.database.write() as connection:
            connection.execute(
                text(
                    "DELETE FROM smart_sessions WHERE browser_key = :browser OR expires_at < :now"
                ),
                {"browser": hash_session_id(browser_id), "now": time.time()},
            )

    def select(self, condition: str, parameters: dict) -> SmartSession | None:
        """The latest unexpired session matching a condition, tokens opened; None if none."""
        with self.database.read() as connection:
            row = connection.execute(
                text(
                    f"SELECT {SESSION_COLUMNS} FROM smart_sessions "
                    f"WHERE {condition} AND expires_at > :now ORDER BY expires_at DESC LIMIT 1"
                ),
                {**parameters, "now": time.time()},
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
            connection.execute(
                text("DELETE FROM smart_sessions WHERE expires_at < :now"), {"now": time.time()}
            )

    def claim_refresh(self, key: str) -> bool:
        """Take the session's refresh lock: one worker of one host refreshes, the others wait."""
        now = time.time()
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
