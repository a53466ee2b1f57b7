"""E-mail delivery's store: subscriptions, claimed messages, answer tokens and the suppression list.

Addresses are the clinician's personal data: each is sealed at rest with the SMART token cipher
(AES-GCM, bound to its learner's row) and looked up only by a keyed hash, never logged. The form
accepts only one bare addr-spec (`bare_address`); the hash keys on the addr-spec with the display
name and brackets dropped and the whole of it lower-cased (`address_key`): local parts are compared
case-insensitively, as nearly every mail provider treats them, so `Victim@` and `victim@` share one
suppression entry and one hourly limit, while the address is kept and mailed as typed (its domain
lower-cased). A bare address has the key the first release hashed, so stored hashes stay valid.

Sending at most once, even from several hosts at once: a run first claims the learner's sending
slot (an UPDATE that only succeeds when the frequency cap allows it, so a second host waits on the
row and then finds the slot taken) and inserts the message row, unique per (learner, kind, card,
due time), in the same transaction; only then does it talk to the SMTP server.
One implementation serves SQLite and PostgreSQL (app/database.py); only the DDL differs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass
from email.utils import getaddresses

from sqlalchemy import Connection, text
from sqlite_utils import Database as SqliteFile
from sqlite_utils.migrations import Migrations

from app.database import POSTGRESQL, Database, StoreSchema
from app.smart.token_cipher import TokenCipher

migrations = Migrations("bedside.delivery")
PENDING, ACTIVE, STOPPED = "pending", "active", "stopped"
REVIEW, DIGEST, NOTICES = "review", "digest", "notices"
# Each kind of message has its own sending slot, so one kind never holds another back.
SLOTS = {REVIEW: "last_sent_at", DIGEST: "last_digest_at", NOTICES: "last_notice_at"}
HASH_INFO = b"bedside delivery address hash v1"
CONFIRMATIONS_PER_LEARNER_DAY = 3  # a typo, then two corrections
CONFIRMATIONS_PER_ADDRESS_HOUR = 1  # nobody's inbox is flooded through the opt-in form
# Count-then-insert holds only if confirmations are taken one at a time: SQLite's BEGIN IMMEDIATE
# does that; on PostgreSQL this advisory lock does (confirmations are rare, one lock is enough).
CONFIRMATION_LOCK = zlib.crc32(b"bedside.delivery.confirmations")
ADDRESS_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ADDRESS_LIMIT = 254  # RFC 5321's longest path


@migrations()
def create_delivery_tables(db: SqliteFile) -> None:
    """Subscriptions, messages, answer tokens and suppressed addresses."""
    db["delivery_subscriptions"].create(
        {
            "learner_id": str,
            "address": str,
            "address_hash": str,
            "status": str,
            "language": str,
            "time_zone": str,
            "quiet_start": int,
            "quiet_end": int,
            "min_hours": int,
            "digest": int,
            "nonce": str,
            "created_at": str,
            "last_sent_at": str,
            "last_digest_at": str,
        },
        pk="learner_id",
    )
    db["delivery_subscriptions"].create_index(["nonce"], unique=True)
    db["delivery_subscriptions"].create_index(["address_hash"])
    db["delivery_messages"].create(
        {
            "message_id": str,
            "learner_id": str,
            "kind": str,
            "module_id": str,
            "item_id": str,
            "due": str,
            "status": str,
            "created_at": str,
        },
        pk="message_id",
    )
    db["delivery_messages"].create_index(
        ["learner_id", "kind", "module_id", "item_id", "due"], unique=True
    )
    db["delivery_tokens"].create(
        {
            "token_id": str,
            "learner_id": str,
            "module_id": str,
            "item_id": str,
            "expires_at": str,
            "used_at": str,
        },
        pk="token_id",
    )
    db["delivery_suppressions"].create(
        {"address_hash": str, "reason": str, "created_at": str}, pk="address_hash"
    )


@migrations()
def create_delivery_confirmations(db: SqliteFile) -> None:
    """Confirmation mails sent, to throttle them per learner and per address."""
    db["delivery_confirmations"].create({"learner_id": str, "address_hash": str, "sent_at": str})
    db["delivery_confirmations"].create_index(["learner_id", "sent_at"])
    db["delivery_confirmations"].create_index(["address_hash", "sent_at"])


@migrations()
def add_notice_mail(db: SqliteFile) -> None:
    """The "e-mail me notices" choice, its sending slot, and which notices each message carried."""
    db["delivery_subscriptions"].add_column("notices", int, not_null_default=0)
    db["delivery_subscriptions"].add_column("last_notice_at", str)
    db["delivery_notice_claims"].create(
        {"notice_id": str, "learner_id": str, "message_id": str, "claimed_at": str},
        pk="notice_id",
    )
    db["delivery_notice_claims"].create_index(["message_id"])
    db["delivery_notice_claims"].create_index(["learner_id"])


POSTGRESQL_STEPS = [
    (
        "create_delivery_tables",
        """
        CREATE TABLE delivery_subscriptions (
            learner_id TEXT PRIMARY KEY,
            address TEXT,
            address_hash TEXT,
            status TEXT,
            language TEXT,
            time_zone TEXT,
            quiet_start BIGINT,
            quiet_end BIGINT,
            min_hours BIGINT,
            digest BIGINT,
            nonce TEXT,
            created_at TEXT,
            last_sent_at TEXT,
            last_digest_at TEXT
        );
        CREATE UNIQUE INDEX idx_delivery_subscriptions_nonce ON delivery_subscriptions (nonce);
        CREATE INDEX idx_delivery_subscriptions_address_hash
            ON delivery_subscriptions (address_hash);
        CREATE TABLE delivery_messages (
            message_id TEXT PRIMARY KEY,
            learner_id TEXT,
            kind TEXT,
            module_id TEXT COLLATE "C",
            item_id TEXT COLLATE "C",
            due TEXT,
            status TEXT,
            created_at TEXT
        );
        CREATE UNIQUE INDEX idx_delivery_messages_learner_id_kind_module_id_item_id_due
            ON delivery_messages (learner_id, kind, module_id, item_id, due);
        CREATE TABLE delivery_tokens (
            token_id TEXT PRIMARY KEY,
            learner_id TEXT,
            module_id TEXT COLLATE "C",
            item_id TEXT COLLATE "C",
            expires_at TEXT,
            used_at TEXT
        );
        CREATE TABLE delivery_suppressions (
            address_hash TEXT PRIMARY KEY,
            reason TEXT,
            created_at TEXT
        )
        """,
    ),
    (
        "create_delivery_confirmations",
        """
        CREATE TABLE delivery_confirmations (
            learner_id TEXT,
            address_hash TEXT,
            sent_at TEXT
        );
        CREATE INDEX idx_delivery_confirmations_learner_id_sent_at
            ON delivery_confirmations (learner_id, sent_at);
        CREATE INDEX idx_delivery_confirmations_address_hash_sent_at
            ON delivery_confirmations (address_hash, sent_at)
        """,
    ),
    (
        "add_notice_mail",
        """
        ALTER TABLE delivery_subscriptions ADD COLUMN notices BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE delivery_subscriptions ADD COLUMN last_notice_at TEXT;
        CREATE TABLE delivery_notice_claims (
            notice_id TEXT PRIMARY KEY,
            learner_id TEXT,
            message_id TEXT,
            claimed_at TEXT
        );
        CREATE INDEX idx_delivery_notice_claims_message_id ON delivery_notice_claims (message_id);
        CREATE INDEX idx_delivery_notice_claims_learner_id ON delivery_notice_claims (learner_id)
        """,
    ),
]
TABLES = (
    "delivery_subscriptions",
    "delivery_messages",
    "delivery_tokens",
    "delivery_confirmations",
    "delivery_notice_claims",
)
DELIVERY_SCHEMA = StoreSchema(
    "bedside.delivery",
    migrations,
    POSTGRESQL_STEPS,
    # Notice claims are only added, read, released and purged (never updated).
    grants=(
        ("SELECT, INSERT, UPDATE, DELETE", TABLES[:-1]),
        ("SELECT, INSERT, DELETE", TABLES[-1:]),
        ("SELECT, INSERT", ("delivery_suppressions",)),
    ),
)


@dataclass(frozen=True)
class Preferences:
    """When and how often a learner wants review questions by e-mail."""

    language: str = "en"
    time_zone: str = "UTC"
    quiet_start: int = 21  # local hour at which quiet time begins
    quiet_end: int = 7  # local hour at which it ends
    min_hours: int = 24  # the frequency cap: at most one message per this many hours
    digest: bool = False  # a weekly "what next" digest too
    notices: bool = False  # replies, queue items and reported posts, batched (app notices)


@dataclass(frozen=True)
class Subscription:
    """A learner's subscription with its address opened (keep it out of logs)."""

    learner_id: str
    address: str
    status: str
    preferences: Preferences
    nonce: str
    last_sent_at: str | None
    last_digest_at: str | None
    last_notice_at: str | None = None


