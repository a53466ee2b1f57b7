"""Badge revocation through a W3C Bitstring Status List (v1.0), as Open Badges 3.0 uses it.

- Every badge carries `credentialStatus` {id, type "BitstringStatusListEntry", statusPurpose
  "revocation", statusListIndex (a base-10 string), statusListCredential (the list's URL)}; the
  slot comes from app/ledger/badge_status.py (allocated once per credit record, at random).
- Bedside serves each list at {base}/ledger/badges/status/<n> as a BitstringStatusListCredential,
  a VC-JWT signed RS256 with the badges' issuer key. Its `encodedList` is "u" (multibase base64url)
  + base64url without padding of the GZIP-compressed bitstring, 131,072 bits (16 KB), index 0 the
  left-most (most significant) bit of the first byte. A set bit means the credit was reversed.
- Checking a badge's status (the spec's validate algorithm): the list's signature with the
  issuer's JWKS, its issuer equal to the badge's, its id equal to the URL the badge names, the
  type and purpose, then the bit; a list shorter than 131,072 entries or an index beyond it is
  refused, as is a list that would inflate past MAX_LIST_BYTES.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

from app.database import Database
from app.http_bodies import BodyTooLarge, bounded_body
from app.ledger import badge_status
from app.ledger.badge_status import LIST_SIZE, StatusSlot
from app.ledger.outputs import badges

STATUS_PATH = "/ledger/badges/status/"
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
PURPOSE = "revocation"
MULTIBASE_BASE64URL = "u"
MAX_LIST_BYTES = 16 * 1024 * 1024  # 128 M entries: far beyond any list Bedside serves
MAX_INDEX_DIGITS = len(str(MAX_LIST_BYTES * 8))  # a longer index is beyond any list Bedside reads
FETCH_TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_MAX_AGE = 300  # seconds a served list may be cached (its `ttl`, and Cache-Control)


def list_url(base_url: str, status_list: int) -> str:
    """Return the URL a status list is served at."""
    return f"{base_url.rstrip('/')}{STATUS_PATH}{status_list}"


def entry(base_url: str, slot: StatusSlot) -> dict:
    """Return a badge's `credentialStatus` for its slot."""
    url = list_url(base_url, slot.status_list)
    return {
        "id": f"{url}#{slot.status_index}",
        "type": ENTRY_TYPE,
        "statusPurpose": PURPOSE,
        "statusListIndex": str(slot.status_index),
        "statusListCredential": url,
    }


def encode_bits(revoked: Iterable[int], size: int = LIST_SIZE) -> str:
    """Return the encodedList of a bitstring of `size` bits with these indexes set."""
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode_bits(encoded: str) -> bytes:
    """Expand an encodedList into the bitstring's bytes; ValueError when malformed."""
    if not isinstance(encoded, str) or not encoded.startswith(MULTIBASE_BASE64URL):
        raise ValueError("encodedList is not multibase base64url (it must start with 'u')")
    text = encoded[1:]
    if "=" in text:
        raise ValueError("encodedList must be base64url without padding")
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("encodedList is not base64url") from None
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing
    try:
        bits = inflater.decompress(compressed, MAX_LIST_BYTES)
    except zlib.error:
        raise ValueError("encodedList is not GZIP-compressed") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"encodedList inflates past {MAX_LIST_BYTES} bytes")
    return bits


def bit_at(bits: bytes, index: int) -> bool:
    """Return the bit at an index (0 is the left-most bit of the first byte)."""
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    base_url: str,
    issuer: badges.Issuer,
    status_list: int,
    revoked: Iterable[int],
    now: datetime,
    max_age: int = DEFAULT_MAX_AGE,
) -> dict:
    """Build the (unsigned) BitstringStatusListCredential of one list."""
    url = list_url(base_url, status_list)
    return {
        "@context": [badges.CONTEXTS[0]],
        "id": url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer.id,
        "validFrom": badges.whole_seconds(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encode_bits(revoked),
            "ttl": max_age * 1000,  # milliseconds, as the spec has it
        },
    }


def signed_status_list(
    base_url: str,
    issuer: badges.Issuer,
    key: badges.SigningKey,
    status_list: int,
    revoked: Iterable[int],
    now: datetime | None = None,
    max_age: int = DEFAULT_MAX_AGE,
) -> str:
    """Sign a list's credential with an issuer key (a VC-JWT, RS256 as the badges are)."""
    moment = now or datetime.now(UTC)
    made = status_list_credential(base_url, issuer, status_list, revoked, moment, max_age)
    return badges.sign(made, key, badges.key_id(base_url, key), moment)


def current_status_list(
    database: Database,
    base_url: str,
    issuer: badges.Issuer,
    instance_path: Path | str,
    number: int,
    max_age: int = DEFAULT_MAX_AGE,
) -> str | None:
    """Sign list `number` as the ledger's reversals have it now (None when there is none).

    The issuer key is loaded only for a list that exists, so asking for others costs no key.
    """
    if number < 1 or number > badge_status.list_count(database):
        return None
    revoked = badge_status.revoked_indexes(database, number)
    key = badges.issuer_key(instance_path)
    return signed_status_list(base_url, issuer, key, number, revoked, max_age=max_age)


def list_number(url: str, base_url: str) -> int | None:
    """Return the list number when the URL is one of this instance's lists (else None)."""
    prefix = list_url(base_url, 0)[:-1]
    tail = url[len(prefix) :] if url.startswith(prefix) else ""
    return int(tail) if tail.isdigit() and tail.isascii() else None


