"""`bedside content check` as a command: exit codes, text and JSON output, --quiet, --today."""

from __future__ import annotations

import io
import json
import sys

from click.testing import CliRunner

from app.library.content_commands import PROGRESS_THRESHOLD, check, progress_bar
from tests.library.helpers import MODULE_FILE, good_module, write_library


def invoke(*args: str):
    """Run the click command directly (no Flask app needed)."""
    return CliRunner().invoke(check, list(args))


def test_good_library_exits_0_with_a_summary(tmp_path):
    content = write_library(tmp_path)
    result = invoke("--content-dir", str(content), "--today", "2026-03-01")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "1 module, 2 value sets, 0 measures: 0 errors, 0 warnings, 3 infos"
    assert lines[0].startswith("INFO content/modules: editorial.status: 1 of 1 modules are not")


def test_broken_library_exits_1_with_one_line_per_finding(tmp_path):
    module = good_module()
    del module["card"]
    content = write_library(tmp_path, [module])
    result = invoke("--content-dir", str(content), "--today", "2026-03-01")
    assert result.exit_code == 1
    assert f"ERROR {MODULE_FILE}: card: schema: is required but missing" in result.output
    assert result.output.splitlines()[-1].startswith(
        "1 module, 2 value sets, 0 measures: 1 error, 0 warnings"
    )


def test_missing_content_dir_is_a_usage_error(tmp_path):
    result = invoke("--content-dir", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "--content-dir" in result.output
    assert "no such folder" in result.output


def test_folder_without_a_schema_is_a_usage_error(tmp_path):
    result = invoke("--content-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "not a content folder" in result.output


def test_bad_today_is_a_usage_error(tmp_path):
    content = write_library(tmp_path)
    result = invoke("--content-dir", str(content), "--today", "01/03/2026")
    assert result.exit_code == 2


def test_today_decides_expiry(tmp_path):
    content = write_library(tmp_path)
    result = invoke("--content-dir", str(content), "--today", "2028-01-01")
    assert result.exit_code == 1
    assert f"ERROR {MODULE_FILE}: expires: expired on 2027-12-31" in result.output


def test_json_output_shape(tmp_path):
    module = good_module()
    module["disclosures"]["commercial_support"] = ""
    content = write_library(tmp_path, [module])
    result = invoke("--content-dir", str(content), "--today", "2026-03-01", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert set(data) == {"ok", "modules", "value_sets", "measures", "counts", "findings"}
    assert data["ok"] is False
    assert (data["modules"], data["value_sets"]) == (1, 2)
    assert data["counts"] == {"error": 1, "warning": 0, "info": 3}
    error = next(f for f in data["findings"] if f["severity"] == "error")
    assert set(error) == {"severity", "file", "field", "message"}
    assert (error["file"], error["field"]) == (MODULE_FILE, "disclosures.commercial_support")


def test_quiet_reports_errors_only(tmp_path):
    content = write_library(tmp_path)
    result = invoke("--content-dir", str(content), "--today", "2027-12-01", "--quiet")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "1 module, 2 value sets, 0 measures: 0 errors, 2 warnings, 3 infos"
    ]


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    modules = []
    for number in range(55):
        module = good_module()
        module["id"] = f"sepsis-{number}"
        modules.append(module)
    content = write_library(tmp_path, modules)
    result = invoke("--content-dir", str(content), "--today", "2026-03-01", "--quiet")
    assert result.exit_code == 0, result.output
    assert "Checking modules" not in result.output
    assert result.output.splitlines()[-1].startswith(
        "55 modules, 2 value sets, 0 measures: 0 errors"
    )


class FakeTerminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_only_for_large_libraries_on_a_terminal(monkeypatch, tmp_path):
    paths = [tmp_path / f"m{number}.yaml" for number in range(PROGRESS_THRESHOLD + 1)]
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_bar(paths[:PROGRESS_THRESHOLD]) as small:
        assert list(small) == paths[:PROGRESS_THRESHOLD]
    assert terminal.getvalue() == ""
    with progress_bar(paths) as bar:
        assert list(bar) == paths
    assert "Checking modules" in terminal.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_bar(paths) as silent:
        assert list(silent) == paths
    assert sys.stderr.getvalue() == ""