@dataclass(frozen=True)
class Claim:
    """A message this run owns: send it, then mark it sent (or release it if sending failed)."""

    message_id: str
    learner_id: str
    kind: str
    previous_sent_at: str | None
    notice_ids: tuple[str, ...] = ()  # the notices a NOTICES message carries


@dataclass(frozen=True)
class AnswerToken:
    """A one-click answer link's row: whose question it is and whether it was used."""

    token_id: str
    learner_id: str
    module_id: str
    item_id: str
    expires_at: str
    used_at: str | None


class TokenRefused(Exception):
    """An answer token that cannot be used; the message is `unknown`, `used` or `expired`."""


class _NotClaimed(Exception):
    """Roll the claim's transaction back: the message row existed already."""


SUBSCRIPTION_COLUMNS = (
    "learner_id, address, status, language, time_zone, quiet_start, quiet_end, min_hours,"
    " digest, notices, nonce, last_sent_at, last_digest_at, last_notice_at"
)
SUBSCRIBE = text(
    "INSERT INTO delivery_subscriptions (learner_id, address, address_hash, status, language,"
    " time_zone, quiet_start, quiet_end, min_hours, digest, notices, nonce, created_at)"
    " VALUES (:learner_id, :address, :address_hash, :status, :language, :time_zone,"
    " :quiet_start, :quiet_end, :min_hours, :digest, :notices, :nonce, :created_at)"
    " ON CONFLICT (learner_id) DO UPDATE SET address = excluded.address,"
    " address_hash = excluded.address_hash, status = CASE WHEN"
    " delivery_subscriptions.address_hash = excluded.address_hash"
    " AND delivery_subscriptions.status = 'active' THEN 'active' ELSE 'pending' END,"
    " language = excluded.language, time_zone = excluded.time_zone,"
    " quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,"
    " min_hours = excluded.min_hours, digest = excluded.digest, notices = excluded.notices,"
    " nonce = CASE WHEN"
    " delivery_subscriptions.address_hash = excluded.address_hash"
    " THEN delivery_subscriptions.nonce ELSE excluded.nonce END"
    " RETURNING nonce"
)


