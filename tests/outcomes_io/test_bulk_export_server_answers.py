"""`outcomes export` and what the server says: long Retry-After waits, text with control bytes."""

from __future__ import annotations

import json
import re

import pytest
from flask import Response

from app.devtools.fhir_bulk_export import ExportRefused
from app.devtools.fhir_documents import operation_outcome
from app.devtools.fhir_server import FixtureFhirServer
from app.outcomes.bulk_client import (
    STATE_FILE,
    BulkExportClient,
    BulkExportError,
    ExportRequest,
    printable,
)
from app.outcomes.export_command import export
from tests.outcomes_io.helpers import write_bundles
from tests.outcomes_io.test_bulk_export import HandClock, answer_status_polls, invoke

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NOISY = "Busy\x1b]0;owned\x07 now\tand\r\nthen \x9b31mlater\x00"
CLEANED = "Busy]0;owned now and  then 31mlater"
NOISY_HEADER = "half\x1b[2J\x07 done\tsoon\x9b"  # a header cannot carry CR, LF or NUL


class SlowClock(HandClock):
    """A HandClock on which each reading takes half a second, as requests do in real life."""

    def monotonic(self) -> float:
        """The clock's time, half a second on from the last reading."""
        self.now += 0.5
        return self.now


def test_a_retry_after_as_long_as_max_wait_is_waited_out_not_refused_at_once(tmp_path):
    """Retry-After: 3600 with --max-wait 3600: wait until the deadline, then poll once more."""
    clock = SlowClock()
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures, pending_polls=1, retry_after=3600) as server:
        client = BulkExportClient(max_wait=3600, sleep=clock.sleep, clock=clock.monotonic)
        result = client.run(ExportRequest(server.base_url, types=("Patient",)), tmp_path / "out")
    assert clock.waits == [3599.5]  # what was left of --max-wait, not the full 3600
    assert result.polls == 2 and list(result.files) == ["Patient-1.ndjson"]


def test_a_retry_after_longer_than_max_wait_is_reported_truthfully(tmp_path):
    """Retry-After beyond --max-wait: one last check at the deadline, then a true sentence."""
    clock = SlowClock()
    out = tmp_path / "out"
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures, pending_polls=5, retry_after=120) as server:
        client = BulkExportClient(max_wait=60, sleep=clock.sleep, clock=clock.monotonic)
        with pytest.raises(BulkExportError) as stopped:
            client.run(ExportRequest(server.base_url, types=("Patient",)), out)
        polls = server.exports.polls
    assert clock.waits == [59.5] and polls == 2
    assert str(stopped.value) == (
        "The export was not ready within 60 s (last: Export in progress (preparing files, "
        "1 of 5 checks done)); the server asked to wait 120 s more, beyond what is left of "
        "--max-wait. Run the same command again to keep waiting: it resumes this export "
        "instead of starting a new one."
    )
    assert "$export-status/" in json.loads((out / STATE_FILE).read_text())["status_url"]


def test_control_characters_in_the_servers_progress_and_diagnostics_are_not_printed(
    tmp_path, monkeypatch
):
    """X-Progress and OperationOutcome diagnostics reach the terminal without control bytes."""
    lines: list[str] = []
    transient = json.dumps(operation_outcome("transient", NOISY))
    replies = {
        1: Response(status=202, headers={"Retry-After": "1", "X-Progress": NOISY_HEADER}),
        2: Response(transient, status=500, mimetype="application/fhir+json"),
    }
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures, pending_polls=0) as server:
        answer_status_polls(server, monkeypatch, replies.get)
        client = BulkExportClient(sleep=lambda seconds: None, report=lines.append)
        client.run(ExportRequest(server.base_url, types=("Patient",)), tmp_path / "out")
    assert "Export in progress (half[2J done soon); next check in 1 s." in lines
    assert f"The status check failed for now ({CLEANED}); next check in 2 s." in lines
    assert not any(CONTROL.search(line) for line in lines)


def test_control_characters_in_a_refusal_do_not_reach_the_terminal(tmp_path, monkeypatch):
    """A kick-off refused with escape sequences in its diagnostics prints them harmless."""
    fixtures = write_bundles(tmp_path / "fixtures")
    with FixtureFhirServer(fixtures) as server:

        def refuse(group_id: str | None) -> str:
            raise ExportRefused(400, "invalid", NOISY)

        monkeypatch.setattr(server.exports, "kick_off", refuse)
        args = ("--fhir-server", server.base_url, "--out", str(tmp_path / "out"))
        result = invoke(export, *args, "--token", "unused", env={})
    assert result.exit_code == 1
    assert result.output == f"Error: The export kick-off failed (400): {CLEANED}.\n"


def test_bidirectional_overrides_in_server_text_are_not_printed():
    """A right-to-left override cannot reorder what the terminal shows of the server's text."""
    assert printable("ok\u202egnp.exe\u2066 done\u2069") == "okgnp.exe done"
