"""Authorization requests in flight: state → sealed PKCE verifier, nonce, issuer; per browser."""

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
from app.smart.token_cipher import TokenCipher, UnreadableToken

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


@migrations()
def drop_plaintext_pending(db: Database) -> None:
    """PKCE verifiers are now sealed at rest: requests stored in plaintext are dropped."""
    db.execute("PRAGMA secure_delete = ON")
    db.execute("DELETE FROM smart_pending")


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

    def __init__(self, path: Path, cipher: TokenCipher):
        super().__init__(path, migrations)
        self.cipher = cipher

    def save(self, state: str, browser_id: str, pending: PendingAuthorization) -> None:
        """Remember an authorization request under its state, bound to this browser."""
        state_hash = digest(state)
        verifier = self.cipher.seal(pending.code_verifier, row=state_hash)
        values = (
            state_hash,
            digest(browser_id),
            *dataclasses.astuple(dataclasses.replace(pending, code_verifier=verifier)),
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
        pending = PendingAuthorization(*row[1:-1])
        try:
            verifier = self.cipher.open(pending.code_verifier, row=digest(state))
        except UnreadableToken:
            return None  # written by an older version, or under another key: start again
        return dataclasses.replace(pending, code_verifier=verifier)