def bare_address(text: str) -> str | None:
    """The text as one bare addr-spec (trimmed, domain lower-cased); None if it is anything else.

    No display name, no angle brackets or comments, no list: exactly what a mail goes to.
    """
    candidate = text.strip()
    found = getaddresses([candidate])
    if len(found) != 1 or found[0] != ("", candidate) or len(candidate) > ADDRESS_LIMIT:
        return None
    if not ADDRESS_SHAPE.match(candidate):
        return None
    local, domain = candidate.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def address_key(address: str) -> str:
    """What an address is hashed by: its one addr-spec (name and brackets dropped), lower-cased."""
    found = getaddresses([address])
    single = found[0][1] if len(found) == 1 else ""
    return (single or address).strip().lower()


def new_nonce() -> str:
    """A fresh subscription nonce (confirm and unsubscribe links carry it)."""
    return secrets.token_urlsafe(24)


class DeliveryStore:
    """Reads and writes e-mail delivery's rows (opaque learner ids, sealed addresses)."""

    def __init__(self, database: Database, key: str):
        self.database = database
        self.cipher = TokenCipher(key)
        self._hash_key = hmac.new(key.encode(), HASH_INFO, hashlib.sha256).digest()
        database.migrate(DELIVERY_SCHEMA)

    def address_hash(self, address: str) -> str:
        """The keyed hash an address is looked up by (its `address_key`)."""
        return hmac.new(self._hash_key, address_key(address).encode(), hashlib.sha256).hexdigest()

    def subscribe(
        self,
        learner_id: str,
        address: str,
        preferences: Preferences,
        now: str,
        nonce: str | None = None,
    ) -> str:
        """Start a subscription awaiting confirmation, or change one; return its nonce.

        The same address keeps its nonce (links in earlier mail, unsubscribe above all, keep
        working) and, if confirmed, stays confirmed; a new address must be confirmed anew, under
        `nonce` if given (the one its confirmation mail carries).
        """
        row = {
            "learner_id": learner_id,
            "address": self.cipher.seal(address.strip(), row=f"delivery:{learner_id}"),
            "address_hash": self.address_hash(address),
            "status": PENDING,
            **preference_row(preferences),
            "nonce": nonce or new_nonce(),
            "created_at": now,
        }
        with self.database.write() as connection:
            return connection.execute(SUBSCRIBE, row).scalar_one()

    def confirm(self, nonce: str) -> str | None:
        """Activate the subscription with this nonce (double opt-in); its learner id, or None."""
        return self._set_status_by_nonce(nonce, ACTIVE, (PENDING, ACTIVE))

    def unsubscribe(self, nonce: str) -> str | None:
        """Stop the subscription with this nonce (one-click); its learner id, or None."""
        return self._set_status_by_nonce(nonce, STOPPED, (PENDING, ACTIVE, STOPPED))

    def stop(self, learner_id: str) -> None:
        """Stop a learner's subscription (opt-out from the profile page)."""
        with self.database.write() as connection:
            connection.execute(
                text("UPDATE delivery_subscriptions SET status = :s WHERE learner_id = :l"),
                {"s": STOPPED, "l": learner_id},
            )

    def subscription(self, learner_id: str) -> Subscription | None:
        """A learner's subscription, or None."""
        with self.database.read() as connection:
            row = connection.execute(
                text(
                    f"SELECT {SUBSCRIPTION_COLUMNS} FROM delivery_subscriptions"
                    " WHERE learner_id = :l"
                ),
                {"l": learner_id},
            ).fetchone()
        return self._subscription(row) if row else None

    def active(self) -> list[Subscription]:
        """Confirmed subscriptions whose address is not suppressed, by learner id.

        A row saved before the form took only bare addresses is left out unless its address is
        one: a list may reach someone who never confirmed, and a bracketed or named address was
        hashed as typed, so the suppression list cannot be checked for it.
        """
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    f"SELECT {SUBSCRIPTION_COLUMNS} FROM delivery_subscriptions s"
                    " WHERE status = :active AND NOT EXISTS (SELECT 1 FROM delivery_suppressions x"
                    " WHERE x.address_hash = s.address_hash) ORDER BY learner_id"
                ),
                {"active": ACTIVE},
            ).fetchall()
        subscriptions = [self._subscription(row) for row in rows]
        return [s for s in subscriptions if bare_address(s.address) is not None]

    def suppress(self, address: str, reason: str, now: str) -> int:
        """Never mail this address again (bounce, complaint); return the subscriptions stopped."""
        digest = self.address_hash(address)
        with self.database.write() as connection:
            connection.execute(
                text(
                    "INSERT INTO delivery_suppressions (address_hash, reason, created_at)"
                    " VALUES (:h, :r, :at) ON CONFLICT DO NOTHING"
                ),
                {"h": digest, "r": reason, "at": now},
            )
            stopped = connection.execute(
                text(
                    "UPDATE delivery_subscriptions SET status = :s"
                    " WHERE address_hash = :h AND status <> :s"
                ),
                {"s": STOPPED, "h": digest},
            )
        return stopped.rowcount

    def take_confirmation_slot(
        self, learner_id: str, address: str, now: str, day_ago: str, hour_ago: str
    ) -> bool:
        """Record a confirmation mail, unless the learner or the address is at its limit."""
        digest = self.address_hash(address)
        with self.database.write() as connection:
            if self.database.dialect == POSTGRESQL:
                lock = text("SELECT pg_advisory_xact_lock(:key)")
                connection.execute(lock, {"key": CONFIRMATION_LOCK})
            by_learner = connection.execute(
                text(
                    "SELECT COUNT(*) FROM delivery_confirmations"
                    " WHERE learner_id = :l AND sent_at > :since"
                ),
                {"l": learner_id, "since": day_ago},
            ).scalar_one()
            to_address = connection.execute(
                text(
                    "SELECT COUNT(*) FROM delivery_confirmations"
                    " WHERE address_hash = :h AND sent_at > :since"
                ),
                {"h": digest, "since": hour_ago},
            ).scalar_one()
            if (
                by_learner >= CONFIRMATIONS_PER_LEARNER_DAY
                or to_address >= CONFIRMATIONS_PER_ADDRESS_HOUR
            ):
                return False
            connection.execute(
                text(
                    "INSERT INTO delivery_confirmations (learner_id, address_hash, sent_at)"
                    " VALUES (:l, :h, :at)"
                ),
                {"l": learner_id, "h": digest, "at": now},
            )
        return True

    def release_confirmation_slot(self, learner_id: str, address: str, taken_at: str) -> None:
        """Give back a slot taken at `taken_at` whose mail never left (it counts for no limit)."""
        with self.database.write() as connection:
            connection.execute(
                text(
                    "DELETE FROM delivery_confirmations"
                    " WHERE learner_id = :l AND address_hash = :h AND sent_at = :at"
                ),
                {"l": learner_id, "h": self.address_hash(address), "at": taken_at},
            )

    def confirmation_awaited(self, learner_id: str, address: str, since: str) -> bool:
        """True when the learner's latest confirmation mail since then went to this address."""
        with self.database.read() as connection:
            latest = connection.execute(
                text(
                    "SELECT address_hash FROM delivery_confirmations"
                    " WHERE learner_id = :l AND sent_at > :since ORDER BY sent_at DESC LIMIT 1"
                ),
                {"l": learner_id, "since": since},
            ).scalar()
        return latest == self.address_hash(address)

    def is_suppressed(self, address: str) -> bool:
        """True when the address bounced or complained."""
        with self.database.read() as connection:
            row = connection.execute(
                text("SELECT 1 FROM delivery_suppressions WHERE address_hash = :h"),
                {"h": self.address_hash(address)},
            ).fetchone()
        return row is not None

    def sent_cards(self, learner_id: str) -> set[tuple[str, str, str]]:
        """(module, item, due) of the review messages already claimed for a learner."""
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    "SELECT module_id, item_id, due FROM delivery_messages"
                    " WHERE learner_id = :l AND kind = :k"
                ),
                {"l": learner_id, "k": REVIEW},
            ).fetchall()
        return {(m, i, d) for m, i, d in rows}

    def claim(
        self, learner_id: str, kind: str, card: tuple[str, str, str], now: str, cutoff: str
    ) -> Claim | None:
        """Own the learner's next message if the cap allows and the card was never sent; or None.

        `cutoff` is the latest previous send that still allows one now (now minus the cap).
        """
        slot = SLOTS[kind]
        message_id = secrets.token_hex(16)
        try:
            with self.database.write() as connection:
                previous = _take_slot(connection, learner_id, slot, now, cutoff)
                if previous is False:
                    return None
                inserted = connection.execute(
                    text(
                        "INSERT INTO delivery_messages (message_id, learner_id, kind, module_id,"
                        " item_id, due, status, created_at) VALUES (:id, :l, :k, :m, :i, :d,"
                        " 'claimed', :at) ON CONFLICT DO NOTHING"
                    ),
                    {"id": message_id, "l": learner_id, "k": kind, "at": now}
                    | dict(zip(("m", "i", "d"), card, strict=True)),
                )
                if inserted.rowcount != 1:
                    raise _NotClaimed
        except _NotClaimed:
            return None
        return Claim(message_id, learner_id, kind, previous)

    def mailed_notices(self, learner_id: str, since: str) -> set[str]:
        """The ids of the notices claimed for a learner's mail after `since`.

        A notice is claimed after it happened, so these cover every notice newer than `since`.
        """
        with self.database.read() as connection:
            rows = connection.execute(
                text(
                    "SELECT notice_id FROM delivery_notice_claims"
                    " WHERE learner_id = :l AND claimed_at > :since"
                ),
                {"l": learner_id, "since": since},
            ).scalars()
            return set(rows.all())

    def purge_notice_claims(self, before: str) -> int:
        """Delete the notice claims made before `before` (past the mailing window); their count."""
        with self.database.write() as connection:
            deleted = connection.execute(
                text("DELETE FROM delivery_notice_claims WHERE claimed_at < :before"),
                {"before": before},
            )
        return deleted.rowcount

    def claim_notices(
        self, learner_id: str, notice_ids: list[str], now: str, cutoff: str
    ) -> Claim | None:
        """Own a notice digest with those of these notices no run claimed yet; or None.

        Like `claim`: the learner's notice slot moves only if the cap allows, and each notice is
        claimed once (its id is the key), in one transaction, before anything is sent.
        """
        message_id = secrets.token_hex(16)
        try:
            with self.database.write() as connection:
                previous = _take_slot(connection, learner_id, SLOTS[NOTICES], now, cutoff)
                if previous is False:
                    return None
                connection.execute(
                    text(
                        "INSERT INTO delivery_messages (message_id, learner_id, kind, module_id,"
                        " item_id, due, status, created_at) VALUES (:id, :l, :k, '', '', :at,"
                        " 'claimed', :at)"
                    ),
                    {"id": message_id, "l": learner_id, "k": NOTICES, "at": now},
                )
                claimed = tuple(
                    notice_id
                    for notice_id in notice_ids
                    if _claim_notice(connection, notice_id, learner_id, message_id, now)
                )
                if not claimed:
                    raise _NotClaimed
        except _NotClaimed:
            return None
        return Claim(message_id, learner_id, NOTICES, previous, claimed)

    def mark_sent(self, claim: Claim) -> None:
        """Record that the claimed message left."""
        with self.database.write() as connection:
            connection.execute(
                text("UPDATE delivery_messages SET status = 'sent' WHERE message_id = :id"),
                {"id": claim.message_id},
            )

    def release(self, claim: Claim) -> None:
        """Give a claim back after sending failed, so a later run tries again."""
        slot = SLOTS[claim.kind]
        with self.database.write() as connection:
            for table in ("delivery_notice_claims", "delivery_messages"):
                connection.execute(
                    text(f"DELETE FROM {table} WHERE message_id = :id"), {"id": claim.message_id}
                )
            connection.execute(
                text(f"UPDATE delivery_subscriptions SET {slot} = :p WHERE learner_id = :l"),
                {"p": claim.previous_sent_at, "l": claim.learner_id},
            )

    def issue_token(self, learner_id: str, module_id: str, item_id: str, expires_at: str) -> str:
        """Store a new single-use answer token for a question; return its id."""
        token_id = secrets.token_urlsafe(18)
        with self.database.write() as connection:
            connection.execute(
                text(
                    "INSERT INTO delivery_tokens (token_id, learner_id, module_id, item_id,"
                    " expires_at) VALUES (:t, :l, :m, :i, :e)"
                ),
                {"t": token_id, "l": learner_id, "m": module_id, "i": item_id, "e": expires_at},
            )
        return token_id

    def token(self, token_id: str, now: str) -> AnswerToken:
        """A usable token's row; TokenRefused (unknown, used, expired) otherwise."""
        with self.database.read() as connection:
            found = _token_row(connection, token_id)
        return _usable(found, now)

    def use_token(self, token_id: str, now: str) -> AnswerToken:
        """Spend a token exactly once; TokenRefused when unknown, used or expired."""
        with self.database.write() as connection:
            spent = connection.execute(
                text(
                    "UPDATE delivery_tokens SET used_at = :now WHERE token_id = :t"
                    " AND used_at IS NULL AND expires_at > :now"
                ),
                {"t": token_id, "now": now},
            )
            found = _token_row(connection, token_id)
        if spent.rowcount == 1 and found is not None:
            return found
        _usable(found, now)  # raises with the reason
        raise TokenRefused("used")

    def export(self, learner_id: str) -> dict:
        """A learner's delivery data as JSON values (the address opened: it is theirs)."""
        found = self.subscription(learner_id)
        with self.database.read() as connection:
            messages = connection.execute(
                text(
                    "SELECT kind, module_id, item_id, status, created_at FROM delivery_messages"
                    " WHERE learner_id = :l ORDER BY created_at, message_id"
                ),
                {"l": learner_id},
            ).fetchall()
        return {
            "subscription": subscription_data(found) if found else None,
            "messages": [
                dict(zip(("kind", "module_id", "item_id", "status", "sent_at"), m, strict=True))
                for m in messages
            ],
        }

    def delete(self, learner_id: str) -> None:
        """Forget a learner's subscription, messages, tokens, confirmations (suppressions stay)."""
        with self.database.write() as connection:
            for table in TABLES:
                connection.execute(
                    text(f"DELETE FROM {table} WHERE learner_id = :l"), {"l": learner_id}
                )

    def _set_status_by_nonce(self, nonce: str, status: str, allowed: tuple[str, ...]) -> str | None:
        """Set the status of the subscription with this nonce if it is in `allowed`."""
        names = ", ".join(f":s{i}" for i in range(len(allowed)))
        with self.database.write() as connection:
            row = connection.execute(
                text(
                    f"UPDATE delivery_subscriptions SET status = :status"
                    f" WHERE nonce = :nonce AND status IN ({names}) RETURNING learner_id"
                ),
                {"status": status, "nonce": nonce}
                | {f"s{i}": value for i, value in enumerate(allowed)},
            ).fetchone()
        return row[0] if row else None

    def _subscription(self, row) -> Subscription:
        """A Subscription from a row of SUBSCRIPTION_COLUMNS, its address opened."""
        learner_id, sealed, status, language, zone, start, end, hours, digest, notices = row[:10]
        preferences = Preferences(language, zone, start, end, hours, bool(digest), bool(notices))
        address = self.cipher.open(sealed, row=f"delivery:{learner_id}") or ""
        return Subscription(learner_id, address, status, preferences, *row[10:])


