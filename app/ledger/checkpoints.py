"""Signed ledger checkpoints: (sequence, head hash, time) as an ES256 JWS kept outside the database.

The hash chain alone cannot catch someone who rewrites the file wholesale: they can re-seal every
hash after an edit, or cut the chain's tail together with the submissions that refer to it. A
checkpoint pins the head at a moment with a signature made by a key that is not in the database;
auditors keep the checkpoint and the public key elsewhere. Verifying against it fails when the
chain no longer reaches the checkpoint's sequence (truncation) or the record there has another
hash (re-sealing). The private key (P-256) is made once in the instance folder, mode 0600, like
the badge issuer's key; its public JWKS is what auditors need. Checkpoints are not Open Badges, so
they stay ES256 with their own key.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from app.ledger.chain import MAX_SEQUENCE, canonical_json, timestamp
from app.ledger.outputs.badges import p256_key_file, public_jwks
from app.ledger.store import LedgerStore

KEY_FILE = "ledger_checkpoint_key.json"
PUBLIC_KEY_FILE = "checkpoint-key.json"
ALGORITHM = "ES256"
TYPE = "bedside-ledger-checkpoint+jws"


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at a moment: its sequence number, its record hash and the UTC time."""

    sequence: int
    head_hash: str
    time: str


class CheckpointError(Exception):
    """A checkpoint cannot be trusted (unreadable, wrong kind or a bad signature)."""


FIELDS = {field.name for field in fields(Checkpoint)}


def checkpoint_key(instance_path: Path | str) -> ECKey:
    """Load the checkpoint signing key, creating it on first use (mode 0600, never overwritten)."""
    return p256_key_file(Path(instance_path) / KEY_FILE)


def public_keys(key: ECKey) -> dict:
    """Return the JWKS auditors use to check checkpoints (the public key only)."""
    return public_jwks(key, key.thumbprint())


def sign_checkpoint(head: tuple[int, str], key: ECKey, at: datetime) -> str:
    """Sign the head (sequence, hash) at this time as a compact JWS."""
    checkpoint = Checkpoint(head[0], head[1], timestamp(at))
    header = {"alg": ALGORITHM, "kid": key.thumbprint(), "typ": TYPE}
    payload = canonical_json(asdict(checkpoint)).encode()
    return jws.serialize_compact(header, payload, key, algorithms=[ALGORITHM])


def read_checkpoint(token: str, jwks: dict) -> Checkpoint:
    """Check the signature against the public JWKS and return the checkpoint it signs."""
    try:
        verified = jws.deserialize_compact(
            token.strip(), KeySet.import_key_set(jwks), algorithms=[ALGORITHM]
        )
    except (JoseError, ValueError, TypeError, KeyError) as error:
        reason = getattr(error, "error", None) or error
        raise CheckpointError(f"its signature does not verify ({reason})") from None
    if verified.headers().get("typ") != TYPE:
        raise CheckpointError("it is not a Bedside ledger checkpoint")
    try:
        statement = json.loads(verified.payload)
    except (ValueError, RecursionError):
        raise CheckpointError("its signed statement is not a checkpoint") from None
    return checkpoint_from(statement)


def checkpoint_from(statement: object) -> Checkpoint:
    """Build the checkpoint a signed statement holds, checking each field's type and range."""
    if not isinstance(statement, dict) or set(statement) != FIELDS:
        raise CheckpointError("its signed statement is not a checkpoint")
    sequence = statement["sequence"]
    if type(sequence) is not int or not 0 <= sequence <= MAX_SEQUENCE:
        raise CheckpointError(f"its sequence is not a whole number from 0 to {MAX_SEQUENCE}")
    if not isinstance(statement["head_hash"], str) or not isinstance(statement["time"], str):
        raise CheckpointError("its head hash and time are not both text")
    return Checkpoint(**statement)


def checkpoint_problem(checkpoint: Checkpoint, store: LedgerStore) -> str | None:
    """Return how the chain departs from the checkpoint (truncated or rewritten), or None."""
    if checkpoint.sequence == 0:
        return None  # signed on an empty ledger: every chain extends it
    chain = store.iter_chain(after=checkpoint.sequence - 1)
    try:
        record = next(chain, None)
    finally:
        chain.close()
    if record is None or record.sequence != checkpoint.sequence:
        return f"the chain no longer reaches record #{checkpoint.sequence} (truncated)"
    if record.record_hash != checkpoint.head_hash:
        return (
            f"record #{checkpoint.sequence} now has hash {record.record_hash[:12]}…, the "
            f"checkpoint signed {checkpoint.head_hash[:12]}… (the chain was rewritten)"
        )
    return None
