"""FHIR Bulk Data `$export` client: kick off, poll, download NDJSON, resume after interruption.

Kick-off (`Prefer: respond-async`) answers 202 with the status URL in Content-Location; the
status URL is polled (honouring Retry-After, else backing off) until it answers 200 with the
manifest, also through a 4xx/5xx whose OperationOutcome marks the failure transient (Bulk Data
2.0, "Response - Error Status"), and never longer than max_wait. Each output file is streamed to
`<Type>-<n>.ndjson` in the export directory (the names `outcomes compute --ndjson` reads),
size-bounded and checked to be NDJSON of its type. Error files (OperationOutcome NDJSON) go to
`errors/`, the `deleted` files (Bundles naming resources deleted since `_since`) to
`deleted/Bundle-<n>.ndjson`. A small state file in the directory remembers the status URL, the
manifest and which files are complete, so running again continues where the last run stopped
instead of kicking off a new export; when the server has let the export expire, the state is
discarded so the next run starts afresh. Once every file is in, the files of this naming left by
an earlier export and not in the manifest are removed. `manifest.json` keeps the transactionTime
for the next `_since`. A lock file keeps a second run out of a directory in use. The token is
sent only to the FHIR server's own origin and never printed; the server's words are printed
without control characters.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlencode, urljoin

import requests

from app.fhir_json import as_dict, as_str, dicts_in
from app.http_bodies import BodyTooLarge, bounded_json
from app.outcomes.ingest_fhir import Credential, bearer_header
from app.outcomes.ingest_ndjson import NdjsonError, iter_ndjson
from app.security import is_https_or_loopback
from cds_hooks.fhir_fetch import same_origin

STATE_FILE = ".bedside-export.json"
LOCK_FILE = ".bedside-export.lock"
MANIFEST_FILE = "manifest.json"
ERRORS_DIR = "errors"
DELETED_DIR = "deleted"
FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
TIMEOUT = (5.0, 60.0)
FIRST_DELAY = 1.0  # seconds before the first re-poll when the server gives no Retry-After
MAX_DELAY = 120.0
MAX_RETRY_AFTER = 3600.0
MAX_STATUS_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024
PROGRESS_BYTES = 16 * 1024 * 1024  # a progress line per 16 MiB of a file being downloaded
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
OWN_FILE = re.compile(r"^[A-Z][A-Za-z]{1,63}-[1-9][0-9]*\.ndjson(\.part)?$")  # what we name
IN_PROGRESS = frozenset({202, 429, 503})
GONE = frozenset({404, 410})
# C0 and C1 control characters (and DEL): whitespace ones become spaces, the others go, as do
# the bidirectional overrides and isolates that reorder what a terminal shows (Trojan Source).
BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
TERMINAL_SAFE = {code: " " for code in b"\t\n\v\f\r"} | {
    code: None
    for code in [*range(0x20), *range(0x7F, 0xA0), *BIDI_CONTROLS]
    if chr(code) not in "\t\n\v\f\r"
}
# FHIR R4 IssueType `transient` and its child codes: the request may succeed if tried again.
TRANSIENT_CODES = frozenset(
    {"transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled"}
)
Report = Callable[[str], None]


class BulkExportError(Exception):
    """The export could not go on; the message is one readable sentence without secrets."""


class ExportExpired(BulkExportError):
    """The server no longer has the export or its files; the saved state is of no further use."""


EXPIRED = "Bedside discarded the saved export, so running the same command again starts a new one."


@dataclass(frozen=True)
class ExportRequest:
    """What to export: a system or Group export, its types and `_since`."""

    fhir_base: str
    types: tuple[str, ...]
    group: str | None = None
    since: str | None = None

    def kickoff_url(self) -> str:
        """[base]/$export or [base]/Group/[id]/$export with `_type` and `_since`."""
        path = f"/Group/{self.group}/$export" if self.group else "/$export"
        params = {"_type": ",".join(self.types)}
        if self.since:
            params["_since"] = self.since
        return f"{self.fhir_base}{path}?{urlencode(params, safe=',')}"

    def as_json(self) -> dict:
        """The request as stored in the state file (to recognise a resumable export)."""
        return {
            "fhir_base": self.fhir_base,
            "types": list(self.types),
            "group": self.group,
            "since": self.since,
        }


def check_request(request: ExportRequest) -> None:
    """Refuse a malformed Group id or resource type before anything is sent."""
    if request.group is not None and not FHIR_ID.match(request.group):
        raise BulkExportError(f"{request.group!r} is not a FHIR id (letters, digits, - and .).")
    for name in request.types:
        if not RESOURCE_TYPE.match(name):
            raise BulkExportError(f"{name!r} is not a FHIR resource type name.")


@dataclass
class ExportResult:
    """What an export run left in its directory."""

    transaction_time: str
    files: dict[str, int]  # file name -> resources
    errors: list[str] = field(default_factory=list)  # OperationOutcome diagnostics
    deleted: dict[str, int] = field(default_factory=dict)  # deleted/ file name -> Bundles
    stale_removed: int = 0  # files an earlier export left that this manifest does not list
    polls: int = 0


class ExportState:
    """The state file of an export directory: request, status URL, manifest, finished files."""

    def __init__(self, directory: Path, data: dict):
        self.path = Path(directory) / STATE_FILE
        self.data = data

    @classmethod
    def open(cls, directory: Path, request: ExportRequest) -> ExportState:
        """Load the directory's unfinished export of this request, else a fresh state."""
        path = Path(directory) / STATE_FILE
        if not path.exists():
            return cls(directory, {"request": request.as_json(), "complete": {}})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BulkExportError(
                f"{path} is unreadable; delete it to start a new export."
            ) from None
        if not isinstance(data, dict) or data.get("request") != request.as_json():
            raise BulkExportError(
                f"{directory} holds an unfinished export of another request; "
                f"use another --out directory or delete {path}."
            )
        data.setdefault("complete", {})
        return cls(directory, data)

    def save(self) -> None:
        """Write the state atomically (a crash never leaves half a state file)."""
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)

    def finish(self) -> None:
        """Forget the finished export (the next run kicks off a new one)."""
        self.path.unlink(missing_ok=True)


