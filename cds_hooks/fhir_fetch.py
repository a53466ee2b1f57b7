"""Fetch FHIR data from the EHR's server with its bearer token: timeouts, bounded paging, cache."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

import requests

from app.security import is_https_or_loopback

FHIR_JSON = "application/fhir+json"
MAX_PAGES = 5
MAX_ENTRIES = 500
TIMEOUT = (1.0, 2.0)  # connect, read (seconds)


class FetchFailed(Exception):
    """A fetch that did not give usable data (refused, failed, timed out, not FHIR)."""


class FetchCache:
    """Seconds-long, memory-only cache of fetch results, keyed by token + server + query."""

    def __init__(self, ttl_seconds: float = 10.0, max_entries: int = 512):
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str | None, url: str) -> str:
        """Hash token and URL together: the raw token is never kept as a key."""
        return hashlib.sha256(f"{token or ''}\n{url}".encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        """Return a fresh cached result, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                self._entries.pop(key, None)
                return None
            return entry[1]

    def put(self, key: str, value: dict) -> None:
        """Store a result, evicting the oldest beyond the size bound."""
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class FhirFetcher:
    """Reads from one FHIR server with one bearer token, for one hook call."""

    def __init__(self, base_url: str, token: str | None, cache: FetchCache | None = None):
        if not is_https_or_loopback(base_url):
            raise FetchFailed("fhirServer must be an https URL")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._cache = cache
        self._session = requests.Session()

    def close(self) -> None:
        """Release the connection pool."""
        self._session.close()

    def get_pages(self, url: str) -> dict:
        """GET a resource or search; follow `next` links up to the page and entry bounds."""
        first = self.get_json(url)
        if first.get("resourceType") != "Bundle":
            return first
        entries = list(first.get("entry") or [])
        page, pages = first, 1
        while (next_url := next_url_of(page)) and pages < MAX_PAGES and len(entries) < MAX_ENTRIES:
            if urlsplit(next_url).netloc != urlsplit(self.base_url).netloc:
                break
            page = self.get_json(next_url)
            entries.extend(page.get("entry") or [])
            pages += 1
        merged = {key: value for key, value in first.items() if key not in {"entry", "link"}}
        merged["entry"] = entries[:MAX_ENTRIES]
        return merged

    def get_json(self, url: str) -> dict:
        """GET one URL as FHIR JSON, through the cache."""
        cache_key = FetchCache.key(self._token, url)
        if self._cache is not None and (cached := self._cache.get(cache_key)) is not None:
            return cached
        body = self._request(url)
        if self._cache is not None:
            self._cache.put(cache_key, body)
        return body

    def _request(self, url: str) -> dict:
        """Perform the GET; turn every failure into FetchFailed without the token in it."""
        headers = {"Accept": FHIR_JSON}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = self._session.get(url, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as error:
            raise FetchFailed(f"FHIR server unreachable ({type(error).__name__})") from None
        with response:
            if response.status_code in {401, 403}:
                raise FetchFailed(f"FHIR server refused the token ({response.status_code})")
            if response.status_code != 200:
                raise FetchFailed(f"FHIR server answered {response.status_code}")
            try:
                body = response.json()
            except ValueError:
                raise FetchFailed("FHIR server did not answer with JSON") from None
        if not isinstance(body, dict) or "resourceType" not in body:
            raise FetchFailed("FHIR server did not answer with a FHIR resource")
        return body


def next_url_of(bundle: dict) -> str | None:
    """Return the `next` link of a Bundle page."""
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None
