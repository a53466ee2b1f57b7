"""Bulk Data `$export` on the fixture FHIR server (dev/demo/tests): jobs, status, NDJSON files.

System (`[base]/$export`) and Group (`[base]/Group/[id]/$export`) kick-offs take `_type`,
`_since` (compared with `meta.lastUpdated`; resources without it are always exported) and
`_outputFormat`. Each job snapshots its files at kick-off and answers its first `pending_polls`
status requests with 202 + Retry-After + X-Progress (so clients' polling is exercised), then the
manifest. A Group member that is not in the fixtures becomes an OperationOutcome error file.
DELETE on the status URL cancels. Everything runs behind the FHIR blueprint's token check.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Blueprint, Response, request, url_for

from app.devtools.fhir_documents import operation_outcome
from app.devtools.fhir_store import FixtureStore
from app.fhir_json import reference_id
from app.outcomes.bulk import patient_id_of
from app.outcomes.medications import referenced_ids

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {NDJSON, "application/ndjson", "ndjson"}
MAX_JOBS = 20
RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
ERROR_FILE = "errors"


class ExportRefused(Exception):
    """A kick-off or status request the server answers with an OperationOutcome."""

    def __init__(self, status: int, code: str, diagnostics: str):
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics


@dataclass
class ExportJob:
    """One export: its request, snapshot files (name -> NDJSON text) and polls left."""

    request_url: str
    transaction_time: str
    files: dict[str, tuple[str, str, int]]  # name -> (resource type, ndjson, count)
    errors: str = ""
    polls_left: int = 0
    downloads: list[str] = field(default_factory=list)


class ExportJobs:
    """The fixture server's export jobs (in memory) and the knobs tests turn."""

    def __init__(self, store: FixtureStore, *, pending_polls: int = 1, retry_after: int = 1):
        self.store = store
        self.pending_polls = pending_polls
        self.retry_after = retry_after
        self.requires_token = False
        self.fail_downloads_after: int | None = None  # tests: interrupt after n file downloads
        self.kickoffs = 0
        self.polls = 0
        self.jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()

    def kick_off(self, group_id: str | None) -> str:
        """Check the kick-off request, snapshot the export, return the new job id."""
        if "respond-async" not in request.headers.get("Prefer", ""):
            raise ExportRefused(400, "invalid", "Bulk Data kick-off needs Prefer: respond-async.")
        output_format = request.args.get("_outputFormat")
        if output_format and output_format not in OUTPUT_FORMATS:
            raise ExportRefused(
                400, "not-supported", f"_outputFormat {output_format} is not offered."
            )
        types = self._types(request.args.get("_type", ""))
        since = _since(request.args.get("_since"))
        resources, missing = self._selection(group_id, types)
        job = ExportJob(
            request_url=request.url,
            transaction_time=datetime.now(UTC).isoformat(timespec="milliseconds"),
            files=_files(resources, types, since),
            errors="".join(_missing_member(reference) for reference in missing),
            polls_left=self.pending_polls,
        )
        job_id = secrets.token_urlsafe(12)
        with self._lock:
            self.kickoffs += 1
            if len(self.jobs) >= MAX_JOBS:
                self.jobs.pop(next(iter(self.jobs)))
            self.jobs[job_id] = job
        return job_id

    def status(self, job_id: str) -> Response:
        """202 while 'running', then the manifest."""
        job = self._job(job_id)
        with self._lock:
            self.polls += 1
            pending = job.polls_left > 0
            job.polls_left -= 1
        if pending:
            done = self.pending_polls - job.polls_left - 1
            return Response(
                status=202,
                headers={
                    "Retry-After": str(self.retry_after),
                    "X-Progress": f"preparing files, {done} of {self.pending_polls} checks done",
                },
            )
        return Response(json.dumps(self._manifest(job_id, job)), mimetype="application/json")

    def cancel(self, job_id: str) -> Response:
        """Delete a job (cancel it, or release its files)."""
        self._job(job_id)
        with self._lock:
            self.jobs.pop(job_id, None)
        return Response(status=202)

    def file(self, job_id: str, name: str) -> Response:
        """One NDJSON output (or error) file of a finished job."""
        job = self._job(job_id)
        with self._lock:
            if (
                self.fail_downloads_after is not None
                and len(job.downloads) >= self.fail_downloads_after
            ):
                raise ExportRefused(503, "transient", "The file store is briefly unavailable.")
            job.downloads.append(name)
        if name == ERROR_FILE and job.errors:
            return Response(job.errors, mimetype=NDJSON)
        if name not in job.files:
            raise ExportRefused(404, "not-found", f"There is no file {name} in this export.")
        return Response(job.files[name][1], mimetype=NDJSON)

    def _job(self, job_id: str) -> ExportJob:
        """The job, or 404 (unknown, cancelled or expired)."""
        with self._lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise ExportRefused(404, "not-found", "This export is unknown, cancelled or expired.")
        return job

    def _types(self, value: str) -> list[str]:
        """The `_type` list (default: every type in the fixtures); a type with no data is empty."""
        types = [name.strip() for name in value.split(",") if name.strip()]
        for name in types:
            if not RESOURCE_TYPE.match(name):
                raise ExportRefused(400, "invalid", f"_type {name[:40]!r} is not a type name.")
        return types or sorted(self.store.resource_types)

    def _selection(self, group_id: str | None, types: list[str]) -> tuple[list[dict], list[str]]:
        """The resources of the export (a Group's members only) and unknown member references."""
        everything = [r for name in types for r in self.store.search(name, [])]
        if group_id is None:
            return everything, []
        group = self.store.read("Group", group_id)
        if group is None:
            raise ExportRefused(404, "not-found", f"Group/{group_id} is not known.")
        references = [
            str((member.get("entity") or {}).get("reference", ""))
            for member in group.get("member", [])
        ]
        members = {reference_id({"reference": ref}, "Patient") for ref in references}
        missing = [ref for ref in references if not self._known_patient(ref)]
        chosen = [r for r in everything if patient_id_of(r) in members]
        medications = referenced_ids(chosen)
        chosen += [
            r for r in everything if r["resourceType"] == "Medication" and r["id"] in medications
        ]
        return chosen, missing

    def _known_patient(self, reference: str) -> bool:
        """Whether a Group member reference names a Patient in the fixtures."""
        patient_id = reference_id({"reference": reference}, "Patient")
        return patient_id is not None and self.store.read("Patient", patient_id) is not None

    def _manifest(self, job_id: str, job: ExportJob) -> dict:
        """The completion manifest with absolute file URLs."""

        def file_url(name: str) -> str:
            return url_for(".export_file", job_id=job_id, name=name, _external=True)

        return {
            "transactionTime": job.transaction_time,
            "request": job.request_url,
            "requiresAccessToken": self.requires_token,
            "output": [
                {"type": kind, "url": file_url(name), "count": count}
                for name, (kind, _, count) in job.files.items()
            ],
            "error": [{"type": "OperationOutcome", "url": file_url(ERROR_FILE)}]
            if job.errors
            else [],
        }


