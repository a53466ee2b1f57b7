"""The CDS Hooks benchmark runs end to end at a tiny size (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

from app.settings import REPO_ROOT


def test_cds_benchmark_runs_end_to_end_and_gets_a_card(tmp_path):
    output = tmp_path / "cds_hooks.json"
    command = [sys.executable, "-m", "bench", "cds", "--requests", "40", "--warmup", "8"]
    command += ["--rounds", "2", "--library-size", "200", "--output", str(output)]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(output.read_text())
    assert result["setup"]["cards_returned"] >= 1
    assert result["setup"]["prefetch_resources"] >= 25
    assert result["servers"]["large"]["modules"] == result["servers"]["shipped"]["modules"] + 200
    assert result["setup"]["jwt_alg"] == "RS384"  # the headline; ES384 is measured alongside
    assert set(result["algorithm_comparison"]) == {"ES384"}
    for phase in ("real", "real_es384", "floor", "real_large_library"):
        summary = result["phases"][phase]
        assert summary["requests"] == 40
        assert summary["errors"] == 0, summary["statuses"]
        assert {"p50_ms", "p90_ms", "p99_ms", "max_ms", "throughput_rps"} <= summary.keys()
    assert set(result["targets"]) == {
        "real_over_floor_throughput",
        "large_over_shipped_library_p50",
        "real_p99_ms",
    }
    by_round = result["targets"]["real_over_floor_throughput"]["by_round"]
    assert by_round["min"] <= by_round["median"] <= by_round["max"]
    assert len(result["phases"]["floor"]["round_throughputs_rps"]) == 2
    assert "throughput real hook / floor" in done.stdout
    assert "by round: median" in done.stdout
    assert "throughput real hook / floor, ES384 JWTs" in done.stdout


def test_the_diagnostic_run_without_client_auth_is_explicit(tmp_path):
    from bench.cds_hooks import server_env

    normal = server_env(tmp_path, "shipped", tmp_path, tmp_path / "clients.json")
    diagnostic = server_env(tmp_path, "shipped", tmp_path, tmp_path / "clients.json", False)
    assert normal["BEDSIDE_CDS_AUTH"] == ""  # the default: authentication on
    assert diagnostic["BEDSIDE_CDS_AUTH"] == "off"
