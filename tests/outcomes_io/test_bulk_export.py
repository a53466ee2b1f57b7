"""`outcomes export` over loopback HTTP with a backend-services token, then `compute --ndjson`."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Response
from joserfc.jwk import ECKey

from app.devtools.fhir_documents import operation_outcome
from app.devtools.fhir_server import FixtureFhirServer
from app.outcomes import bulk_client
from app.outcomes.backend_token import MEASURE_SCOPE
from app.outcomes.bulk_client import (
    STATE_FILE,
    BulkExportClient,
    BulkExportError,
    ExportRequest,
)
from app.outcomes.export_command import export
from app.outcomes.outcomes_commands import compute
from tests.outcomes_io.helpers import write_bundles, write_ndjson

CLIENT_ID = "bedside-population"
AS_OF = ["--as-of", "2026-11-01"]


def backend_key() -> ECKey:
    """A fresh ES384 key for Bedside's backend-services registration."""
    return ECKey.generate_key("P-384", parameters={"kid": "bedside-es384"})


def register(path: Path, base_url: str, key: ECKey) -> dict[str, str]:
    """Write a BEDSIDE_BACKEND_CLIENTS file for the server; return the environment naming it."""
    entry = {"iss": base_url, "client_id": CLIENT_ID, "private_key": key.as_dict(private=True)}
    path.write_text(json.dumps([entry]), encoding="utf-8")
    return {"BEDSIDE_BACKEND_CLIENTS": str(path), "BEDSIDE_HOOK_TOKEN": ""}


def backend_server(tmp_path: Path, key: ECKey, **options) -> FixtureFhirServer:
    """The fixture FHIR server over the synthetic dataset, trusting the key for CLIENT_ID."""
    public = {"keys": [key.as_dict(private=False)]}
    fixtures = write_bundles(tmp_path / "fixtures")
    return FixtureFhirServer(fixtures, backend_clients={CLIENT_ID: public}, **options)


def invoke(command, *args: str, env: dict[str, str]):
    """Run a command with the given environment."""
    return CliRunner().invoke(command, list(args), env=env, catch_exceptions=False)


def computed(directory: Path) -> dict:
    """`compute --ndjson` JSON results for an export directory."""
    result = invoke(compute, "--ndjson", str(directory), *AS_OF, "--format", "json", env={})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def ndjson_lines(directory: Path) -> dict[str, int]:
    """Lines per *.ndjson file of a directory."""
    return {p.name: len(p.read_text().splitlines()) for p in sorted(directory.glob("*.ndjson"))}


def test_export_then_compute_equals_computing_from_the_data(tmp_path):
    """Done means: export with a system token, then compute gives the direct results."""
    key = backend_key()
    out = tmp_path / "export"
    with backend_server(tmp_path, key) as server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        result = invoke(export, "--fhir-server", server.base_url, "--out", str(out), env=env)
        seen = list(server.requests_seen)
        scopes = server.authority.issued_scopes
        kickoffs, polls = server.exports.kickoffs, server.exports.polls
    assert result.exit_code == 0, result.output
    assert computed(out) == computed(write_ndjson(tmp_path / "direct"))
    assert (kickoffs, polls) == (1, 2)  # one 202 with Retry-After, then the manifest
    assert scopes == [MEASURE_SCOPE]  # one token, reused; only what the measures read
    fhir = [(method, path) for method, path, valid in seen if path.startswith("/fhir/")]
    assert all(valid for _, path, valid in seen if "$export" in path)
    assert ("DELETE", fhir[-1][1]) == fhir[-1]  # the files are released once downloaded
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"--since {manifest['transactionTime']}" in result.output
    assert not (out / STATE_FILE).exists()
    expected = {f"{entry['type']}-1.ndjson": entry["count"] for entry in manifest["output"]}
    assert len(expected) == 9 and ndjson_lines(out) == expected


def test_rerun_after_an_interruption_resumes_without_a_second_kick_off(tmp_path):
    """A failed download stops the run; running again downloads only what is missing."""
    key = backend_key()
    out = tmp_path / "export"
    with backend_server(tmp_path, key, retry_after=0) as server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        args = ("--fhir-server", server.base_url, "--out", str(out))
        server.exports.fail_downloads_after = 1
        first = invoke(export, *args, env=env)
        state = json.loads((out / STATE_FILE).read_text())
        after_first = ndjson_lines(out)
        server.exports.fail_downloads_after = None
        second = invoke(export, *args, env=env)
        kickoffs = server.exports.kickoffs
        downloads = [path for method, path, _ in server.requests_seen if "$export-files" in path]
    assert first.exit_code == 1 and "run the same command again" in first.output.lower()
    assert "Traceback" not in first.output
    assert list(state["complete"]) == list(after_first) and len(after_first) == 1
    assert second.exit_code == 0, second.output
    assert kickoffs == 1
    manifest = json.loads((out / "manifest.json").read_text())
    expected = {f"{entry['type']}-1.ndjson": entry["count"] for entry in manifest["output"]}
    assert ndjson_lines(out) == expected  # complete, nothing appended twice
    assert len(downloads) == len(expected) + 1  # the failed attempt, then each file once
    assert not list(out.glob("*.part"))
    assert computed(out) == computed(write_ndjson(tmp_path / "direct"))


