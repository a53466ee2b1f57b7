"""Prefetch resolution: use what the EHR sent, fetch the rest in parallel, within a deadline."""

from __future__ import annotations

import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from cds_hooks.fhir_fetch import FetchFailed, FhirFetcher, next_url_of
from cds_hooks.services import PREFETCH, REQUIRED_PREFETCH

TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
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
    results = run_jobs(jobs, fetcher, deadline_seconds)
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
        if not isinstance(value, dict) or value.get("resourceType") == "OperationOutcome":
            to_fetch[key] = render_template(template, context)  # absent, or the EHR hit an error
            continue
        ready[key] = value
        next_url = next_url_of(value) if value.get("resourceType") == "Bundle" else None
        if next_url:
            next_pages[key] = next_url
    return PrefetchPlan(ready, to_fetch, next_pages)


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
    merged["entry"] = [*(first.get("entry") or []), *(rest.get("entry") or [])]
    merged["link"] = [link for link in first.get("link") or [] if link.get("relation") != "next"]
    return merged


def run_jobs(
    jobs: dict[str, tuple[str, str]], fetcher: FhirFetcher | None, deadline_seconds: float
) -> dict[str, object]:
    """Run the fetches in parallel; whatever is not done by the deadline has failed."""
    if not jobs:
        return {}
    if fetcher is None:
        return {key: FetchFailed("no fhirServer to fetch from") for key in jobs}
    futures = {key: executor().submit(run_job, fetcher, *job) for key, job in jobs.items()}
    wait(futures.values(), timeout=deadline_seconds)
    results: dict[str, object] = {}
    for key, future in futures.items():
        if future.done():
            results[key] = future.result()
        else:
            future.cancel()
            results[key] = FetchFailed("the FHIR server did not answer in time")
    return results


def run_job(fetcher: FhirFetcher, kind: str, target: str) -> object:
    """Fetch one query (following pages) or the remaining pages after a next link."""
    try:
        if kind == "next":
            if not same_origin(target, fetcher.base_url):
                raise FetchFailed("next link points outside the FHIR server")
            return fetcher.get_pages(target)
        return fetcher.get_pages(urljoin(fetcher.base_url + "/", target))
    except FetchFailed as failure:
        return failure


def same_origin(url: str, base_url: str) -> bool:
    """Tell whether url is on the same scheme, host and port as base_url."""
    left, right = urlsplit(url), urlsplit(base_url)
    return (left.scheme, left.netloc) == (right.scheme, right.netloc)


def executor() -> ThreadPoolExecutor:
    """Return the shared fetch pool (created on first use, one per worker process)."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fhir-fetch")
    return _executor