def badge_status_entry(claims: Mapping[str, object]) -> dict | None:
    """Return a verified badge's revocation entry (None for badges issued without one)."""
    entries = badges.as_list(claims.get("credentialStatus"))
    for candidate in entries:
        if isinstance(candidate, dict) and candidate.get("statusPurpose") == PURPOSE:
            return candidate
    return None


class StatusUnavailable(Exception):
    """The status list cannot be had or cannot be trusted; the message says why."""


@dataclass(frozen=True)
class StatusCheck:
    """A badge's revocation status: revoked or not, and the list and index read."""

    revoked: bool
    url: str
    index: int

    def summary(self) -> str:
        """Say the status in a few words."""
        state = "REVOKED (its credit was reversed)" if self.revoked else "not revoked"
        return f"{state}, per {self.url} index {self.index}"


def check_status(
    entry_: Mapping[str, object],
    status_token: str,
    jwks: dict,
    issuer: str,
    now: datetime | None = None,
) -> StatusCheck:
    """Verify the status list credential, then read the badge's bit; StatusUnavailable if not."""
    url, index = entry_fields(entry_)
    try:
        header = badges.check_header(status_token.strip(), badges.ALLOWED_ALGORITHMS)
        claims = badges.check_signature(status_token.strip(), header, jwks)
    except badges.UnknownKey as error:
        raise StatusUnavailable(
            f"the status list {url} fails: {error} (the list may be signed with a newer issuer "
            f"key: fetch the issuer's current JWKS from {badges.jwks_url(issuer)})"
        ) from None
    except badges.Invalid as error:
        raise StatusUnavailable(f"the status list {url} fails: {error}") from None
    problem = list_problem(claims, url, issuer, now or datetime.now(UTC))
    if problem:
        raise StatusUnavailable(f"the status list {url} fails: {problem}")
    try:
        bits = decode_bits(claims["credentialSubject"].get("encodedList"))
    except ValueError as error:
        raise StatusUnavailable(f"the status list {url} fails: {error}") from None
    if len(bits) * 8 < LIST_SIZE:
        raise StatusUnavailable(
            f"the status list {url} has {len(bits) * 8} entries, fewer than {LIST_SIZE}"
        )
    if index >= len(bits) * 8:
        raise StatusUnavailable(f"index {index} is beyond the status list {url}")
    return StatusCheck(bit_at(bits, index), url, index)


def entry_fields(entry_: Mapping[str, object]) -> tuple[str, int]:
    """Read the list URL and the index of a BitstringStatusListEntry."""
    url, index = entry_.get("statusListCredential"), entry_.get("statusListIndex")
    if entry_.get("type") != ENTRY_TYPE or not isinstance(url, str) or not url:
        raise StatusUnavailable(f"credentialStatus is not a {ENTRY_TYPE} with a list URL")
    if not isinstance(index, str) or not index.isdigit() or not index.isascii():
        raise StatusUnavailable("statusListIndex is not a base-10 integer string")
    if len(index.lstrip("0")) > MAX_INDEX_DIGITS:
        raise StatusUnavailable(f"statusListIndex has {len(index)} digits, beyond any status list")
    return url, int(index)


def list_problem(claims: dict, url: str, issuer: str, now: datetime) -> str | None:
    """Return the first reason the list credential cannot be used for this badge."""
    subject = claims.get("credentialSubject")
    if LIST_CREDENTIAL_TYPE not in badges.as_list(claims.get("type")):
        return f"its type does not include {LIST_CREDENTIAL_TYPE}"
    if claims.get("id") != url:
        return f"its id {claims.get('id')!r} is not the URL the badge names"
    if badges.issuer_id(claims) != issuer or claims.get("iss") != issuer:
        return f"it is issued by {claims.get('iss')!r}, not the badge's issuer {issuer!r}"
    if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
        return "its credentialSubject is not a BitstringStatusList"
    if PURPOSE not in badges.as_list(subject.get("statusPurpose")):
        return f"its statusPurpose does not include {PURPOSE!r}"
    valid_from = badges.parse_instant(claims.get("validFrom"))
    if valid_from is None or valid_from.timestamp() > now.timestamp() + badges.CLOCK_SKEW_SECONDS:
        return f"validFrom {claims.get('validFrom')!r} is missing or in the future"
    until = badges.parse_instant(claims.get("validUntil")) if "validUntil" in claims else None
    if until is not None and until < now:
        return f"it expired at {claims['validUntil']}"
    return None


def fetch(url: str, timeout: float = FETCH_TIMEOUT_SECONDS) -> str:
    """Dereference a status list URL (https, or http) and return the VC-JWT it serves."""
    if not url.startswith(("https://", "http://")):
        raise StatusUnavailable(f"the status list URL {url!r} is not http(s)")
    try:
        with requests.get(url, timeout=timeout, stream=True) as response:
            if response.status_code != 200:
                raise StatusUnavailable(f"{url} answered HTTP {response.status_code}")
            body = bounded_body(response, MAX_RESPONSE_BYTES)
    except BodyTooLarge:
        raise StatusUnavailable(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes") from None
    except (requests.RequestException, ValueError) as error:  # ValueError: cut off mid-body
        cause = error.__cause__ or error
        raise StatusUnavailable(f"cannot fetch {url} ({type(cause).__name__})") from None
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise StatusUnavailable(f"{url} did not answer a compact JWS") from None
