"""Demo SMART authorization server state in SQLite: launches, codes, tokens (hashes only), jtis."""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.db import SqliteStore

migrations = Migrations("bedside.demo_auth")


@migrations()
def create_demo_auth_tables(db: Database) -> None:
    """Launch contexts, authorization codes, issued tokens and client assertion ids."""
    db["demo_auth_launches"].create(
        {"launch_hash": str, "context": str, "expires_at": float}, pk="launch_hash"
    )
    db["demo_auth_codes"].create(
        {
            "code_hash": str,
            "client_id": str,
            "redirect_uri": str,
            "scope": str,
            "code_challenge": str,
            "code_challenge_method": str,
            "nonce": str,
            "user_id": str,
            "context": str,
            "expires_at": float,
        },
        pk="code_hash",
    )
    db["demo_auth_tokens"].create(
        {
            "access_hash": str,
            "refresh_hash": str,
            "client_id": str,
            "scope": str,
            "user_id": str,
            "context": str,
            "access_expires_at": float,
            "revoked": int,
        },
        pk="access_hash",
    )
    db["demo_auth_tokens"].create_index(["refresh_hash"], unique=True)
    db["demo_auth_jti"].create(
        {"client_id": str, "jti": str, "expires_at": float}, pk=("client_id", "jti")
    )


def digest(secret: str) -> str:
    """Hash a code or token for storage: the raw value never touches the database."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class AuthorizationCode:
    """A stored authorization code (Authlib's AuthorizationCodeMixin, plus SMART context)."""

    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    nonce: str | None
    user_id: str
    context: dict = field(default_factory=dict)

    def get_redirect_uri(self) -> str:
        """The redirect URI the code was issued for."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope


@dataclass(frozen=True)
class IssuedToken:
    """An issued token pair as the refresh grant sees it (Authlib's TokenMixin subset)."""

    refresh_hash: str
    client_id: str
    scope: str
    user_id: str
    context: dict = field(default_factory=dict)

    def check_client(self, client) -> bool:
        """Tell whether the token was issued to this client."""
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope


class DemoAuthStore(SqliteStore):
    """The demo server's SQLite tables, shared by every worker through one database file."""

    def __init__(self, path: Path):
        super().__init__(path, migrations)

    def save_launch(self, launch_id: str, context: dict, expires_at: float) -> None:
        """Remember an EHR launch context under its (hashed) opaque id."""
        self._write(
            "INSERT INTO demo_auth_launches VALUES (?, ?, ?)",
            (digest(launch_id), json.dumps(context), expires_at),
        )

    def find_launch(self, launch_id: str) -> dict | None:
        """Return the context of an unexpired launch, or None."""
        row = self._one(
            "SELECT context FROM demo_auth_launches WHERE launch_hash = ? AND expires_at > ?",
            (digest(launch_id), time.time()),
        )
        return json.loads(row[0]) if row else None

    def save_code(self, code: str, grant: AuthorizationCode, expires_at: float) -> None:
        """Store an authorization code (hashed) with everything the token step checks."""
        values = (
            digest(code),
            grant.client_id,
            grant.redirect_uri,
            grant.scope,
            grant.code_challenge,
            grant.code_challenge_method,
            grant.nonce,
            grant.user_id,
            json.dumps(grant.context),
            expires_at,
        )
        self._write("INSERT INTO demo_auth_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)

    def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Consume a code issued to this client: it works once, even under concurrent use."""
        with self._connection() as connection:
            row = connection.execute(
                "DELETE FROM demo_auth_codes WHERE code_hash = ? RETURNING "
                "client_id, redirect_uri, scope, code_challenge, code_challenge_method, "
                "nonce, user_id, context, expires_at",
                (digest(code),),
            ).fetchone()
        if row is None or row[0] != client_id or row[8] <= time.time():
            return None
        return AuthorizationCode(*row[:7], context=json.loads(row[7]))

    def save_token(self, token: dict, *, client_id: str, scope: str, user_id: str, context: dict):
        """Store an issued access token (and refresh token, if any) as hashes."""
        refresh = token.get("refresh_token")
        values = (
            digest(token["access_token"]),
            digest(refresh) if refresh else None,
            client_id,
            scope,
            user_id,
            json.dumps(context),
            time.time() + int(token["expires_in"]),
            0,
        )
        self._write("INSERT INTO demo_auth_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
        self._purge_sometimes()

    def access_token_valid(self, access_token: str) -> bool:
        """Tell whether an access token was issued here, is unexpired and not revoked."""
        row = self._one(
            "SELECT 1 FROM demo_auth_tokens WHERE access_hash = ? AND access_expires_at > ? "
            "AND revoked = 0",
            (digest(access_token), time.time()),
        )
        return row is not None

    def take_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        """Consume a refresh token: it works once (rotation), even under concurrent use."""
        with self._connection() as connection:
            row = connection.execute(
                "UPDATE demo_auth_tokens SET refresh_hash = NULL WHERE refresh_hash = ? "
                "AND revoked = 0 RETURNING client_id, scope, user_id, context",
                (digest(refresh_token),),
            ).fetchone()
        if row is None:
            return None
        return IssuedToken(digest(refresh_token), row[0], row[1], row[2], json.loads(row[3]))

    def revoke_all(self, *, client_id: str | None = None) -> None:
        """Revoke every token (of one client, or of all): the EHR signs everyone out."""
        if client_id is None:
            self._write("UPDATE demo_auth_tokens SET revoked = 1", ())
        else:
            self._write("UPDATE demo_auth_tokens SET revoked = 1 WHERE client_id = ?", (client_id,))

    def revoke_access_tokens(self) -> None:
        """Expire every access token but keep refresh tokens usable (tests the 401 path)."""
        self._write("UPDATE demo_auth_tokens SET access_expires_at = 0", ())

    def claim_jti(self, client_id: str, jti: str, expires_at: float) -> bool:
        """Record a client assertion id; False when it was used before (a replay)."""
        with self._connection() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO demo_auth_jti VALUES (?, ?, ?)", (client_id, jti, expires_at)
            )
        return cursor.rowcount == 1

    def _purge_sometimes(self) -> None:
        """Now and then, drop expired rows so the demo database stays small."""
        if random.random() >= 0.02:
            return
        cutoff = time.time() - 86_400
        with self._connection() as connection:
            for table in ("demo_auth_launches", "demo_auth_codes", "demo_auth_jti"):
                connection.execute(f"DELETE FROM {table} WHERE expires_at < ?", (cutoff,))
            connection.execute(
                "DELETE FROM demo_auth_tokens WHERE access_expires_at < ? AND refresh_hash IS NULL",
                (cutoff,),
            )

    def _write(self, sql: str, values: tuple) -> None:
        """Run one statement in its own short transaction."""
        with self._connection() as connection:
            connection.execute(sql, values)

    def _one(self, sql: str, values: tuple) -> tuple | None:
        """Fetch one row."""
        return self._connection().execute(sql, values).fetchone()
