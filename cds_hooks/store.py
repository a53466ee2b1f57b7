"""CDS state in the shared database: JWT replay guard, card exposures and feedback — never PHI.

One implementation for SQLite and PostgreSQL: the SQL below is the subset both engines share.
On PostgreSQL several hosts share these tables, so a JWT id claimed through one host is a replay
on every other, and snoozes and repeat suppression hold across hosts.

What a hook call costs PostgreSQL is counted in round trips (tests/cds_hooks/
test_postgresql_round_trips.py): the claim, the fatigue query (snoozes, showings and mastered
modules shown lately in one statement) and the cards recorded are one statement each, and none
opens a transaction.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Collection
from dataclasses import dataclass, fields
from typing import NamedTuple

from sqlalchemy import Connection, Row, String, TextClause, bindparam, text
from sqlite_utils import Database as SqliteUtilsDatabase
from sqlite_utils.migrations import Migrations

from app.database import POSTGRESQL, Database, StoreSchema
from cds_hooks.frequency import Showing

migrations = Migrations("bedside.cds")
JTI_KEEP_SECONDS = 3600  # a claimed id is kept an hour past its token's expiry
JTI_PURGE_BATCH = 100  # oldest claims a purge looks at
JTI_PURGE_CHANCE = 0.02  # of claims: a purge looks at two old ids per new one, on average


@migrations()
def create_cds_tables(db: SqliteUtilsDatabase) -> None:
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
def bind_exposures_to_their_client(db: SqliteUtilsDatabase) -> None:
    """Record which CDS client each card went to: only it may give feedback on the card."""
    db["cds_exposures"].add_column("client", str, not_null_default="")


@migrations()
def record_override_reason_systems(db: SqliteUtilsDatabase) -> None:
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


@migrations()
def index_jti_by_expiry(db: SqliteUtilsDatabase) -> None:
    """Find the claims that expired first by an index (the purge no longer walks rowids)."""
    db["cds_jti"].create_index(["expires_at"])


@migrations()
def record_exposure_encounters(db: SqliteUtilsDatabase) -> None:
    """Record the encounter (a keyed hash; '' when none) a card was shown in: frequency rules."""
    db["cds_exposures"].add_column("encounter_key", str, not_null_default="")


@migrations()
def index_exposures_by_shown_at(db: SqliteUtilsDatabase) -> None:
    """Find a period's cards by an index: content analytics scan the exposures by shown_at."""
    db["cds_exposures"].create_index(["shown_at"])


# PostgreSQL mirrors the SQLite steps, name for name. A fresh PostgreSQL database holds no
# `system|code` reasons (`bedside db copy` brings rows already split), so its third step only
# adds the column.
POSTGRESQL_STEPS = [
    (
        "create_cds_tables",
        """
        CREATE TABLE cds_jti (
            iss TEXT NOT NULL,
            jti TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (iss, jti)
        );
        CREATE TABLE cds_exposures (
            card_uuid TEXT PRIMARY KEY,
            module_id TEXT,
            module_version TEXT,
            service_id TEXT,
            user_key TEXT,
            patient_key TEXT,
            shown_at DOUBLE PRECISION
        );
        CREATE INDEX idx_cds_exposures_user_key_patient_key_shown_at
            ON cds_exposures (user_key, patient_key, shown_at);
        CREATE TABLE cds_feedback (
            feedback_key TEXT PRIMARY KEY,
            card_uuid TEXT,
            module_id TEXT,
            user_key TEXT,
            outcome TEXT,
            override_reason TEXT,
            accepted_suggestions TEXT,
            outcome_at TEXT,
            received_at DOUBLE PRECISION
        );
        CREATE INDEX idx_cds_feedback_user_key_outcome_received_at
            ON cds_feedback (user_key, outcome, received_at);
        """,
    ),
    (
        "bind_exposures_to_their_client",
        "ALTER TABLE cds_exposures ADD COLUMN client TEXT NOT NULL DEFAULT ''",
    ),
    (
        "record_override_reason_systems",
        "ALTER TABLE cds_feedback ADD COLUMN override_reason_system TEXT",
    ),
    ("index_jti_by_expiry", "CREATE INDEX idx_cds_jti_expires_at ON cds_jti (expires_at)"),
    (
        "record_exposure_encounters",
        "ALTER TABLE cds_exposures ADD COLUMN encounter_key TEXT NOT NULL DEFAULT ''",
    ),
    (
        "index_exposures_by_shown_at",
        "CREATE INDEX idx_cds_exposures_shown_at ON cds_exposures (shown_at)",
    ),
]
SCHEMA = StoreSchema(
    "bedside.cds",
    migrations,
    POSTGRESQL_STEPS,
    grants=(("SELECT, INSERT, DELETE", ("cds_jti", "cds_exposures", "cds_feedback")),),
)