def test_polling_honours_retry_after_and_shows_progress(tmp_path):
    """Three 202s with Retry-After: 7 mean three waits of 7 s, then the manifest."""
    waits: list[float] = []
    lines: list[str] = []
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures, pending_polls=3, retry_after=7) as server:
        client = BulkExportClient(sleep=waits.append, report=lines.append)
        request = ExportRequest(server.base_url, types=("Patient",))
        result = client.run(request, tmp_path / "out")
        polls = server.exports.polls
    assert waits == [7, 7, 7]
    assert polls == result.polls == 4
    assert sum("preparing files" in line for line in lines) == 3


def test_waiting_is_bounded_and_the_rerun_keeps_waiting(tmp_path):
    """Past --max-wait the run stops with a sentence; the status URL stays for the rerun."""
    out = tmp_path / "out"
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures, pending_polls=2, retry_after=30) as server:
        request = ExportRequest(server.base_url, types=("Patient",))
        clock = HandClock()
        stopped = BulkExportClient(max_wait=10, sleep=clock.sleep, clock=clock.monotonic)
        with pytest.raises(BulkExportError, match=r"not ready within 10 s \(last: .*\. Run the"):
            stopped.run(request, out)
        saved = json.loads((out / STATE_FILE).read_text())["status_url"]
        BulkExportClient(sleep=lambda s: None).run(request, out)
        kickoffs = server.exports.kickoffs
    assert kickoffs == 1 and "$export-status/" in saved
    assert list(ndjson_lines(out)) == ["Patient-1.ndjson"]


def test_group_export_with_types_and_error_entries(tmp_path):
    """A Group export carries only its members; an unknown member is an error entry, reported."""
    key = backend_key()
    fixtures = write_bundles(tmp_path / "fixtures")
    group = {
        "resourceType": "Group",
        "id": "practice-a",
        "type": "person",
        "actual": True,
        "member": [{"entity": {"reference": "Patient/nobody"}}],
    }
    patients = sorted(
        json.loads(line)["id"]
        for line in (write_ndjson(tmp_path / "direct") / "Patient.ndjson").read_text().splitlines()
    )[:3]
    group["member"] += [{"entity": {"reference": f"Patient/{pid}"}} for pid in patients]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": group}]}
    (fixtures / "group.json").write_text(json.dumps(bundle), encoding="utf-8")
    public = {"keys": [key.as_dict(private=False)]}
    out = tmp_path / "group"
    with FixtureFhirServer(fixtures, backend_clients={CLIENT_ID: public}, retry_after=0) as server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        args = ["--fhir-server", server.base_url, "--out", str(out), "--group", "practice-a"]
        result = invoke(export, *args, "--type", "Patient,Encounter", env=env)
    assert result.exit_code == 0, result.output
    assert set(ndjson_lines(out)) == {"Patient-1.ndjson", "Encounter-1.ndjson"}
    lines = (out / "Patient-1.ndjson").read_text().splitlines()
    exported = [json.loads(line)["id"] for line in lines]
    assert sorted(exported) == patients
    assert "Server error entry: Group member Patient/nobody is not known." in result.output
    assert (out / "errors" / "OperationOutcome-1.ndjson").exists()


def test_export_refusals_are_one_sentence(tmp_path):
    """Unknown group, unregistered server, bad --since: readable, non-zero, no traceback."""
    key = backend_key()
    with backend_server(tmp_path, key) as server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        base = ["--fhir-server", server.base_url, "--out", str(tmp_path / "o")]
        unknown = invoke(export, *base, "--group", "missing", env=env)
        other = register(tmp_path / "other.json", "https://elsewhere.example/fhir", key)
        unregistered = invoke(export, *base, env=other)
        since = invoke(export, *base, "--since", "last tuesday", env=env)
    assert unknown.exit_code == 1 and "Group/missing is not known" in unknown.output
    assert unregistered.exit_code == 1 and "has no registration for" in unregistered.output
    assert since.exit_code == 2 and "--since" in since.output
    for result in (unknown, unregistered, since):
        assert "Traceback" not in result.output


