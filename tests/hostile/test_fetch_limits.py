"""The fetcher's bounds, against a real loopback server: bytes per call, the cache, the slots."""

from __future__ import annotations

import threading
import time

import pytest

from cds_hooks.fhir_fetch import FetchCache, FetchFailed, FetchPolicy, FhirFetcher
from cds_hooks.prefetch import ServerSlots
from tests.hostile.fetch_faults import FaultServer


@pytest.fixture(scope="module")
def faults():
    """The fault-injecting FHIR server."""
    with FaultServer() as server:
        yield server


def fetcher_for(url: str, **limits) -> FhirFetcher:
    """A fetcher allowed to use plain http on loopback."""
    policy = FetchPolicy(insecure_hosts=frozenset({"127.0.0.1"}), **limits)
    return FhirFetcher(url, "tok", FetchCache(policy=policy))


def test_one_call_reads_no_more_than_its_byte_budget(faults):
    fetcher = fetcher_for(faults.url("garbage"), max_call_bytes=4096)
    deadline = time.monotonic() + 2.5
    for query in ("Condition?a=1", "Condition?a=2", "Condition?a=3"):
        with pytest.raises(FetchFailed):
            fetcher.get_json(f"{faults.url('garbage')}/{query}", deadline)
    assert fetcher.bytes_read <= 4096 + 2000  # the budget plus the one response that crossed it
    fetcher.close()


def test_a_response_over_the_cap_fails_and_is_not_cached(faults):
    fetcher = fetcher_for(faults.url("huge-undeclared"), max_response_bytes=100_000)
    url = f"{faults.url('huge-undeclared')}/Observation?patient=p"
    with pytest.raises(FetchFailed, match="larger than 100000 bytes"):
        fetcher.get_json(url, time.monotonic() + 2.5)
    assert fetcher.bytes_read <= 100_000 + 64 * 1024
    assert fetcher._cache.stored_bytes == 0
    fetcher.close()


def test_the_cache_is_bounded_by_bytes_and_drops_the_oldest():
    cache = FetchCache(max_bytes=1000)
    for number in range(5):
        cache.put(f"k{number}", {"resourceType": "Bundle", "n": number}, 300)
    assert cache.stored_bytes <= 1000
    assert cache.get("k0") is None and cache.get("k4") == {"resourceType": "Bundle", "n": 4}


def test_the_cache_drops_expired_entries_before_fresh_ones():
    cache = FetchCache(ttl_seconds=0.05, max_bytes=1000)
    cache.put("old", {"resourceType": "Patient"}, 600)
    time.sleep(0.1)
    cache.put("new", {"resourceType": "Patient"}, 600)
    assert cache.stored_bytes == 600
    assert cache.get("new") == {"resourceType": "Patient"}


def test_the_cache_keeps_nothing_larger_than_its_bound():
    cache = FetchCache(max_bytes=1000)
    cache.put("big", {"resourceType": "Bundle"}, 5000)
    assert cache.get("big") is None and cache.stored_bytes == 0


def test_a_server_gets_no_more_slots_than_its_limit():
    slots = ServerSlots(per_server=2)
    deadline = time.monotonic() + 0.2
    assert slots.acquire("https://a", deadline) and slots.acquire("https://a", deadline)
    assert not slots.acquire("https://a", deadline)  # waits until the deadline, then gives up
    assert slots.acquire("https://b", time.monotonic() + 0.2)  # another server is not affected
    threading.Timer(0.05, slots.release, args=("https://a",)).start()
    assert slots.acquire("https://a", time.monotonic() + 1)


def test_a_drip_ends_at_the_deadline_as_a_failed_fetch(faults):
    fetcher = fetcher_for(faults.url("drip"))
    started = time.monotonic()
    for _ in range(3):  # the deadline falls between two bytes or during a read: both fail cleanly
        with pytest.raises(FetchFailed, match="in time"):
            fetcher.get_json(f"{faults.url('drip')}/Patient/p", time.monotonic() + 0.5)
    assert time.monotonic() - started < 3 * 0.5 + 0.5
    fetcher.close()