class BulkExportClient:
    """Runs one `$export` against one FHIR server with one credential."""

    def __init__(
        self,
        credential: Credential = None,
        *,
        max_wait: float = 3600.0,
        max_file_bytes: int = 4 * 1024**3,
        report: Report = lambda line: None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ):
        self.credential = credential
        self.max_wait = max_wait
        self.max_file_bytes = max_file_bytes
        self.report = report
        self.sleep = sleep
        self.clock = clock
        self.session = session or requests.Session()

    def run(self, request: ExportRequest, directory: Path) -> ExportResult:
        """Kick off (or resume) the export and download every file into directory."""
        check_request(request)
        if not is_https_or_loopback(request.fhir_base):
            raise BulkExportError(
                "The FHIR server URL must be https (plain http only on loopback)."
            )
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BulkExportError(f"Cannot write {directory}: {error.strerror or error}.") from None
        with export_lock(directory):
            state = ExportState.open(directory, request)
            try:
                return self.export_into(request, directory, state)
            except ExportExpired:
                state.finish()
                raise

    def export_into(
        self, request: ExportRequest, directory: Path, state: ExportState
    ) -> ExportResult:
        """Kick off or resume, download everything, clear what an earlier export left."""
        result = ExportResult(transaction_time="", files={})
        if not state.data.get("status_url"):
            state.data["status_url"] = self.kick_off(request)
            state.save()
        else:
            self.report("Resuming the export recorded in " + str(state.path))
        if state.data.get("manifest") is None:
            state.data["manifest"] = self.wait_for_manifest(state.data["status_url"], result)
            state.save()
        manifest = state.data["manifest"]
        self.download_files(request, manifest, state, directory)
        complete = state.data["complete"]
        result.files = {name: complete[name] for name, _ in output_files(manifest)}
        result.deleted = {name: complete[name] for name, _ in deleted_files(manifest)}
        result.errors = self.download_errors(request, manifest, directory)
        result.transaction_time = printable(str(manifest.get("transactionTime", "")))
        result.stale_removed = remove_stale_files(directory, manifest)
        write_json(directory / MANIFEST_FILE, manifest)
        self.delete_quietly(state.data["status_url"])
        state.finish()
        return result

    def kick_off(self, request: ExportRequest) -> str:
        """Send the kick-off request; return the status URL from Content-Location."""
        headers = {"Accept": FHIR_JSON, "Prefer": "respond-async"}
        response = self.request("GET", request.kickoff_url(), headers)
        with response:
            if response.status_code != 202:
                raise BulkExportError(refusal("The export kick-off", response))
            location = response.headers.get("Content-Location", "")
        if not location:
            raise BulkExportError("The server accepted the export but gave no Content-Location.")
        status_url = urljoin(request.fhir_base + "/", location)
        self.check_destination(request, status_url, "status URL")
        self.report("Export kicked off; waiting for the server to prepare the files.")
        return status_url

    def wait_for_manifest(self, status_url: str, result: ExportResult) -> dict:
        """Poll the status URL until the manifest arrives (bounded by max_wait)."""
        deadline = self.clock() + self.max_wait
        delay = FIRST_DELAY
        while True:
            response = self.request("GET", status_url, {"Accept": "application/json"})
            result.polls += 1
            with response:
                status = response.status_code
                if status == 200:
                    return manifest_of(response)
                if status in IN_PROGRESS:
                    note = in_progress(response.headers.get("X-Progress", ""))
                else:
                    note = transient_failure(response)
                asked = retry_after(response.headers.get("Retry-After"))
            wait = asked or delay
            delay = min(delay * 2, MAX_DELAY)
            left = deadline - self.clock()
            if left <= 0:
                raise BulkExportError(not_ready(self.max_wait, note, asked))
            wait = min(wait, left)
            self.report(f"{note}; next check in {wait:g} s.")
            self.sleep(wait)

    def download_files(
        self, request: ExportRequest, manifest: dict, state: ExportState, directory: Path
    ) -> None:
        """Download each output and deleted file not yet complete, recording each as it finishes."""
        files = output_files(manifest) + deleted_files(manifest)
        for number, (name, entry) in enumerate(files, start=1):
            if name in state.data["complete"]:
                continue
            resources = self.download(request, manifest, entry, directory / name)
            state.data["complete"][name] = resources
            state.save()
            self.report(
                f"[{number}/{len(files)}] {name}: {resources} resources, "
                f"{(directory / name).stat().st_size / 1024:.0f} KB"
            )

    def download_errors(self, request: ExportRequest, manifest: dict, directory: Path) -> list[str]:
        """Download the error files into errors/ and return their OperationOutcome diagnostics."""
        messages: list[str] = []
        for name, entry in error_files(manifest):
            path = directory / name
            self.download(request, manifest, entry, path)
            messages += [issue_text(outcome) for _, outcome in iter_ndjson(path)]
        return messages

    def download(self, request: ExportRequest, manifest: dict, entry: dict, path: Path) -> int:
        """Stream one file to path (via a .part file), bounded; return its resource count."""
        url = urljoin(request.fhir_base + "/", str(entry.get("url", "")))
        needs_token = manifest.get("requiresAccessToken") is True
        self.check_destination(request, url, "file URL", with_token=needs_token)
        partial = path.with_name(path.name + ".part")
        path.parent.mkdir(exist_ok=True)
        headers = {"Accept": NDJSON}
        response = self.request("GET", url, headers, with_token=needs_token)
        with response:
            if response.status_code in GONE:
                raise ExportExpired(
                    refusal(f"Downloading {path.name}", response)
                    + " The export's files have expired on the server; "
                    + EXPIRED
                )
            if response.status_code != 200:
                raise BulkExportError(
                    refusal(f"Downloading {path.name}", response)
                    + " Run the same command again to resume."
                )
            self.stream_to(response, partial)
        try:
            count = sum(1 for _, resource in iter_ndjson(partial) if check_type(resource, entry))
        except NdjsonError as error:
            partial.unlink(missing_ok=True)
            raise BulkExportError(f"{path.name} is not valid NDJSON ({error}).") from None
        os.replace(partial, path)
        return count

    def stream_to(self, response: requests.Response, partial: Path) -> None:
        """Write a response body to disk chunk by chunk, refusing one over max_file_bytes."""
        name = partial.name.removesuffix(".part")
        written = 0
        with partial.open("wb") as out:
            try:
                for chunk in response.iter_content(CHUNK):
                    written += len(chunk)
                    if written > self.max_file_bytes:
                        out.close()
                        partial.unlink(missing_ok=True)
                        raise BulkExportError(
                            f"{name} is larger than {self.max_file_bytes} bytes; "
                            "raise --max-file-mb to accept it."
                        )
                    out.write(chunk)
                    self.report_progress(name, written, len(chunk))
            except requests.RequestException as error:
                raise BulkExportError(
                    f"Downloading {name} was cut off "
                    f"({type(error).__name__}); run the same command again to resume."
                ) from None

    def report_progress(self, name: str, written: int, last_chunk: int) -> None:
        """Say how far a long download is, once per PROGRESS_BYTES received."""
        if written // PROGRESS_BYTES > (written - last_chunk) // PROGRESS_BYTES:
            self.report(f"  {name}: {written / 2**20:.1f} MiB received…")

    def delete_quietly(self, status_url: str) -> None:
        """Tell the server the files are no longer needed (DELETE the status URL); ignore errors."""
        with contextlib.suppress(BulkExportError):
            self.request("DELETE", status_url, {"Accept": FHIR_JSON}).close()

    def check_destination(
        self, request: ExportRequest, url: str, what: str, *, with_token: bool = True
    ) -> None:
        """Require https (or loopback); never send the token beyond the FHIR server's origin."""
        if with_token and self.credential and not same_origin(url, request.fhir_base):
            raise BulkExportError(
                f"The server's {what} leaves the FHIR base URL's origin; "
                "Bedside does not send its token there."
            )
        if not is_https_or_loopback(url):
            raise BulkExportError(f"The server's {what} is not https.")

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        with_token: bool = True,
    ) -> requests.Response:
        """One streamed HTTP request (with the token unless told not to); errors in one sentence."""
        auth = bearer_header(self.credential) if with_token else {}
        try:
            return self.session.request(
                method, url, headers=headers | auth, timeout=TIMEOUT, stream=True
            )
        except requests.RequestException as error:
            raise BulkExportError(
                f"The FHIR server did not answer ({type(error).__name__}); "
                "run the same command again to resume."
            ) from None