def preference_row(preferences: Preferences) -> dict:
    """The subscription columns of the preferences."""
    return {
        "language": preferences.language,
        "time_zone": preferences.time_zone,
        "quiet_start": preferences.quiet_start,
        "quiet_end": preferences.quiet_end,
        "min_hours": preferences.min_hours,
        "digest": int(preferences.digest),
        "notices": int(preferences.notices),
    }


def subscription_data(subscription: Subscription) -> dict:
    """A subscription as plain JSON values (for the learner's own export)."""
    return {
        "address": subscription.address,
        "status": subscription.status,
        **preference_row(subscription.preferences),
        "last_sent_at": subscription.last_sent_at,
    }


def _take_slot(
    connection: Connection, learner_id: str, slot: str, now: str, cutoff: str
) -> str | bool | None:
    """Move the learner's slot to now if the cap allows: the previous value, or False if not.

    On PostgreSQL the UPDATE locks the row, so a concurrent claim waits, re-reads the slot and
    finds it taken; SQLite's BEGIN IMMEDIATE serialises the whole transaction.
    """
    previous = connection.execute(
        text(f"SELECT {slot} FROM delivery_subscriptions WHERE learner_id = :l"),
        {"l": learner_id},
    ).fetchone()
    moved = connection.execute(
        text(
            f"UPDATE delivery_subscriptions SET {slot} = :now WHERE learner_id = :l"
            f" AND status = :active AND ({slot} IS NULL OR {slot} <= :cutoff)"
        ),
        {"now": now, "l": learner_id, "active": ACTIVE, "cutoff": cutoff},
    )
    if moved.rowcount != 1 or previous is None:
        return False
    return previous[0]


def _claim_notice(
    connection: Connection, notice_id: str, learner_id: str, message_id: str, now: str
) -> bool:
    """Claim one notice for this message; False when another message has it already."""
    inserted = connection.execute(
        text(
            "INSERT INTO delivery_notice_claims (notice_id, learner_id, message_id, claimed_at)"
            " VALUES (:n, :l, :m, :at) ON CONFLICT DO NOTHING"
        ),
        {"n": notice_id, "l": learner_id, "m": message_id, "at": now},
    )
    return inserted.rowcount == 1


def _token_row(connection: Connection, token_id: str) -> AnswerToken | None:
    """The token's row, or None."""
    row = connection.execute(
        text(
            "SELECT token_id, learner_id, module_id, item_id, expires_at, used_at"
            " FROM delivery_tokens WHERE token_id = :t"
        ),
        {"t": token_id},
    ).fetchone()
    return AnswerToken(*row) if row else None


def _usable(found: AnswerToken | None, now: str) -> AnswerToken:
    """The token if it can still be used; TokenRefused with the reason otherwise."""
    if found is None:
        raise TokenRefused("unknown")
    if found.used_at is not None:
        raise TokenRefused("used")
    if found.expires_at <= now:
        raise TokenRefused("expired")
    return found