def test_a_long_download_reports_how_far_it_has_come(tmp_path, monkeypatch):
    """Progress lines while a file arrives (each further along), before the file's summary."""
    monkeypatch.setattr(bulk_client, "PROGRESS_BYTES", 100_000)
    lines: list[str] = []
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures) as server:
        client = BulkExportClient(sleep=lambda seconds: None, report=lines.append)
        client.run(ExportRequest(server.base_url, types=("Observation",)), tmp_path / "out")
    size = (tmp_path / "out" / "Observation-1.ndjson").stat().st_size
    progress = [line for line in lines if "MiB received" in line]
    received = [float(line.split(": ")[1].split()[0]) for line in progress]
    assert len(progress) == size // 100_000 >= 2
    assert received == sorted(set(received))  # further along each time
    summary = next(i for i, line in enumerate(lines) if line.startswith("[1/1]"))
    assert lines.index(progress[-1]) < summary


class HandClock:
    """A clock that moves only when the client sleeps; remembers each wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        """Wait by moving the clock."""
        self.waits.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        """The clock's time."""
        return self.now


def answer_status_polls(
    server: FixtureFhirServer, monkeypatch, answer: Callable[[int], Response | None]
) -> None:
    """Let `answer(poll number)` reply to the server's status polls; None lets the server reply."""
    real_status = server.exports.status
    polls = itertools.count(1)

    def status(job_id: str) -> Response:
        reply = answer(next(polls))
        return real_status(job_id) if reply is None else reply

    monkeypatch.setattr(server.exports, "status", status)


def outcome_reply(status: int, code: str, retry_after: str | None = None) -> Response:
    """An OperationOutcome error reply with one issue of `code`."""
    body = json.dumps(operation_outcome(code, f"The job store answered {code}."))
    headers = {"Retry-After": retry_after} if retry_after else {}
    return Response(body, status=status, headers=headers, mimetype="application/fhir+json")


@pytest.mark.parametrize("code", ["transient", "throttled", "exception"])
def test_a_status_poll_error_marked_transient_is_polled_again(tmp_path, monkeypatch, code):
    """A 5xx whose issue is `transient` (or a child code) is waited out, Retry-After first."""
    clock, lines = HandClock(), []
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures, pending_polls=0) as server:
        replies = {1: outcome_reply(500, code, retry_after="5"), 2: outcome_reply(502, "timeout")}
        answer_status_polls(server, monkeypatch, replies.get)
        client = BulkExportClient(sleep=clock.sleep, clock=clock.monotonic, report=lines.append)
        result = client.run(ExportRequest(server.base_url, types=("Patient",)), tmp_path / "out")
    assert clock.waits == [5, 2 * bulk_client.FIRST_DELAY]  # Retry-After, then the back-off
    assert result.polls == 3 and list(result.files) == ["Patient-1.ndjson"]
    assert f"The status check failed for now (The job store answered {code}); " in "".join(lines)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (outcome_reply(500, "processing"), "failed (500): The job store answered processing."),
        (Response("<h1>Oops</h1>", status=500, mimetype="text/html"), "failed (500)."),
    ],
    ids=["a non-transient issue", "no OperationOutcome"],
)
def test_a_status_poll_error_not_marked_transient_stops_the_export(
    tmp_path, monkeypatch, reply, message
):
    """A non-transient issue, or a body that is no OperationOutcome, still ends the run."""
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures) as server:
        answer_status_polls(server, monkeypatch, lambda poll: reply)
        client = BulkExportClient(sleep=lambda seconds: None)
        with pytest.raises(BulkExportError, match=f"^The export {re.escape(message)}$"):
            client.run(ExportRequest(server.base_url, types=("Patient",)), tmp_path / "out")


def test_a_server_that_stays_transient_is_given_up_on_after_max_wait_naming_its_error(
    tmp_path, monkeypatch
):
    """Transient errors forever end with the 'not ready' sentence and the last error's words."""
    clock = HandClock()
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures) as server:
        answer_status_polls(
            server, monkeypatch, lambda poll: outcome_reply(500, "transient", retry_after="4")
        )
        client = BulkExportClient(max_wait=10, sleep=clock.sleep, clock=clock.monotonic)
        with pytest.raises(
            BulkExportError,
            match=r"not ready within 10 s \(last: .*The job store answered transient.*\); the",
        ):
            client.run(ExportRequest(server.base_url, types=("Patient",)), tmp_path / "out")
    assert clock.waits == [4, 4, 2]  # the last wait ends at --max-wait, then one more check