@contextlib.contextmanager
def export_lock(directory: Path) -> Iterator[None]:
    """Hold the directory's lock file (with our pid) for the run; refuse if another run holds it.

    An flock lock ends with its process, so a crashed run leaves no lock to clear by hand.
    """
    path = directory / LOCK_FILE
    try:
        handle = path.open("a+", encoding="utf-8")
    except OSError as error:
        raise BulkExportError(f"Cannot write {path}: {error.strerror or error}.") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read(20).strip()
            raise BulkExportError(
                f"Another `bedside outcomes export` (process {holder or 'unknown'}) is writing "
                f"to {directory}; wait for it to finish or use another --out directory."
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def output_files(manifest: dict) -> list[tuple[str, dict]]:
    """The manifest's output files, each with the name it is saved as: `<Type>-<n>.ndjson`."""
    return named_entries(manifest.get("output"))


def error_files(manifest: dict) -> list[tuple[str, dict]]:
    """The manifest's error files, saved as `errors/<Type>-<n>.ndjson`."""
    return [(f"{ERRORS_DIR}/{name}", entry) for name, entry in named_entries(manifest.get("error"))]


def deleted_files(manifest: dict) -> list[tuple[str, dict]]:
    """The manifest's `deleted` files (Bundles), saved as `deleted/Bundle-<n>.ndjson`."""
    entries = file_entries(manifest.get("deleted"))
    return [
        (f"{DELETED_DIR}/Bundle-{number}.ndjson", entry | {"type": "Bundle"})
        for number, entry in enumerate(entries, start=1)
    ]


def remove_stale_files(directory: Path, manifest: dict) -> int:
    """Delete files of our naming an earlier export left that the manifest does not list; count."""
    files = output_files(manifest) + error_files(manifest) + deleted_files(manifest)
    listed = {name for name, _ in files}
    removed = 0
    for folder in (directory, directory / ERRORS_DIR, directory / DELETED_DIR):
        for path in folder.glob("*.ndjson*"):
            name = path.relative_to(directory).as_posix()
            if OWN_FILE.match(path.name) and name not in listed and path.is_file():
                path.unlink()
                removed += 1
    return removed


def file_entries(entries: object) -> list[dict]:
    """The entries of a manifest file list that have a url."""
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("url"), str)]


