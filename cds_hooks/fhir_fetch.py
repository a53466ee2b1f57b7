"""Fetch FHIR data from the EHR's server with its bearer token: bounded in time, bytes and pages.

Every read streams: a response stops at the call's deadline, at its byte cap, or when the call
has read its byte budget, whatever the server does (slow, dripping, huge, endless). Redirects
are never followed, so the token only ever goes to the fhirServer the hook named.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError as TransportError

from app.fhir_json import as_str, dicts_in
from app.http_bodies import BodyTooLarge

FHIR_JSON = "application/fhir+json"
MAX_PAGES = 5
MAX_ENTRIES = 500
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0  # longest silence between two packets, within the call's deadline
CHUNK_BYTES = 64 * 1024
CACHE_BYTES = 16 * 1024 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


class FetchFailed(Exception):
    """A fetch that did not give usable data (refused, failed, timed out, too big, not FHIR)."""


@dataclass(frozen=True)
class FetchPolicy:
    """What a deployment lets a fetch do: bytes per response and per call, plain-http hosts."""

    max_response_bytes: int = 4 * 1024 * 1024
    max_call_bytes: int = 8 * 1024 * 1024
    insecure_hosts: frozenset[str] = frozenset()

    def refusal(self, base_url: object) -> str | None:
        """Say why fhirServer may not be fetched from, or None when it may."""
        if not isinstance(base_url, str) or not urlsplit(base_url).hostname:
            return "fhirServer must be an https URL"
        parts = urlsplit(base_url)
        if parts.scheme == "https":
            return None
        if parts.scheme == "http" and {parts.hostname, parts.netloc} & self.insecure_hosts:
            return None
        return "fhirServer must be an https URL (plain http only for BEDSIDE_FHIR_INSECURE_HOSTS)"


def insecure_hosts(setting: object) -> frozenset[str]:
    """Parse BEDSIDE_FHIR_INSECURE_HOSTS: space-separated `host` or `host:port`, lower case."""
    return frozenset(str(setting or "").lower().split())


class FetchCache:
    """Seconds-long, memory-only cache of fetch results, bounded by the bytes they were read from.

    It also carries the deployment's FetchPolicy, so the worker's one shared fetch object brings
    both to every FhirFetcher.
    """

    def __init__(
        self,
        ttl_seconds: float = 10.0,
        max_bytes: int = CACHE_BYTES,
        policy: FetchPolicy | None = None,
    ):
        self.ttl_seconds = ttl_seconds
        self.max_bytes = max_bytes
        self.policy = policy or FetchPolicy()
        self._entries: OrderedDict[str, tuple[float, int, dict]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str | None, url: str) -> str:
        """Hash token and URL together: the raw token is never kept as a key."""
        return hashlib.sha256(f"{token or ''}\n{url}".encode()).hexdigest()

    @property
    def stored_bytes(self) -> int:
        """The bytes the cached results were read from."""
        return self._bytes

    def get(self, key: str) -> dict | None:
        """Return a fresh cached result, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                self._drop(key)
                return None
            return entry[2]

    def put(self, key: str, value: dict, size: int) -> None:
        """Store a result read from size bytes; drop expired entries, then the oldest, to fit."""
        if size > self.max_bytes:
            return
        with self._lock:
            self._drop(key)
            self._drop_expired()
            while self._entries and self._bytes + size > self.max_bytes:
                self._drop(next(iter(self._entries)))
            self._entries[key] = (time.monotonic() + self.ttl_seconds, size, value)
            self._bytes += size

    def _drop_expired(self) -> None:
        """Remove every entry past its time to live (the lock is held)."""
        now = time.monotonic()
        for key in [key for key, entry in self._entries.items() if entry[0] < now]:
            self._drop(key)

    def _drop(self, key: str) -> None:
        """Remove one entry if present (the lock is held)."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]


class FhirFetcher:
    """Reads from one FHIR server with one bearer token, for one hook call."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        cache: FetchCache | None = None,
        *,
        policy: FetchPolicy | None = None,
        scope: str | None = None,
    ):
        self.policy = policy or (cache.policy if cache is not None else FetchPolicy())
        self.base_url = str(base_url).rstrip("/")
        self.refusal = self.policy.refusal(base_url)
        self._token = token
        self.scope = scope  # the SMART scopes granted with the token (None: no fhirAuthorization)
        self._cache = cache
        self._session = requests.Session()
        self._bytes_read = 0
        self._bytes_lock = threading.Lock()

    @property
    def bytes_read(self) -> int:
        """Bytes this call has read from the server so far."""
        return self._bytes_read

    def close(self) -> None:
        """Release the connection pool."""
        self._session.close()

    def get_pages(self, url: str, deadline: float) -> dict:
        """GET a resource or search; follow `next` links up to the page and entry bounds."""
        first = self.get_json(url, deadline)
        if first.get("resourceType") != "Bundle":
            return first
        entries = dicts_in(first.get("entry"))
        page, pages = first, 1
        while (next_url := next_url_of(page)) and pages < MAX_PAGES and len(entries) < MAX_ENTRIES:
            page = self.get_json(next_url, deadline)
            entries.extend(dicts_in(page.get("entry")))
            pages += 1
        merged = {key: value for key, value in first.items() if key not in {"entry", "link"}}
        merged["entry"] = entries[:MAX_ENTRIES]
        return merged

    def get_json(self, url: str, deadline: float) -> dict:
        """GET one URL as FHIR JSON before the deadline (monotonic time), through the cache."""
        if refusal := self.url_refusal(url):
            raise FetchFailed(refusal)
        cache_key = FetchCache.key(self._token, url)
        if self._cache is not None and (cached := self._cache.get(cache_key)) is not None:
            return cached
        raw = self._request(url, deadline)
        body = fhir_resource(raw)
        if self._cache is not None:
            self._cache.put(cache_key, body, len(raw))
        return body

    def url_refusal(self, url: str) -> str | None:
        """Say why the token may not go to url (another origin, or plain http), or None."""
        if self.refusal:
            return self.refusal
        if not same_origin(url, self.base_url):
            return "the link points outside the FHIR server"
        return self.policy.refusal(url)

    def _request(self, url: str, deadline: float) -> bytes:
        """Perform the GET; turn every failure into FetchFailed without the token in it."""
        headers = {"Accept": FHIR_JSON}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        left = seconds_left(deadline)
        if left <= 0:
            raise FetchFailed("the FHIR server did not answer in time")
        timeout = (min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left))
        try:
            response = self._session.get(
                url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            )
        except (requests.RequestException, ValueError) as error:
            raise FetchFailed(f"FHIR server unreachable ({type(error).__name__})") from None
        with response:
            if response.status_code in {401, 403}:
                raise FetchFailed(f"FHIR server refused the token ({response.status_code})")
            if response.status_code != 200:
                raise FetchFailed(f"FHIR server answered {response.status_code}")
            return self._read_body(response, deadline)

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        """Read the body as it arrives, stopping at the deadline or a byte cap."""
        cap = self.policy.max_response_bytes
        try:
            return read_capped(response, deadline, cap, counted=self._count)
        except BodyTooLarge:
            raise FetchFailed(f"FHIR response larger than {cap} bytes") from None
        except BodyCut as cut:
            if cut.timed_out:
                raise FetchFailed("the FHIR server did not answer in time") from None
            raise FetchFailed(f"FHIR server broke off ({cut.cause})") from None

    def _count(self, size: int) -> None:
        """Add to the call's bytes; fail once the call has read its budget."""
        with self._bytes_lock:
            self._bytes_read += size
            over = self._bytes_read > self.policy.max_call_bytes
        if over:
            raise FetchFailed(f"FHIR responses larger than {self.policy.max_call_bytes} bytes")


