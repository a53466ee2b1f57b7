"""The outcomes benchmark runs end to end at the smallest size (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.settings import REPO_ROOT


@pytest.mark.parametrize(("routine", "size"), [("0", "1x"), ("2", "1x+2r")])
def test_outcomes_benchmark_runs_into_a_directory_it_creates(tmp_path, routine, size):
    output, work = tmp_path / "outcomes.json", tmp_path / "not" / "yet"
    command = [sys.executable, "-m", "bench", "outcomes", "--copies", "1", "--workers", "1"]
    command += ["--routine", routine]
    command += ["--repeat", "1", "--engine", "local", "--dir", str(work), "--output", str(output)]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (row,) = json.loads(output.read_text())["rows"]
    assert (row["engine"], row["copies"], row["workers"], row["runs"]) == ("local", 1, 1, 1)
    assert row["routine"] == int(routine) and f" {size} " in done.stdout
    assert row["cases"] > 0 and row["resources"] > 0
    assert work.is_dir() and not any(work.iterdir())  # the exports were removed afterwards