# The latest showing of each asked-for module to one user about one patient, per service and
# encounter: few rows, from which the frequency rules decide (cds_hooks/frequency.py). Each
# query reads the user and patient under their current keys and their legacy keys (keyed before
# the data's origin counted; the same keys when the call names no origin).
LATEST_SHOWINGS = (
    "SELECT 'shown' AS kind, module_id, service_id, encounter_key, MAX(shown_at) AS shown_at "
    "FROM cds_exposures WHERE user_key IN (:user, :legacy_user) "
    "AND patient_key IN (:patient, :legacy_patient) "
    "AND module_id IN :modules GROUP BY module_id, service_id, encounter_key"
)
MODULES_PARAMETER = bindparam("modules", expanding=True, type_=String)
# Rows of kind 'hidden' name a module to leave out: snoozed by an override (any patient), …
OVERRIDDEN = (
    "SELECT 'hidden', module_id, '', '', received_at FROM cds_feedback "
    "WHERE user_key IN (:user, :legacy_user) AND outcome = 'overridden' "
    "AND received_at >= :overridden"
)
# … or mastered and shown to this user lately (any patient): it stays quiet a while.
MASTERED_SHOWN_LATELY = (
    "SELECT 'hidden', module_id, '', '', MAX(shown_at) FROM cds_exposures "
    "WHERE user_key IN (:user, :legacy_user) AND shown_at >= :lately AND module_id IN :mastered "
    "GROUP BY module_id"
)
MASTERED_PARAMETER = bindparam("mastered", expanding=True, type_=String)
SNOOZED_AND_SHOWN = text(f"{LATEST_SHOWINGS} UNION ALL {OVERRIDDEN}").bindparams(MODULES_PARAMETER)
SNOOZED_SHOWN_AND_MASTERED = text(
    f"{LATEST_SHOWINGS} UNION ALL {OVERRIDDEN} UNION ALL {MASTERED_SHOWN_LATELY}"
).bindparams(MODULES_PARAMETER, MASTERED_PARAMETER)
# At signing: the modules this user overrode lately (any patient) or accepted lately for this
# patient, and the latest showings; one statement, as SNOOZED_AND_SHOWN.
ACTED_ON_AND_SHOWN = text(
    f"{LATEST_SHOWINGS} UNION ALL {OVERRIDDEN} "
    "UNION ALL SELECT 'hidden', feedback.module_id, '', '', feedback.received_at "
    "FROM cds_feedback AS feedback "
    "JOIN cds_exposures AS exposure ON exposure.card_uuid = feedback.card_uuid "
    "WHERE feedback.user_key IN (:user, :legacy_user) AND feedback.outcome = 'accepted' "
    "AND feedback.received_at >= :accepted AND exposure.patient_key IN (:patient, :legacy_patient)"
).bindparams(MODULES_PARAMETER)


class JtiClaim(NamedTuple):
    """A verified client JWT's id, to be recorded once: the replay guard across hosts."""

    iss: str
    jti: str
    expires_at: int


def insert_jti(connection: Connection, claim: JtiClaim) -> bool:
    """Insert the claim in the open transaction; False when it was already there."""
    inserted = connection.execute(
        text(
            "INSERT INTO cds_jti (iss, jti, expires_at) VALUES (:iss, :jti, :expires_at) "
            "ON CONFLICT DO NOTHING"
        ),
        claim._asdict(),
    )
    return inserted.rowcount == 1


def key_parameters(user: str, patient: str, legacy: tuple[str, str] | None) -> dict[str, str]:
    """The fatigue queries' key parameters: without legacy keys, the current ones stand in."""
    legacy_user, legacy_patient = legacy or (user, patient)
    return {
        "user": user,
        "patient": patient,
        "legacy_user": legacy_user,
        "legacy_patient": legacy_patient,
    }


def showings_apart(rows: list[Row]) -> tuple[set[str], list[Showing]]:
    """Split a fatigue query's rows: the modules it hides, and the showings."""
    hidden = {row.module_id for row in rows if row.kind == "hidden"}
    return hidden, [Showing(*row[1:]) for row in rows if row.kind == "shown"]