def named_entries(entries: object) -> list[tuple[str, dict]]:
    """Manifest entries with the local file name each is saved as: `<Type>-<n>.ndjson`."""
    seen: dict[str, int] = {}
    named = []
    for entry in file_entries(entries):
        kind = str(entry.get("type", "Resource"))
        if not RESOURCE_TYPE.match(kind):
            raise BulkExportError(f"The manifest names an output of type {kind[:40]!r}.")
        seen[kind] = seen.get(kind, 0) + 1
        named.append((f"{kind}-{seen[kind]}.ndjson", entry))
    return named


def check_type(resource: dict, entry: dict) -> bool:
    """Require each line of an output file to be a resource of the entry's type."""
    expected = entry.get("type")
    if expected and resource.get("resourceType") != expected:
        raise NdjsonError(f"a {resource.get('resourceType')} in the {expected} file")
    return True


def manifest_of(response: requests.Response) -> dict:
    """The completion manifest (bounded), checked to have an output list."""
    try:
        manifest = bounded_json(response, MAX_STATUS_BYTES)
    except BodyTooLarge:
        raise BulkExportError("The export manifest is too large to read.") from None
    except ValueError:
        raise BulkExportError("The export manifest is not JSON.") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("output"), list):
        raise BulkExportError("The export manifest has no output list.")
    return manifest


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # '²'.isdigit() too, but float() cannot read it
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(moment.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)


