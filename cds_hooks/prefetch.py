"""Prefetch resolution: use what the EHR sent, fetch the rest in parallel, within a deadline."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from app.fhir_json import as_str, dicts_in
from cds_hooks.fhir_fetch import FetchFailed, FhirFetcher, next_url_of, same_origin, seconds_left
from cds_hooks.patient_context import entry_resources
from cds_hooks.scopes import query_refusal
from cds_hooks.services import PREFETCH, REQUIRED_PREFETCH

TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
FAILURE_SEVERITIES = frozenset({"error", "fatal"})
POOL_THREADS = 32
FETCHES_PER_SERVER = 4  # one slow server holds at most this many of the pool's threads
_executor: ThreadPoolExecutor | None = None


class PrefetchUnavailable(Exception):
    """Required data was neither prefetched nor fetchable (the service answers 412)."""

    def __init__(self, key: str, reason: str):
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class PrefetchPlan:
    """What the EHR sent that can be used, and which queries still have to be fetched."""

    ready: dict[str, object]
    to_fetch: dict[str, str]
    next_pages: dict[str, str]


def resolve_prefetch(
    prefetch: Mapping[str, object] | None,
    context: Mapping[str, object],
    fetcher: FhirFetcher | None,
    *,
    deadline_seconds: float = 2.5,
) -> dict[str, object]:
    """Return data for every prefetch key, fetching the missing ones; raise PrefetchUnavailable."""
    plan = plan_prefetch(prefetch or {}, context)
    data = dict(plan.ready)
    jobs = {key: ("query", query) for key, query in plan.to_fetch.items()}
    jobs.update({key: ("next", url) for key, url in plan.next_pages.items()})
    if jobs and fetcher is not None and fetcher.refusal:
        raise PrefetchUnavailable("fhirServer", fetcher.refusal)
    refused = scope_refusals(jobs, fetcher)
    fetched = run_jobs(
        {key: job for key, job in jobs.items() if key not in refused}, fetcher, deadline_seconds
    )
    results = {key: refused.get(key) or fetched[key] for key in jobs}
    for key, outcome in results.items():
        if isinstance(outcome, FetchFailed):
            if jobs[key][0] == "next":
                continue  # keep the first page we were given
            if key in REQUIRED_PREFETCH:
                raise PrefetchUnavailable(key, str(outcome))
            data[key] = None
        elif jobs[key][0] == "next":
            data[key] = merge_pages(data[key], outcome)
        else:
            data[key] = outcome
    return data


def plan_prefetch(prefetch: Mapping[str, object], context: Mapping[str, object]) -> PrefetchPlan:
    """Sort each prefetch key into the four states: absent, null, error, or data (maybe paged)."""
    ready: dict[str, object] = {}
    to_fetch: dict[str, str] = {}
    next_pages: dict[str, str] = {}
    for key, template in PREFETCH.items():
        if key in prefetch and prefetch[key] is None:
            ready[key] = None  # the EHR says there is no such data: do not re-query
            continue
        value = prefetch.get(key)
        if not isinstance(value, dict) or reports_an_error(value):
            to_fetch[key] = render_template(template, context)  # absent, or the EHR hit an error
            continue
        ready[key] = value
        next_url = next_url_of(value) if value.get("resourceType") == "Bundle" else None
        if next_url:
            next_pages[key] = next_url
    return PrefetchPlan(ready, to_fetch, next_pages)


def reports_an_error(value: dict) -> bool:
    """An OperationOutcome instead of the data, or a Bundle with an error or fatal outcome in it.

    CDS Hooks 2.0 lets the EHR pass on its FHIR server's failure so; an outcome of warnings or
    information only (a search's notes) leaves the Bundle's data usable.
    """
    if value.get("resourceType") == "OperationOutcome":
        return True
    if value.get("resourceType") != "Bundle":
        return False
    return any(is_failure(resource) for resource in entry_resources(value))


def is_failure(resource: dict) -> bool:
    """An OperationOutcome with an issue of severity error or fatal."""
    if resource.get("resourceType") != "OperationOutcome":
        return False
    return any(
        as_str(issue.get("severity")) in FAILURE_SEVERITIES
        for issue in dicts_in(resource.get("issue"))
    )


def render_template(template: str, context: Mapping[str, object]) -> str:
    """Fill {{context.x}} and {{userPractitionerId}}-style tokens into a prefetch query."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("context."):
            value = context.get(name.removeprefix("context."))
        else:
            value = user_resource_id(str(context.get("userId", "")), USER_TOKENS.get(name))
        if not isinstance(value, str | int) or value == "":
            raise PrefetchUnavailable(name, "the hook context does not provide it")
        return quote(str(value), safe="")

    return TOKEN.sub(replace, template)


def user_resource_id(user_id: str, resource_type: str | None) -> str | None:
    """Return the id from userId when it names a resource of the given type."""
    if resource_type and user_id.startswith(f"{resource_type}/"):
        return user_id.split("/", 1)[1]
    return None


def merge_pages(first: object, rest: object) -> object:
    """Append the entries fetched from later pages to the first page's Bundle."""
    if not isinstance(first, dict) or not isinstance(rest, dict):
        return first
    merged = dict(first)
    merged["entry"] = [*dicts_in(first.get("entry")), *dicts_in(rest.get("entry"))]
    links = dicts_in(first.get("link"))
    merged["link"] = [link for link in links if link.get("relation") != "next"]
    return merged


def scope_refusals(
    jobs: dict[str, tuple[str, str]], fetcher: FhirFetcher | None
) -> dict[str, FetchFailed]:
    """The jobs the token's scope does not allow, each failed with the reason (nothing fetched)."""
    if fetcher is None or fetcher.scope is None:
        return {}
    reasons = {key: query_refusal(fetcher.scope, PREFETCH[key]) for key in jobs}
    return {key: FetchFailed(reason) for key, reason in reasons.items() if reason}


def run_jobs(
    jobs: dict[str, tuple[str, str]], fetcher: FhirFetcher | None, deadline_seconds: float
) -> dict[str, object]:
    """Run the fetches in parallel; whatever is not done by the deadline has failed."""
    if not jobs:
        return {}
    if fetcher is None:
        return {key: FetchFailed("no fhirServer to fetch from") for key in jobs}
    deadline = time.monotonic() + deadline_seconds
    futures = {key: submit_for_server(fetcher, job, deadline) for key, job in jobs.items()}
    wait(futures.values(), timeout=max(seconds_left(deadline), 0))
    results: dict[str, object] = {}
    for key, future in futures.items():
        if future.done():
            results[key] = future.result()
        else:
            future.cancel()
            results[key] = FetchFailed("the FHIR server did not answer in time")
    return results


def submit_for_server(fetcher: FhirFetcher, job: tuple[str, str], deadline: float) -> Future:
    """Queue one job once its server has a free slot; a job without a slot by then has failed.

    Waiting for the slot happens here, in the hook call's own thread, so a server that holds
    all its slots delays only the calls that name it, never the pool other servers share.
    """
    origin = origin_of(fetcher.base_url)
    if not server_slots.acquire(origin, deadline):
        failed: Future = Future()
        failed.set_result(FetchFailed("the FHIR server is busy with earlier fetches"))
        return failed
    try:
        future = executor().submit(run_job, fetcher, *job, deadline)
    except BaseException:
        server_slots.release(origin)
        raise
    future.add_done_callback(lambda _: server_slots.release(origin))
    return future


def run_job(fetcher: FhirFetcher, kind: str, target: str, deadline: float) -> object:
    """Fetch one query (following pages) or the remaining pages after a next link."""
    try:
        if kind == "next":
            if not same_origin(target, fetcher.base_url):
                raise FetchFailed("next link points outside the FHIR server")
            return fetcher.get_pages(target, deadline)
        return fetcher.get_pages(urljoin(fetcher.base_url + "/", target), deadline)
    except FetchFailed as failure:
        return failure


class ServerSlots:
    """At most `per_server` fetches in flight per FHIR server origin, in this worker."""

    def __init__(self, per_server: int):
        self.per_server = per_server
        self._in_flight: Counter[str] = Counter()
        self._freed = threading.Condition()

    def acquire(self, origin: str, deadline: float) -> bool:
        """Take a slot for origin, waiting until the deadline at the latest."""
        with self._freed:
            while self._in_flight[origin] >= self.per_server:
                left = seconds_left(deadline)
                if left <= 0:
                    return False
                self._freed.wait(left)
            self._in_flight[origin] += 1
            return True

    def release(self, origin: str) -> None:
        """Give a slot back (and forget idle origins)."""
        with self._freed:
            self._in_flight[origin] -= 1
            if self._in_flight[origin] <= 0:
                del self._in_flight[origin]
            self._freed.notify_all()

    def in_flight(self, origin: str) -> int:
        """The fetches in flight for origin."""
        with self._freed:
            return self._in_flight[origin]


server_slots = ServerSlots(FETCHES_PER_SERVER)


def origin_of(url: str) -> str:
    """Scheme, host and port of a URL: the unit servers are isolated by."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def executor() -> ThreadPoolExecutor:
    """Return the shared fetch pool (created on first use, one per worker process)."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="fhir-fetch")
    return _executor
