"""CDS service state in SQLite: JWT replay guard, card exposures and feedback — never PHI."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.db import STORE_SETTINGS, SqliteStore

migrations = Migrations("bedside.cds")
JTI_KEEP_SECONDS = 3600  # a claimed id is kept an hour past its token's expiry
JTI_PURGE_BATCH = 100  # oldest claims a purge looks at
JTI_PURGE_CHANCE = 0.02  # of claims: a purge looks at two old ids per new one, on average


@migrations()
def create_cds_tables(db: Database) -> None:
    """Replay guard, exposures (keyed hashes only) and feedback."""
    db["cds_jti"].create(
        {"iss": str, "jti": str, "expires_at": int}, pk=("iss", "jti"), not_null={"expires_at"}
    )
    db["cds_exposures"].create(
        {
            "card_uuid": str,
            "module_id": str,
            "module_version": str,
            "service_id": str,
            "user_key": str,
            "patient_key": str,
            "shown_at": float,
        },
        pk="card_uuid",
    )
    db["cds_exposures"].create_index(["user_key", "patient_key", "shown_at"])
    db["cds_feedback"].create(
        {
            "feedback_key": str,
            "card_uuid": str,
            "module_id": str,
            "user_key": str,
            "outcome": str,
            "override_reason": str,
            "accepted_suggestions": str,
            "outcome_at": str,
            "received_at": float,
        },
        pk="feedback_key",
    )
    db["cds_feedback"].create_index(["user_key", "outcome", "received_at"])


@migrations()
def bind_exposures_to_their_client(db: Database) -> None:
    """Record which CDS client each card went to: only it may give feedback on the card."""
    db["cds_exposures"].add_column("client", str, not_null_default="")


@migrations()
def record_override_reason_systems(db: Database) -> None:
    """Keep an override reason's code system beside its code: a code alone is ambiguous.

    Until now the reason was stored as `system|code` ('|code' without a system); split it.
    """
    db["cds_feedback"].add_column("override_reason_system", str)
    db.execute(
        "UPDATE cds_feedback SET override_reason_system = "
        "NULLIF(substr(override_reason, 1, instr(override_reason, '|') - 1), ''), "
        "override_reason = substr(override_reason, instr(override_reason, '|') + 1) "
        "WHERE instr(override_reason, '|') > 0"
    )


class JtiClaim(NamedTuple):
    """A verified client JWT's id, to be recorded once: the replay guard across workers."""

    iss: str
    jti: str
    expires_at: int


def insert_jti(connection: sqlite3.Connection, claim: JtiClaim) -> bool:
    """Insert the claim in the open transaction; False when it was already there."""
    cursor = connection.execute(
        "INSERT OR IGNORE INTO cds_jti (iss, jti, expires_at) VALUES (?, ?, ?)", claim
    )
    return cursor.rowcount == 1


def purge_expired_jti(
    connection: sqlite3.Connection, now: int, batch: int = JTI_PURGE_BATCH
) -> int:
    """Forget the expired JWT ids among the `batch` oldest claims; return how many went.

    Bounded work inside the write transaction (a full scan took 14 ms per 300,000 claims): ids
    are claimed in time order and no token lives over an hour, so the oldest expire first.
    """
    cursor = connection.execute(
        "DELETE FROM cds_jti WHERE rowid IN (SELECT rowid FROM "
        "(SELECT rowid, expires_at FROM cds_jti ORDER BY rowid LIMIT ?) WHERE expires_at < ?)",
        (batch, now - JTI_KEEP_SECONDS),
    )
    return cursor.rowcount


@dataclass(frozen=True)
class Exposure:
    """A card shown to a user about a patient (both as keyed hashes)."""

    card_uuid: str
    module_id: str
    module_version: str
    service_id: str
    user_key: str
    patient_key: str
    shown_at: float
    client: str  # the issuer of the CDS client the card was sent to ('' with auth off)


@dataclass(frozen=True)
class FeedbackRecord:
    """One feedback entry, stored without free text or patient data."""

    feedback_key: str
    card_uuid: str
    module_id: str
    user_key: str
    outcome: str
    override_reason: str | None  # the reason's code
    override_reason_system: str | None  # the code's system, when the client named one
    accepted_suggestions: tuple[str, ...]
    outcome_at: str


