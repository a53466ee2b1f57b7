"""The hostile-input benchmark runs end to end on its quick attacks (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

from app.settings import REPO_ROOT

QUICK_ATTACKS = ["fhir-ok", "fhir-huge", "fhir-redirect", "draft-orders", "deep-nesting"]
QUICK_ATTACKS += ["oversized-body"]  # slow and drip take the whole 5 s deadline: left out


def run_bench(*options: str) -> subprocess.CompletedProcess:
    """`python -m bench hostile OPTIONS` from the repository root."""
    command = [sys.executable, "-m", "bench", "hostile", *options]
    return subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_hostile_benchmark_answers_each_attack_as_expected_and_reports_memory(tmp_path):
    output = tmp_path / "hostile.json"
    done = run_bench("--repeat", "1", "--attacks", ",".join(QUICK_ATTACKS), "--output", str(output))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(output.read_text())
    attacks = result["attacks"]
    assert list(attacks) == QUICK_ATTACKS
    statuses = {name: attack["statuses"] for name, attack in attacks.items()}
    assert statuses == {
        "fhir-ok": [200],
        "fhir-huge": [412],
        "fhir-redirect": [412],
        "draft-orders": [413],
        "deep-nesting": [400],
        "oversized-body": [413],
    }
    assert (
        attacks["draft-orders"]["body_bytes"] < 5 * 1024 * 1024
    )  # the count is refused, not the size
    assert attacks["oversized-body"]["body_bytes"] == 6 * 1024 * 1024
    for attack in attacks.values():
        assert attack["max_seconds"] > 0
        assert attack["peak_growth_mb"] >= attack["rss_growth_mb"] >= 0
    assert set(result["targets"]) == {
        "every_attack_answered_seconds",
        "huge_response_worker_growth_mb",
        "draft_orders_seconds",
    }
    assert "slowest answer to any attack" in done.stdout
    assert "fhir-huge" in done.stdout


def test_an_unknown_attack_is_one_sentence_and_a_non_zero_exit(tmp_path):
    done = run_bench("--attacks", "fhir-nonsense", "--output", str(tmp_path / "x.json"))
    assert done.returncode != 0
    assert "Unknown attack 'fhir-nonsense'" in done.stderr
    assert "Traceback" not in done.stderr