def purge_expired_jti(connection: Connection, now: int, batch: int = JTI_PURGE_BATCH) -> int:
    """Forget the expired JWT ids among the `batch` that expired first; return how many went.

    Bounded work inside the write transaction (a full scan took 14 ms per 300,000 claims): the
    index on expires_at yields the oldest claims first. An id stays until its token expired
    JTI_KEEP_SECONDS ago, so a token still inside its lifetime is always a replay.
    """
    deleted = connection.execute(
        text(
            "DELETE FROM cds_jti WHERE (iss, jti) IN (SELECT iss, jti FROM cds_jti "
            "WHERE expires_at < :cutoff ORDER BY expires_at LIMIT :batch)"
        ),
        {"cutoff": now - JTI_KEEP_SECONDS, "batch": batch},
    )
    return deleted.rowcount


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
    encounter_key: str = ""  # the encounter's keyed hash ('' when the call named none)


EXPOSURE_COLUMNS = [field.name for field in fields(Exposure)]
SELECT_EXPOSURE = (
    f"SELECT {', '.join(EXPOSURE_COLUMNS)} FROM cds_exposures WHERE card_uuid = :card_uuid"
)


def insert_exposures(connection: Connection, exposures: list[Exposure]) -> None:
    """Insert the cards shown, in one statement (a card already recorded is left as it is)."""
    values = {
        f"{name}_{row}": value
        for row, exposure in enumerate(exposures)
        for name, value in vars(exposure).items()
    }
    connection.execute(insert_exposures_statement(len(exposures)), values)


@functools.cache
def insert_exposures_statement(rows: int) -> TextClause:
    """INSERT of `rows` exposures, their parameters numbered (`card_uuid_0`, `card_uuid_1`, …)."""
    values = ", ".join(
        "(" + ", ".join(f":{name}_{row}" for name in EXPOSURE_COLUMNS) + ")" for row in range(rows)
    )
    return text(
        f"INSERT INTO cds_exposures ({', '.join(EXPOSURE_COLUMNS)}) VALUES {values} "
        "ON CONFLICT DO NOTHING"
    )


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


