"""Credit records and their hash chain: canonical JSON, SHA-256, exact amounts, UTC timestamps.

`record_hash = sha256(prev_hash + canonical_json(fields))`, where `fields` are every stored column
except `prev_hash` and `record_hash`; the first record's `prev_hash` is 64 zeros (GENESIS).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

GENESIS = "0" * 64
HUNDREDTH = Decimal("0.01")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# What TIMESTAMP_FORMAT writes; parsed by fromisoformat (strptime was a tenth of a claim's CPU).
TIMESTAMP_SHAPE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII)

# Every stored column of a credit record, in table order; the hash covers all but the last two.
RECORD_COLUMNS = (
    "sequence",
    "kind",
    "learner_id",
    "activity_key",
    "activity_type",
    "module_id",
    "module_version",
    "attempt_id",
    "credit_type",
    "amount_hundredths",
    "designated_hundredths",
    "earned_at",
    "evidence",
    "reverses",
    "reason",
    "idempotency_hash",
    "recorded_at",
    "prev_hash",
    "record_hash",
)
HASHED_COLUMNS = RECORD_COLUMNS[:-2]
# The sequence number sorts last in the canonical JSON, so a record's text up to its sequence can
# be made before the number is known (PostgreSQL numbers and hashes it under the chain lock).
SEQUENCE_KEY = ',"sequence":'
if max(HASHED_COLUMNS) != "sequence":
    raise RuntimeError("The record hash relies on 'sequence' being the last hashed key.")


MAX_SEQUENCE = 2**63 - 1  # records are numbered in a signed 64-bit integer column


@dataclass(frozen=True, slots=True)
class CreditRecord:
    """One row of the append-only credit ledger, exactly as stored."""

    sequence: int
    kind: str  # credit | reversal
    learner_id: str
    activity_key: str
    activity_type: str  # case | poc
    module_id: str | None
    module_version: str | None
    attempt_id: str | None
    credit_type: str
    amount_hundredths: int  # negative on a reversal
    designated_hundredths: int
    earned_at: str
    evidence: str  # canonical JSON: what the credit rests on (score, cycle steps)
    reverses: int | None
    reason: str | None
    idempotency_hash: str
    recorded_at: str
    prev_hash: str
    record_hash: str

    @property
    def amount(self) -> Decimal:
        """Return the credit amount as an exact Decimal (e.g. 0.50)."""
        return from_hundredths(self.amount_hundredths)

    def hashed_fields(self) -> dict[str, object]:
        """Return the fields the record hash covers."""
        return {name: getattr(self, name) for name in HASHED_COLUMNS}

    def as_row(self) -> tuple:
        """Return the values in column order, for INSERT."""
        return tuple(getattr(self, name) for name in RECORD_COLUMNS)


def seal(prev_hash: str, **fields: object) -> CreditRecord:
    """Build a record from its fields, linking it to prev_hash and computing its hash."""
    return CreditRecord(**fields, prev_hash=prev_hash, record_hash=compute_hash(prev_hash, fields))


def seal_text(
    prev_hash: str, before_sequence: str, sequence: int, **fields: object
) -> CreditRecord:
    """seal() for fields whose text up to the sequence is made (text_before_sequence): no JSON."""
    record_hash = hash_text(prev_hash + before_sequence + str(sequence) + "}")
    return CreditRecord(**fields, sequence=sequence, prev_hash=prev_hash, record_hash=record_hash)


def compute_hash(prev_hash: str, fields: dict[str, object]) -> str:
    """Return sha256(prev_hash + canonical JSON of the fields) as hex."""
    return hash_text(prev_hash + canonical_json(fields))


def hash_text(chained: str) -> str:
    """SHA-256 of the UTF-8 text, as hex."""
    return hashlib.sha256(chained.encode()).hexdigest()


def text_before_sequence(fields: dict[str, object]) -> str:
    """The canonical JSON of a record's fields (all but its sequence) up to its sequence number."""
    return canonical_json(fields)[:-1] + SEQUENCE_KEY


def canonical_json(value: object) -> str:
    """Serialise deterministically: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_hundredths(amount: Decimal) -> int:
    """Convert an exact amount to integer hundredths; refuse anything finer."""
    if amount != amount.quantize(HUNDREDTH):
        raise ValueError(f"Credit amounts have at most two decimals, not {amount}.")
    return int(amount * 100)


def from_hundredths(hundredths: int) -> Decimal:
    """Convert integer hundredths back to an exact amount with two decimals."""
    return (Decimal(hundredths) / 100).quantize(HUNDREDTH)


def timestamp(moment: datetime) -> str:
    """Format an aware datetime as UTC ISO 8601 with microseconds (naive ones are refused)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Ledger times must be timezone-aware.")
    # isoformat writes TIMESTAMP_FORMAT's text ("+00:00" for the Z) in half strftime's time.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_timestamp(text: str) -> datetime:
    """Parse a ledger timestamp (TIMESTAMP_FORMAT, nothing else) into an aware UTC datetime."""
    if not TIMESTAMP_SHAPE.fullmatch(text):
        raise ValueError(f"{text!r} is not a ledger timestamp ({TIMESTAMP_FORMAT}).")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
