"""The database benchmark runs end to end, tiny, on a real PostgreSQL (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.settings import REPO_ROOT
from bench.database import ENGINES, HOST_COUNTS, database_targets, parse_args, phase_name
from tests.support.postgres import PostgresUnavailable, find_bindir, unprivileged_user


def test_database_benchmark_runs_end_to_end_on_both_engines(tmp_path):
    try:
        find_bindir()
        unprivileged_user()
    except PostgresUnavailable as missing:
        pytest.skip(str(missing))
    output = tmp_path / "database.json"
    command = [sys.executable, "-m", "bench", "database", "--credits", "30", "--requests", "24"]
    command += ["--warmup", "4", "--rounds", "2", "--workers", "1", "--output", str(output)]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(output.read_text())
    expected = {"sqlite_1_host", "sqlite_2_hosts", "postgresql_1_host", "postgresql_2_hosts"}
    assert set(result["credit_writes"]) == expected
    for written in result["credit_writes"].values():
        assert written["chain_intact"]
        assert written["records_verified"] == written["writes"] == written["hosts"] * 30
    assert set(result["phases"]) == expected
    for name, phase in result["phases"].items():
        assert phase["requests"] == 24
        assert phase["errors"] == 0, phase["statuses"]
        if name.startswith("sqlite"):  # no database server of its own: all the CPU is Bedside's
            assert phase["database_server_cpu_ms_per_request"] == 0
            assert phase["bedside_cpu_ms_per_request"] == phase["server_cpu_ms_per_request"] > 0
    assert result["setup"]["cards_returned"] >= 1
    answered = result["setup"]["answered_per_host"]  # two hosts share their phase's calls
    assert answered["postgresql_2_hosts-1"] == answered["postgresql_2_hosts-2"] == 2 + 12
    assert answered["postgresql_1_host-1"] == 4 + 24
    assert set(result["targets"]) == {
        "postgresql_credit_writes_2_hosts",
        "cds_postgresql_over_sqlite_1_host",
        "cds_postgresql_over_sqlite_2_hosts",
    }
    assert "credit writes PostgreSQL / SQLite, 2 host(s)" in done.stdout
    assert "CDS throughput PostgreSQL / SQLite, 2 hosts" in done.stdout


def test_a_cds_only_run_has_no_credit_writes_nor_their_target():
    phases = {
        phase_name(engine, hosts): {"throughput_rps": 100.0, "round_throughputs_rps": [100.0]}
        for engine in ENGINES
        for hosts in HOST_COUNTS
    }
    assert parse_args(["--cds-only"]).cds_only and not parse_args([]).cds_only
    assert set(database_targets({}, phases)) == {
        "cds_postgresql_over_sqlite_1_host",
        "cds_postgresql_over_sqlite_2_hosts",
    }