class CdsStore:
    """CDS state shared by every worker and host through one database."""

    def __init__(self, database: Database):
        # On SQLite the stores' synchronous=NORMAL applies: exposures and replay entries may lose
        # the last instant on power loss, while WAL commits stay atomic across process crashes.
        self.database = database
        database.migrate(SCHEMA)

    @property
    def claims_as_checked(self) -> bool:
        """Whether a hook call's JWT id is claimed when checked, not with the call's cards.

        On PostgreSQL the claim is one INSERT … ON CONFLICT outside a transaction: it costs the
        round trip the check costs, two hosts racing for one id still have one winner, and the
        cards are then recorded by one statement of their own, so a call opens no transaction
        (BEGIN and COMMIT would be two more round trips). On SQLite every write takes the file's
        one write lock, so the claim rides in the transaction that records the cards.
        """
        return self.database.dialect == POSTGRESQL

    def claim_jti(self, iss: str, jti: str, expires_at: int) -> bool:
        """Record a JWT id; False when the same issuer used it before (a replay)."""
        claim = JtiClaim(iss, jti, expires_at)
        if not self.claims_as_checked:
            return self.record_call([], claim)
        if random.random() < JTI_PURGE_CHANCE:
            with self.database.write_statement() as connection:
                purge_expired_jti(connection, int(time.time()))
        with self.database.write_statement() as connection:
            return insert_jti(connection, claim)

    def jti_seen(self, iss: str, jti: str) -> bool:
        """Tell whether this issuer's JWT id was already claimed (a read; claims nothing)."""
        with self.database.lookup() as connection:
            row = connection.execute(
                text("SELECT 1 FROM cds_jti WHERE iss = :iss AND jti = :jti"),
                {"iss": iss, "jti": jti},
            ).first()
        return row is not None

    def record_call(self, exposures: list[Exposure], claim: JtiClaim | None = None) -> bool:
        """In ONE write transaction, claim the call's JWT id and remember the cards shown.

        False on a replay (the jti was claimed first by another call): nothing is stored then.
        One transaction per call, not two: under concurrent calls from several workers the
        write lock is the expensive part. Without a claim the cards take one statement.
        """
        if claim is None:
            if exposures:
                with self.database.write_statement() as connection:
                    insert_exposures(connection, exposures)
            return True
        with self.database.write() as connection:
            if random.random() < JTI_PURGE_CHANCE:
                purge_expired_jti(connection, int(time.time()))
            if not insert_jti(connection, claim):
                return False
            if exposures:
                insert_exposures(connection, exposures)
        return True

    def snoozed_and_shown(
        self,
        user_key: str,
        patient_key: str,
        modules: Collection[str],
        *,
        overridden_since: float,
        mastered: Collection[str] = (),
        mastered_shown_since: float = 0.0,
        legacy: tuple[str, str] | None = None,
    ) -> tuple[set[str], list[Showing]]:
        """Return the modules to leave out, and these modules' latest showings (one query).

        Left out: the modules this user overrode lately (any patient), and those of `mastered`
        shown to this user (any patient) since mastered_shown_since. The showings: for each of
        `modules`, the latest to this user about this patient per service and encounter. The
        user and patient count under their legacy keys (user, patient) too, when given.
        """
        parameters = {
            **key_parameters(user_key, patient_key, legacy),
            "modules": list(modules),
            "overridden": overridden_since,
        }
        if not mastered:
            return showings_apart(self._rows(SNOOZED_AND_SHOWN, **parameters))
        rows = self._rows(
            SNOOZED_SHOWN_AND_MASTERED,
            **parameters,
            mastered=list(mastered),
            lately=mastered_shown_since,
        )
        return showings_apart(rows)

    def acted_on_and_shown(
        self,
        user_key: str,
        patient_key: str,
        modules: Collection[str],
        *,
        overridden_since: float,
        accepted_since: float,
        legacy: tuple[str, str] | None = None,
    ) -> tuple[set[str], list[Showing]]:
        """Return the modules acted on, and these modules' latest showings (one query).

        Acted on: overridden by this user lately (any patient), or accepted lately for this
        patient. The showings: as snoozed_and_shown's, to this user about this patient. The
        user and patient count under their legacy keys too, when given.
        """
        rows = self._rows(
            ACTED_ON_AND_SHOWN,
            **key_parameters(user_key, patient_key, legacy),
            modules=list(modules),
            overridden=overridden_since,
            accepted=accepted_since,
        )
        return showings_apart(rows)

    def exposure(self, card_uuid: str) -> Exposure | None:
        """Return the exposure behind a card uuid."""
        with self.database.lookup() as connection:
            row = connection.execute(text(SELECT_EXPOSURE), {"card_uuid": card_uuid}).first()
        return Exposure(*row) if row else None

    def record_feedback(self, record: FeedbackRecord) -> bool:
        """Store feedback once; False when the same feedback was already recorded."""
        values = {
            **vars(record),
            "accepted_suggestions": json.dumps(list(record.accepted_suggestions)),
            "received_at": time.time(),
        }
        with self.database.write() as connection:
            inserted = connection.execute(
                text(
                    "INSERT INTO cds_feedback (feedback_key, card_uuid, module_id, user_key, "
                    "outcome, override_reason, accepted_suggestions, outcome_at, received_at, "
                    "override_reason_system) VALUES (:feedback_key, :card_uuid, :module_id, "
                    ":user_key, :outcome, :override_reason, :accepted_suggestions, :outcome_at, "
                    ":received_at, :override_reason_system) ON CONFLICT DO NOTHING"
                ),
                values,
            )
        return inserted.rowcount == 1

    def holds_identities(self) -> bool:
        """Tell whether any exposure or feedback (keyed user and patient hashes) is stored."""
        with self.database.lookup() as connection:
            held = connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM cds_exposures) "
                    "OR EXISTS (SELECT 1 FROM cds_feedback)"
                )
            ).scalar()
        return bool(held)

    def forget_user(self, user_key: str) -> None:
        """Drop a user's exposures and feedback (demo resets, a learner's erasure; never the
        CME ledger)."""
        with self.database.write() as connection:
            for table in ("cds_exposures", "cds_feedback"):
                connection.execute(
                    text(f"DELETE FROM {table} WHERE user_key = :user"), {"user": user_key}
                )

    def _rows(self, query: TextClause, **parameters) -> list[Row]:
        """Run one query; return its rows."""
        with self.database.lookup() as connection:
            return list(connection.execute(query, parameters).all())
