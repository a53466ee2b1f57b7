"""Authorization requests in flight: state → sealed PKCE verifier, nonce, issuer; per browser.

Each request is bound to the browser that started it by a random cookie of its own, which a
completed sign-in never replaces: two launches in flight in one browser both finish.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import time
from dataclasses import dataclass, field

from flask import Response, request
from sqlalchemy import text
from sqlite_utils import Database as SqliteFile
from sqlite_utils.migrations import Migrations

from app.database import Database, StoreSchema
from app.security import cookie_policy
from app.smart.sessions import insert_statement
from app.smart.token_cipher import TokenCipher, UnreadableToken

migrations = Migrations("bedside.smart_pending")
PENDING_SECONDS = 600
SIGNIN_COOKIE = "bedside_signin"


@migrations()
def create_pending_table(db: SqliteFile) -> None:
    """One row per authorization request sent to an EHR and not yet answered."""
    db["smart_pending"].create(
        {
            "state_hash": str,
            "browser_key": str,
            "issuer": str,
            "client_id": str,
            "redirect_uri": str,
            "token_endpoint": str,
            "jwks_uri": str,
            "id_token_issuer": str,
            "scope": str,
            "code_verifier": str,
            "nonce": str,
            "expires_at": float,
        },
        pk="state_hash",
    )


@migrations()
def drop_plaintext_pending(db: SqliteFile) -> None:
    """PKCE verifiers are now sealed at rest: requests stored in plaintext are dropped."""
    db.execute("PRAGMA secure_delete = ON")
    db.execute("DELETE FROM smart_pending")


# A PostgreSQL database never held plaintext verifiers, so it needs no step that drops them.
POSTGRESQL_STEPS = [
    (
        "create_pending_table",
        """
        CREATE TABLE smart_pending (
            state_hash TEXT PRIMARY KEY,
            browser_key TEXT,
            issuer TEXT,
            client_id TEXT,
            redirect_uri TEXT,
            token_endpoint TEXT,
            jwks_uri TEXT,
            id_token_issuer TEXT,
            scope TEXT,
            code_verifier TEXT,
            nonce TEXT,
            expires_at DOUBLE PRECISION
        )
        """,
    ),
]
SCHEMA = StoreSchema(
    "bedside.smart_pending",
    migrations,
    POSTGRESQL_STEPS,
    grants=(("SELECT, INSERT, DELETE", ("smart_pending",)),),
)


@dataclass(frozen=True)
class PendingAuthorization:
    """What the callback needs to finish one authorization request."""

    issuer: str
    client_id: str
    redirect_uri: str
    token_endpoint: str
    jwks_uri: str | None
    id_token_issuer: str
    scope: str
    code_verifier: str = field(repr=False)
    nonce: str | None = field(repr=False)


def new_secret() -> str:
    """A URL-safe random value with 256 bits of entropy (state, nonce)."""
    return secrets.token_urlsafe(32)


def signin_binding() -> str | None:
    """The random id that binds this browser's sign-ins in progress, if it has one."""
    return request.cookies.get(SIGNIN_COOKIE) or None


def set_signin_cookie(response: Response, binding: str) -> None:
    """Keep the binding while the latest sign-in may last; sent to /smart/* only, HttpOnly."""
    response.set_cookie(
        SIGNIN_COOKIE,
        binding,
        max_age=PENDING_SECONDS,
        path=f"{request.script_root}/smart",
        httponly=True,
        **cookie_policy(),
    )


def digest(value: str) -> str:
    """SHA-256 of a value, hex."""
    return hashlib.sha256(value.encode()).hexdigest()


# What the callback needs from a stored request, in PendingAuthorization's field order.
AUTHORIZATION_COLUMNS = [column.name for column in dataclasses.fields(PendingAuthorization)]


class PendingStore:
    """Pending authorizations shared by every worker and host; each state is usable exactly once."""

    def __init__(self, database: Database, cipher: TokenCipher):
        self.database = database
        self.cipher = cipher
        database.migrate(SCHEMA)

    def save(self, state: str, browser_id: str, pending: PendingAuthorization) -> None:
        """Remember an authorization request under its state, bound to this browser."""
        state_hash = digest(state)
        verifier = self.cipher.seal(pending.code_verifier, row=state_hash)
        row = {
            "state_hash": state_hash,
            "browser_key": digest(browser_id),
            **dataclasses.asdict(dataclasses.replace(pending, code_verifier=verifier)),
            "expires_at": time.time() + PENDING_SECONDS,
        }
        with self.database.write() as connection:
            connection.execute(
                text("DELETE FROM smart_pending WHERE expires_at < :now"), {"now": time.time()}
            )
            connection.execute(insert_statement("smart_pending", row), row)

    def take(self, state: str, browser_id: str | None) -> PendingAuthorization | None:
        """Consume a state: None when unknown, used before, expired or from another browser."""
        # One DELETE … RETURNING: of two callbacks with the same state (a replay, on any host),
        # exactly one gets the row; the other finds it gone.
        with self.database.write() as connection:
            row = connection.execute(
                text(
                    "DELETE FROM smart_pending WHERE state_hash = :state_hash RETURNING "
                    f"browser_key, {', '.join(AUTHORIZATION_COLUMNS)}, expires_at"
                ),
                {"state_hash": digest(state)},
            ).fetchone()
        if row is None or row[-1] <= time.time() or browser_id is None:
            return None
        if not secrets.compare_digest(row[0], digest(browser_id)):
            return None
        pending = PendingAuthorization(*row[1:-1])
        try:
            verifier = self.cipher.open(pending.code_verifier, row=digest(state))
        except UnreadableToken:
            return None  # written by an older version, or under another key: start again
        return dataclasses.replace(pending, code_verifier=verifier)
