"""`outcomes export` and its directory: stale files, deleted Bundles, expired exports, the lock."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from flask import Response

from app.devtools.fhir_bulk_export import NDJSON
from app.devtools.fhir_server import FixtureFhirServer
from app.outcomes.bulk_client import (
    LOCK_FILE,
    STATE_FILE,
    BulkExportClient,
    BulkExportError,
    ExportRequest,
)
from app.outcomes.export_command import export
from tests.outcomes_io.helpers import write_bundles, write_ndjson
from tests.outcomes_io.test_bulk_export import (
    backend_key,
    backend_server,
    computed,
    invoke,
    ndjson_lines,
    outcome_reply,
    register,
)


def split_encounter_files(server: FixtureFhirServer, copies: dict[str, int]) -> None:
    """Let the manifest list the Encounter file copies["Encounter"] times (a server that splits)."""
    real_manifest = server.exports._manifest

    def manifest(job_id, job) -> dict:
        document = real_manifest(job_id, job)
        encounters = [entry for entry in document["output"] if entry["type"] == "Encounter"]
        document["output"] += encounters * (copies["Encounter"] - 1)
        return document

    server.exports._manifest = manifest


def serve_deleted_files(server: FixtureFhirServer, files: list[str], failures: set[int]) -> None:
    """Add `deleted` entries serving these NDJSON texts; a number in failures answers 503 once."""
    real_manifest, real_file = server.exports._manifest, server.exports.file

    def manifest(job_id, job) -> dict:
        document = real_manifest(job_id, job)
        folder = document["output"][0]["url"].rsplit("/", 1)[0]
        document["deleted"] = [
            {"type": "Bundle", "url": f"{folder}/deleted-{number}"} for number in range(len(files))
        ]
        return document

    def file(job_id: str, name: str) -> Response:
        if not name.startswith("deleted-"):
            return real_file(job_id, name)
        number = int(name.removeprefix("deleted-"))
        if number in failures:
            failures.discard(number)
            return outcome_reply(503, "transient")
        return Response(files[number], mimetype=NDJSON)

    server.exports._manifest = manifest
    server.exports.file = file  # before the server starts: the route binds it then


def deletion_bundle(*references: str) -> str:
    """One NDJSON line: a transaction Bundle deleting the referenced resources."""
    entries = [{"request": {"method": "DELETE", "url": reference}} for reference in references]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    return json.dumps(bundle) + "\n"


def manifest_names(out: Path) -> dict[str, int]:
    """The `<Type>-1.ndjson` files the saved manifest lists, with their line counts."""
    manifest = json.loads((out / "manifest.json").read_text())
    return {f"{entry['type']}-1.ndjson": entry["count"] for entry in manifest["output"]}


def test_a_new_export_removes_the_files_an_earlier_export_left(tmp_path):
    """Encounter-2/3 of an earlier export (and its other named leftovers) go; other files stay."""
    key = backend_key()
    out = tmp_path / "export"
    copies = {"Encounter": 3}
    server = backend_server(tmp_path, key, retry_after=0)
    split_encounter_files(server, copies)
    with server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        args = ("--fhir-server", server.base_url, "--out", str(out))
        first = invoke(export, *args, env=env)
        assert first.exit_code == 0, first.output
        assert {"Encounter-2.ndjson", "Encounter-3.ndjson"} <= set(ndjson_lines(out))
        leftovers = ["Observation-2.ndjson.part", "errors/OperationOutcome-1.ndjson"]
        leftovers.append("deleted/Bundle-1.ndjson")
        kept = ["README.txt", "errors/my-notes.ndjson", "deleted/Encounter.ndjson"]
        for name in leftovers + kept:
            (out / name).parent.mkdir(exist_ok=True)
            (out / name).write_text("{}\n")
        copies["Encounter"] = 1
        second = invoke(export, *args, env=env)
    assert second.exit_code == 0, second.output
    assert ndjson_lines(out) == manifest_names(out)  # exactly what the new manifest lists
    assert not any((out / name).exists() for name in leftovers)
    assert all((out / name).exists() for name in kept)
    assert f"Removed 5 files an earlier export left in {out}." in second.output
    assert "Removed" not in first.output
    assert computed(out) == computed(write_ndjson(tmp_path / "direct"))


def test_deleted_bundles_are_saved_under_deleted_and_resumed_like_outputs(tmp_path):
    """The manifest's `deleted` files go to deleted/Bundle-<n>.ndjson, never the main folder."""
    key = backend_key()
    out = tmp_path / "export"
    files = [deletion_bundle("Encounter/e1", "Encounter/e2"), deletion_bundle("Encounter/e3") * 2]
    server = backend_server(tmp_path, key, retry_after=0)
    serve_deleted_files(server, files, failures={1})
    with server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        args = ("--fhir-server", server.base_url, "--out", str(out))
        first = invoke(export, *args, env=env)
        second = invoke(export, *args, env=env)
        downloads = [path for _, path, valid in server.requests_seen if "$export-files" in path]
        tokens = [valid for _, path, valid in server.requests_seen if "deleted-" in path]
    assert first.exit_code == 1 and "Downloading Bundle-2.ndjson failed (503)" in first.output
    assert second.exit_code == 0, second.output
    saved = [(out / "deleted" / f"Bundle-{n}.ndjson").read_text() for n in (1, 2)]
    assert saved == files
    assert ndjson_lines(out) == manifest_names(out)  # no Bundle among the main folder's files
    assert f"Saved 3 Bundles of deleted resources in 2 files to {out / 'deleted'}." in second.output
    assert len(downloads) == len(manifest_names(out)) + 3  # outputs once; Bundle-2 twice
    assert tokens == [True, True, True]
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["deleted"]) == 2 and "$export" in manifest["request"]
    assert computed(out) == computed(write_ndjson(tmp_path / "direct"))


