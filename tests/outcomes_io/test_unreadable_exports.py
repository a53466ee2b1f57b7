"""Files `compute --ndjson` cannot read, and lines too long to hold: one sentence, little memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.outcomes.outcomes_commands import compute
from app.settings import REPO_ROOT

AS_OF = ["--as-of", "2026-11-01"]
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}
MAX_LINE_BYTES = 64 * 2**20  # ingest_ndjson.MAX_LINE_BYTES, the sentence's "64 MiB"
HUGE_LINE_BYTES = 4 * MAX_LINE_BYTES
ENGINES = [("local", "1"), ("local", "2"), ("spark", "1")]


def run_engines(export: Path, engines=ENGINES) -> set[str]:
    """The command's output on each engine (Spark reports these before it starts)."""
    outputs = set()
    for engine, workers in engines:
        args = ["--ndjson", str(export), *AS_OF, "--engine", engine]
        args += ["--workers", workers] if engine == "local" else []
        result = CliRunner().invoke(compute, args)
        assert result.exit_code == 1, result.output
        outputs.add(result.output)
    return outputs


def export_with_patient(directory: Path) -> Path:
    """An export folder holding one readable Patient file."""
    directory.mkdir()
    (directory / "Patient.ndjson").write_text(json.dumps(PATIENT) + "\n")
    return directory


def test_a_folder_named_like_an_ndjson_file_is_one_sentence(tmp_path):
    """A directory `sub.ndjson` in the export is named, not a traceback, on every engine."""
    export = export_with_patient(tmp_path / "export")
    (export / "sub.ndjson").mkdir()
    assert run_engines(export) == {"Error: sub.ndjson cannot be read (Is a directory)\n"}


def test_a_broken_link_is_one_sentence(tmp_path):
    """A link to a file that is gone is named, with the system's reason."""
    export = export_with_patient(tmp_path / "export")
    (export / "Broken.ndjson").symlink_to(tmp_path / "gone.ndjson")
    expected = "Error: Broken.ndjson cannot be read (No such file or directory)\n"
    assert run_engines(export) == {expected}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_a_file_without_read_permission_is_one_sentence(tmp_path):
    """A file this user may not read is named."""
    export = export_with_patient(tmp_path / "export")
    (export / "Patient.ndjson").chmod(0)
    expected = "Error: Patient.ndjson cannot be read (Permission denied)\n"
    assert run_engines(export) == {expected}


@pytest.fixture(scope="module")
def huge_line(tmp_path_factory) -> Path:
    """An export whose Observation file's second line is four times the longest line allowed."""
    export = tmp_path_factory.mktemp("huge")
    (export / "Patient.ndjson").write_text(json.dumps(PATIENT) + "\n")
    piece = b"x" * 2**20
    with (export / "Observation.ndjson").open("wb") as lines:
        lines.write(b'{"resourceType": "Observation", "id": "o1"}\n')
        lines.write(b'{"resourceType": "Observation", "id": "')
        for _ in range(HUGE_LINE_BYTES // len(piece)):
            lines.write(piece)
        lines.write(b'"}\n')
    return export


def test_a_line_longer_than_allowed_names_the_file_and_line(huge_line):
    """With one process or two (one of which starts inside the line), the same sentence."""
    outputs = run_engines(huge_line, ENGINES[:2])
    assert outputs == {"Error: Observation.ndjson line 2 is longer than 64 MiB\n"}


def test_a_huge_line_is_refused_without_being_held_whole(huge_line):
    """Memory grows by about two longest lines, not by the line's size (a 256 MiB line here)."""
    script = (
        "import resource, sys\n"
        "from click.testing import CliRunner\n"
        "from app.outcomes.outcomes_commands import compute\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "result = CliRunner().invoke(compute, ['--ndjson', sys.argv[1]])\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(result.exit_code, (after - before) * 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(huge_line)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    code, grown = map(int, done.stdout.split())
    assert code == 1
    assert grown < 3 * MAX_LINE_BYTES < HUGE_LINE_BYTES