class BodyCut(Exception):
    """A body not read whole: the deadline passed, or the connection broke off."""

    def __init__(self, timed_out: bool, cause: str):
        super().__init__(cause)
        self.timed_out = timed_out
        self.cause = cause


def read_capped(
    response: requests.Response,
    deadline: float,
    limit: int,
    counted: Callable[[int], None] | None = None,
) -> bytes:
    """A streamed body, read as it arrives until the deadline and no further than `limit` bytes.

    BodyTooLarge past the limit (declared or read); BodyCut when a read fails; FetchFailed
    when the deadline has passed before a read. `counted` is told each chunk's size.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the response is larger than {limit} bytes")
    body = bytearray()
    while chunk := next_chunk(response, deadline):
        body += chunk
        if counted is not None:
            counted(len(chunk))
        if len(body) > limit:
            raise BodyTooLarge(f"the response is larger than {limit} bytes")
    return bytes(body)


def next_chunk(response: requests.Response, deadline: float) -> bytes:
    """read_before, with a failed read as BodyCut (timed out or broken off)."""
    try:
        return read_before(response, deadline)
    except (requests.RequestException, TransportError, OSError, ValueError) as error:
        raise BodyCut(seconds_left(deadline) <= 0, type(error).__name__) from None


def read_before(response: requests.Response, deadline: float) -> bytes:
    """Read what has arrived (at most one chunk), waiting no later than the deadline.

    The socket's timeout is set to the time left before each read, so neither a silent nor a
    dripping server (one byte per read timeout) keeps the read going past the deadline.
    """
    left = seconds_left(deadline)
    if left <= 0:
        raise FetchFailed("the FHIR server did not answer in time")
    connection = response.raw.connection
    if connection is not None and connection.sock is not None:
        connection.sock.settimeout(left)
    return response.raw.read1(CHUNK_BYTES, decode_content=True)


def fhir_resource(raw: bytes) -> dict:
    """Parse a response body as one FHIR resource."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise FetchFailed("FHIR server did not answer with JSON") from None
    if not isinstance(body, dict) or "resourceType" not in body:
        raise FetchFailed("FHIR server did not answer with a FHIR resource")
    return body


def seconds_left(deadline: float) -> float:
    """Seconds until a monotonic deadline (negative once it has passed)."""
    return deadline - time.monotonic()


def same_origin(url: str, base_url: str) -> bool:
    """Whether url has base_url's scheme, host and port (default ports made explicit)."""
    try:
        return origin(url) == origin(base_url)
    except ValueError:  # a malformed port
        return False


def origin(url: str) -> tuple[str, str | None, int | None]:
    """(scheme, host, port) of a URL, lower-cased, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or DEFAULT_PORTS.get(scheme)


def next_url_of(bundle: dict) -> str | None:
    """Return the `next` link of a Bundle page."""
    for link in dicts_in(bundle.get("link")):
        if link.get("relation") == "next" and as_str(link.get("url")):
            return link["url"]
    return None