def test_expired_files_discard_the_saved_export_so_the_rerun_starts_a_new_one(tmp_path):
    """A 404 on a file of a resumed export says so, forgets it; the next run kicks off anew."""
    key = backend_key()
    out = tmp_path / "export"
    with backend_server(tmp_path, key, retry_after=0) as server:
        env = register(tmp_path / "backend.json", server.base_url, key)
        args = ("--fhir-server", server.base_url, "--out", str(out))
        server.exports.fail_downloads_after = 1
        interrupted = invoke(export, *args, env=env)
        server.exports.fail_downloads_after = None
        server.exports.jobs.clear()  # the server lets the export expire
        expired = invoke(export, *args, env=env)
        state_after_expiry = (out / STATE_FILE).exists()
        fresh = invoke(export, *args, env=env)
        kickoffs = server.exports.kickoffs
    assert interrupted.exit_code == 1 and "again to resume" in interrupted.output
    assert expired.exit_code == 1
    assert (
        "failed (404): This export is unknown, cancelled or expired. The export's files have "
        "expired on the server; Bedside discarded the saved export, so running the same command "
        "again starts a new one."
    ) in expired.output
    assert "resume" not in expired.output
    assert not state_after_expiry
    assert fresh.exit_code == 0, fresh.output
    assert kickoffs == 2
    assert ndjson_lines(out) == manifest_names(out)
    assert computed(out) == computed(write_ndjson(tmp_path / "direct"))


def test_an_export_the_server_forgot_while_polling_is_discarded_too(tmp_path):
    """A 404 on the status URL also forgets the saved export instead of asking for a hand delete."""
    out = tmp_path / "out"
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures, pending_polls=3) as server:

        def forget_the_export(seconds: float) -> None:
            server.exports.jobs.clear()

        client = BulkExportClient(sleep=forget_the_export)
        with pytest.raises(BulkExportError) as stopped:
            client.run(ExportRequest(server.base_url, types=("Patient",)), out)
    assert str(stopped.value) == (
        "The server no longer knows this export (expired or cancelled). Bedside discarded the "
        "saved export, so running the same command again starts a new one."
    )
    assert not (out / STATE_FILE).exists()


def test_a_second_export_into_a_folder_in_use_is_refused(tmp_path):
    """A second run into a folder in use is refused in a sentence; a dead run's lock is not."""
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text("999999999\n")  # left by a run that crashed
    fixtures = write_bundles(tmp_path / "fixtures")
    second = []
    with FixtureFhirServer(fixtures, pending_polls=1, retry_after=0) as server:
        args = ("--fhir-server", server.base_url, "--out", str(out), "--type", "Patient")

        def start_another_run(seconds: float) -> None:
            second.append(invoke(export, *args, "--token", "unused", env={}))

        client = BulkExportClient(sleep=start_another_run)
        result = client.run(ExportRequest(server.base_url, types=("Patient",)), out)
        kickoffs = server.exports.kickoffs
        after = invoke(export, *args, "--token", "unused", env={})
    assert len(second) == 1 and second[0].exit_code == 1
    assert (
        f"Another `bedside outcomes export` (process {os.getpid()}) is writing to {out}; "
        "wait for it to finish or use another --out directory."
    ) in second[0].output
    assert kickoffs == 1 and list(result.files) == ["Patient-1.ndjson"]
    assert after.exit_code == 0, after.output  # the lock ends with the run
