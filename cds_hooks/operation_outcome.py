"""CDS service errors as a FHIR OperationOutcome, for clients that prefer FHIR JSON (CDS Hooks 3.0).

CDS Hooks 3.0 recommends an OperationOutcome in the body of a non-2xx answer. A client says it
wants one with `Accept: application/fhir+json` (preferred over application/json); every other
client keeps Bedside's one JSON error shape. Same status, same headers, same message.
"""

from __future__ import annotations

import json

from flask import Flask, Response, current_app, request

from app.errors import add_error_renderer

FHIR_JSON = "application/fhir+json"
CDS_PATH_PREFIX = "/cds-services"
# FHIR issue-type codes (http://hl7.org/fhir/issue-type) by Bedside error code, then by status.
ISSUE_TYPE_BY_CODE = {
    "request_too_large": "too-long",
    "too_many_resources": "too-costly",
    "time_budget_exceeded": "timeout",
    "prefetch_unavailable": "processing",
}
ISSUE_TYPE_BY_STATUS = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    412: "processing",
    413: "too-long",
    415: "not-supported",
    429: "throttled",
    503: "transient",
}


def issue_type(status: int, code: str) -> str:
    """The FHIR issue type for an error: by its Bedside code, its status, else its class."""
    if code in ISSUE_TYPE_BY_CODE:
        return ISSUE_TYPE_BY_CODE[code]
    return ISSUE_TYPE_BY_STATUS.get(status, "exception" if status >= 500 else "invalid")


def operation_outcome(status: int, code: str, message: str, field: str | None = None) -> dict:
    """One error issue: its type, today's message as diagnostics, the request field at fault."""
    issue = {"severity": "error", "code": issue_type(status, code), "diagnostics": message}
    if field:
        issue["expression"] = [field]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def wants_fhir_json() -> bool:
    """Tell whether this is a CDS request whose Accept prefers FHIR JSON to plain JSON."""
    if not request.path.startswith(CDS_PATH_PREFIX):
        return False
    return request.accept_mimetypes.best_match(["application/json", FHIR_JSON]) == FHIR_JSON


def render_for_fhir_clients(
    status: int, code: str, message: str, field: str | None
) -> Response | None:
    """The error as an OperationOutcome when the client asked for FHIR JSON, else None."""
    if not wants_fhir_json():
        return None
    body = json.dumps(operation_outcome(status, code, message, field), ensure_ascii=False)
    return current_app.response_class(body, mimetype=FHIR_JSON)


def register(app: Flask) -> None:
    """Answer CDS errors as OperationOutcome to the clients that prefer FHIR JSON."""
    add_error_renderer(app, render_for_fhir_clients)