class CdsStore(SqliteStore):
    """SQLite-backed state shared by every worker process through one database file."""

    def __init__(self, path: Path):
        # Exposures and replay entries may lose the last instant on power loss; synchronous=NORMAL
        # keeps WAL commits atomic and durable across process crashes, at far lower cost.
        super().__init__(path, migrations, settings=STORE_SETTINGS)

    def claim_jti(self, iss: str, jti: str, expires_at: int) -> bool:
        """Record a JWT id; False when the same issuer used it before (a replay)."""
        return self.record_call([], JtiClaim(iss, jti, expires_at))

    def jti_seen(self, iss: str, jti: str) -> bool:
        """Tell whether this issuer's JWT id was already claimed (a read; claims nothing)."""
        row = (
            self._connection()
            .execute("SELECT 1 FROM cds_jti WHERE iss = ? AND jti = ?", (iss, jti))
            .fetchone()
        )
        return row is not None

    def record_call(self, exposures: list[Exposure], claim: JtiClaim | None = None) -> bool:
        """In ONE write transaction, claim the call's JWT id and remember the cards shown.

        False on a replay (the jti was claimed first by another call): nothing is stored then.
        One transaction per call, not two: under concurrent calls from several workers the
        write lock is the expensive part.
        """
        connection = self._connection()
        rows = [tuple(vars(exposure).values()) for exposure in exposures]
        with connection:
            if claim is not None and random.random() < JTI_PURGE_CHANCE:
                purge_expired_jti(connection, int(time.time()))
            if claim is not None and not insert_jti(connection, claim):
                return False
            if rows:
                connection.executemany(
                    "INSERT OR IGNORE INTO cds_exposures VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
        return True

    def snoozed_or_just_shown(
        self, user_key: str, patient_key: str, *, overridden_since: float, shown_since: float
    ) -> set[str]:
        """Return the modules this user overrode, or saw about this patient, lately (one query)."""
        rows = self._connection().execute(
            "SELECT module_id FROM cds_feedback "
            "WHERE user_key = ? AND outcome = 'overridden' AND received_at >= ? "
            "UNION SELECT module_id FROM cds_exposures "
            "WHERE user_key = ? AND patient_key = ? AND shown_at >= ?",
            (user_key, overridden_since, user_key, patient_key, shown_since),
        )
        return {row[0] for row in rows}

    def overridden_or_accepted(
        self, user_key: str, patient_key: str, *, overridden_since: float, accepted_since: float
    ) -> set[str]:
        """Return the modules this user overrode lately, or accepted lately for this patient."""
        rows = self._connection().execute(
            "SELECT module_id FROM cds_feedback "
            "WHERE user_key = ? AND outcome = 'overridden' AND received_at >= ? "
            "UNION SELECT feedback.module_id FROM cds_feedback AS feedback "
            "JOIN cds_exposures AS exposure ON exposure.card_uuid = feedback.card_uuid "
            "WHERE feedback.user_key = ? AND feedback.outcome = 'accepted' "
            "AND feedback.received_at >= ? AND exposure.patient_key = ?",
            (user_key, overridden_since, user_key, accepted_since, patient_key),
        )
        return {row[0] for row in rows}

    def shown_to_user(self, user_key: str, since: float) -> set[str]:
        """Return the modules shown to this user about any patient since a time."""
        rows = self._connection().execute(
            "SELECT DISTINCT module_id FROM cds_exposures WHERE user_key = ? AND shown_at >= ?",
            (user_key, since),
        )
        return {row[0] for row in rows}

    def exposure(self, card_uuid: str) -> Exposure | None:
        """Return the exposure behind a card uuid."""
        row = (
            self._connection()
            .execute("SELECT * FROM cds_exposures WHERE card_uuid = ?", (card_uuid,))
            .fetchone()
        )
        return Exposure(*row) if row else None

    def record_feedback(self, record: FeedbackRecord) -> bool:
        """Store feedback once; False when the same feedback was already recorded."""
        values = (
            record.feedback_key,
            record.card_uuid,
            record.module_id,
            record.user_key,
            record.outcome,
            record.override_reason,
            json.dumps(list(record.accepted_suggestions)),
            record.outcome_at,
            time.time(),
            record.override_reason_system,
        )
        with self._connection() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO cds_feedback (feedback_key, card_uuid, module_id, user_key, "
                "outcome, override_reason, accepted_suggestions, outcome_at, received_at, "
                "override_reason_system) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        return cursor.rowcount == 1

    def holds_identities(self) -> bool:
        """Tell whether any exposure or feedback (keyed user and patient hashes) is stored."""
        row = self._connection().execute(
            "SELECT EXISTS (SELECT 1 FROM cds_exposures) OR EXISTS (SELECT 1 FROM cds_feedback)"
        )
        return bool(row.fetchone()[0])

    def forget_user(self, user_key: str) -> None:
        """Drop a user's exposures and feedback (demo resets; never the CME ledger)."""
        with self._connection() as connection:
            connection.execute("DELETE FROM cds_exposures WHERE user_key = ?", (user_key,))
            connection.execute("DELETE FROM cds_feedback WHERE user_key = ?", (user_key,))
