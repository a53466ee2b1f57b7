"""The FHIR R4 documents the fixture server answers with: outcomes, capabilities, searchsets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from app.devtools.fhir_store import FixtureStore

OFFSET_PARAM = "_getpagesoffset"
_SMART_SERVICE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR",
            "display": "SMART-on-FHIR",
        }
    ],
    "text": "OAuth2 bearer tokens using the SMART App Launch profile",
}


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict:
    """Build a one-issue OperationOutcome."""
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def capability_statement(store: FixtureStore, *, secured: bool, base: str) -> dict:
    """Describe exactly what the server at `base` supports as a CapabilityStatement."""
    rest = {
        "mode": "server",
        "resource": [_resource_capability(store, t) for t in sorted(store.supported_types())],
    }
    if secured:
        rest["security"] = {"service": [_SMART_SERVICE]}
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "kind": "instance",
        "software": {"name": "Bedside fixture FHIR server"},
        "implementation": {"description": "Read-only synthetic fixtures", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [rest],
    }


def searchset(
    base: str,
    resource_type: str,
    matches: list[dict],
    params: list[tuple[str, str]],
    count: int,
    offset: int,
) -> dict:
    """Build the searchset Bundle for one page, with self/next/previous links."""
    bundle = {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "meta": {"lastUpdated": datetime.now(UTC).isoformat(timespec="seconds")},
        "type": "searchset",
        "total": len(matches),
        "link": _links(f"{base}/{resource_type}", params, count, offset, len(matches)),
    }
    page = matches[offset : offset + count]
    if page:
        bundle["entry"] = [
            {
                "fullUrl": f"{base}/{resource_type}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in page
        ]
    return bundle


def _resource_capability(store: FixtureStore, resource_type: str) -> dict:
    """One CapabilityStatement.rest.resource entry."""
    return {
        "type": resource_type,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            {"name": p.name, "type": p.type} for p in store.search_params(resource_type)
        ],
    }


def _links(
    url: str, params: list[tuple[str, str]], count: int, offset: int, total: int
) -> list[dict]:
    """The self link plus next/previous page links (absolute URLs)."""
    kept = [(k, v) for k, v in params if k not in ("_count", OFFSET_PARAM)]

    def page_url(page_offset: int) -> str:
        """This search at another page offset."""
        paging = [("_count", str(count))] + (
            [(OFFSET_PARAM, str(page_offset))] if page_offset else []
        )
        return f"{url}?{urlencode(kept + paging)}"

    links = [{"relation": "self", "url": page_url(offset)}]
    if count and offset + count < total:
        links.append({"relation": "next", "url": page_url(offset + count)})
    if count and offset:
        links.append({"relation": "previous", "url": page_url(max(0, offset - count))})
    return links
