"""Authorization requests in flight: state → PKCE verifier, nonce and issuer, bound to a browser."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.db import SqliteStore

migrations = Migrations("bedside.smart_pending")
PENDING_SECONDS = 600


@migrations()
def create_pending_table(db: Database) -> None:
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


def digest(value: str) -> str:
    """SHA-256 of a value, hex."""
    return hashlib.sha256(value.encode()).hexdigest()


class PendingStore(SqliteStore):
    """Pending authorizations shared by every worker; each state is usable exactly once."""

    def __init__(self, path: Path):
        super().__init__(path, migrations)

    def save(self, state: str, browser_id: str, pending: PendingAuthorization) -> None:
        """Remember an authorization request under its state, bound to this browser."""
        values = (
            digest(state),
            digest(browser_id),
            *dataclasses.astuple(pending),
            time.time() + PENDING_SECONDS,
        )
        with self._connection() as connection:
            connection.execute("DELETE FROM smart_pending WHERE expires_at < ?", (time.time(),))
            connection.execute(
                "INSERT INTO smart_pending VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values
            )

    def take(self, state: str, browser_id: str | None) -> PendingAuthorization | None:
        """Consume a state: None when unknown, used before, expired or from another browser."""
        with self._connection() as connection:
            row = connection.execute(
                "DELETE FROM smart_pending WHERE state_hash = ? RETURNING "
                "browser_key, issuer, client_id, redirect_uri, token_endpoint, jwks_uri, "
                "id_token_issuer, scope, code_verifier, nonce, expires_at",
                (digest(state),),
            ).fetchone()
        if row is None or row[-1] <= time.time() or browser_id is None:
            return None
        if not secrets.compare_digest(row[0], digest(browser_id)):
            return None
        return PendingAuthorization(*row[1:-1])