def add_export_routes(bp: Blueprint, jobs: ExportJobs) -> None:
    """Mount kick-off, status and file routes on the FHIR blueprint."""
    bp.add_url_rule("/$export", "export_system", lambda: _kick_off(jobs, None))
    bp.add_url_rule(
        "/Group/<group_id>/$export", "export_group", lambda group_id: _kick_off(jobs, group_id)
    )
    bp.add_url_rule(
        "/$export-status/<job_id>",
        "export_status",
        lambda job_id: jobs.cancel(job_id) if request.method == "DELETE" else jobs.status(job_id),
        methods=["GET", "DELETE"],
    )
    bp.add_url_rule("/$export-files/<job_id>/<name>", "export_file", jobs.file)
    bp.register_error_handler(ExportRefused, _refused)


def _kick_off(jobs: ExportJobs, group_id: str | None) -> Response:
    """202 Accepted with the status URL in Content-Location."""
    job_id = jobs.kick_off(group_id)
    location = url_for(".export_status", job_id=job_id, _external=True)
    return Response(status=202, headers={"Content-Location": location})


def _refused(error: ExportRefused) -> Response:
    """An OperationOutcome for a refused export request."""
    body = json.dumps(operation_outcome(error.code, error.diagnostics))
    return Response(body, status=error.status, mimetype="application/fhir+json")


def _since(value: str | None) -> datetime | None:
    """Parse `_since` (a FHIR instant), or 400."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ExportRefused(
            400, "invalid", f"_since {value[:40]!r} is not a FHIR instant."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _files(resources: list[dict], types: list[str], since: datetime | None) -> dict:
    """One file per type: name -> (type, NDJSON text, count); types with nothing are left out."""
    by_type: dict[str, list[str]] = {}
    for resource in resources:
        if since is None or _changed_since(resource, since):
            by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    return {
        f"{kind}.ndjson": (kind, "".join(f"{line}\n" for line in by_type[kind]), len(by_type[kind]))
        for kind in types
        if kind in by_type
    }


def _changed_since(resource: dict, since: datetime) -> bool:
    """meta.lastUpdated after since (a resource without it counts as changed)."""
    stamp = (resource.get("meta") or {}).get("lastUpdated")
    if not stamp:
        return True
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return True
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) > since


def _missing_member(reference: str) -> str:
    """An OperationOutcome NDJSON line for a Group member the server does not hold."""
    outcome = operation_outcome(
        "not-found", f"Group member {reference or '(no reference)'} is not known."
    )
    return json.dumps(outcome) + "\n"