def not_ready(max_wait: float, note: str, asked: float | None) -> str:
    """Say the wait is over, whether the server asked for more, and how to keep waiting."""
    text = f"The export was not ready within {max_wait:g} s (last: {note})"
    if asked:
        text += f"; the server asked to wait {asked:g} s more, beyond what is left of --max-wait"
    return text + (
        ". Run the same command again to keep waiting: "
        "it resumes this export instead of starting a new one."
    )


def in_progress(progress: str) -> str:
    """Say that the export is still being prepared, with the server's X-Progress if any."""
    progress = printable(progress).strip()[:100]
    return f"Export in progress ({progress})" if progress else "Export in progress"


def transient_failure(response: requests.Response) -> str:
    """Say why a failed status check is retried; raise BulkExportError when it is not transient."""
    outcome = operation_outcome_of(response)
    if response.status_code >= 400 and outcome is not None and is_transient(outcome):
        return f"The status check failed for now ({issue_text(outcome)})"
    if response.status_code in GONE:
        raise ExportExpired(
            f"The server no longer knows this export (expired or cancelled). {EXPIRED}"
        )
    raise BulkExportError(failure("The export", response.status_code, outcome))


def is_transient(outcome: dict) -> bool:
    """Whether an OperationOutcome has an issue coded `transient` or one of its child codes."""
    codes = {as_str(issue.get("code")) for issue in dicts_in(outcome.get("issue"))}
    return not TRANSIENT_CODES.isdisjoint(codes)


def refusal(what: str, response: requests.Response) -> str:
    """'<what> failed (status): <OperationOutcome diagnostics>.' in one sentence."""
    return failure(what, response.status_code, operation_outcome_of(response))


def failure(what: str, status: int, outcome: dict | None) -> str:
    """'<what> failed (status)', with the OperationOutcome's diagnostics if any, as a sentence."""
    text = f"{what} failed ({status})"
    if outcome is not None:
        text += f": {issue_text(outcome)}"
    return text.rstrip(".") + "."


def operation_outcome_of(response: requests.Response) -> dict | None:
    """The response's OperationOutcome (read bounded), or None when the body is not one."""
    try:
        body = bounded_json(response, MAX_STATUS_BYTES)
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return body
    return None


def issue_text(outcome: dict) -> str:
    """The first issue's diagnostics (or details text) of an OperationOutcome, shortened."""
    for issue in dicts_in(outcome.get("issue")):
        details = as_dict(issue.get("details"))
        text = issue.get("diagnostics") or details.get("text") or issue.get("code")
        if text:
            return printable(str(text))[:300].rstrip(".")
    return "an error without diagnostics"


def printable(text: str) -> str:
    """Server-supplied text safe to print: tabs and newlines become spaces, other controls go."""
    return text.translate(TERMINAL_SAFE)


def write_json(path: Path, document: dict) -> None:
    """Write a JSON document (the manifest) to disk."""
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
