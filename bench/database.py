"""PostgreSQL against SQLite: durable credit writes/s and CDS hook throughput, 1 and 2 hosts.

A real PostgreSQL server (tests/support/postgres.py: initdb in a temporary directory, fsync and
synchronous_commit on) and SQLite files sit on the same disk. A "host" is one process with its
own connections: for credit writes a process with its own SqlLedgerStore and 8 submitter threads;
for CDS hooks a `bedside serve` (gunicorn) with the same shared keys as its sibling. The clients
are split evenly between the hosts, as a load balancer would.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from app.database import parse_database_url
from app.settings import REPO_ROOT
from bench import cds_request as req
from bench.cds_hooks import Target, drive, round_sizes, server_env, warm_up
from bench.ledger import WriteRun, filesystem_of, fsync_latency_ms, measure_writes
from bench.load import Batch
from bench.report import (
    COLUMNS,
    HEADINGS,
    NOISE_LIMIT,
    round_ratio_spread,
    run_benchmark,
    verdict,
)
from bench.server import Server, child_pids, process_cpu_seconds, start_server
from tests.support.postgres import PostgresServer

DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "database.json"
ENGINES = ("sqlite", "postgresql")
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
HOST_COUNTS = (1, 2)
WRITE_TARGET = 1_000  # credit writes/s on PostgreSQL, 2 hosts x 8 submitters
CDS_RATIO_TARGET = 0.9  # CDS throughput on PostgreSQL / on SQLite, same run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options (defaults finish in about three minutes on 2 cores)."""
    parser = argparse.ArgumentParser(prog="python -m bench database", description=__doc__)
    parser.add_argument("--credits", type=int, default=1000, help="credit writes per host")
    parser.add_argument("--submitters", type=int, default=8, help="submitter threads per host")
    parser.add_argument("--requests", type=int, default=3000, help="timed CDS calls per phase")
    parser.add_argument("--warmup", type=int, default=100, help="untimed CDS calls per phase")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="CDS clients, split by hosts")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per host")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--startup-timeout", type=float, default=300, help="seconds per host")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    parser.add_argument(
        "--cds-only", action="store_true", help="measure the CDS phases only (no credit writes)"
    )
    args = parser.parse_args(argv)
    sizes = (args.credits, args.submitters, args.requests, args.rounds, args.workers, args.threads)
    if min(sizes) < 1 or args.warmup < 0 or args.concurrency < max(HOST_COUNTS):
        parser.error("sizes must be ≥ 1, and --concurrency at least 2 (one client per host)")
    args.rounds = min(args.rounds, args.requests)
    return args


def run(args: argparse.Namespace, workdir: Path) -> dict:
    """Start PostgreSQL, measure credit writes, then CDS throughput; return the result."""
    with PostgresServer() as postgres:
        print(f"PostgreSQL {postgres.bindir.parent.name} in {postgres.directory}", flush=True)
        writes = {} if args.cds_only else credit_writes(args, workdir, postgres)
        phases, setup = cds_throughput(args, workdir, postgres)
    setup.update(
        {
            "credits_per_host": args.credits,
            "submitters_per_host": args.submitters,
            "filesystem": filesystem_of(workdir),
            "fsync_ms": fsync_latency_ms(workdir),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        }
    )
    return {
        "benchmark": "database",
        "setup": setup,
        "credit_writes": writes,
        "phases": phases,
        "targets": database_targets(writes, phases),
    }


def credit_writes(args: argparse.Namespace, workdir: Path, postgres: PostgresServer) -> dict:
    """writes/s for each engine and host count, each on a fresh ledger."""
    results: dict[str, dict] = {}
    for engine in ENGINES:
        for hosts in HOST_COUNTS:
            name = f"ledger_{engine}_{hosts}"
            print(f"credit writes: {ENGINE_NAMES[engine]}, {hosts} host(s) …", flush=True)
            if engine == "postgresql":
                where = parse_database_url(postgres.create_database(name))
            else:
                where = workdir / f"{name}.db"
            server_cpu = database_cpu_of(engine, postgres)
            written = measure_writes(where, hosts, args.submitters, args.credits, server_cpu)
            results[phase_name(engine, hosts)] = write_summary(written, hosts, args)
    return results


def write_summary(written: WriteRun, hosts: int, args: argparse.Namespace) -> dict:
    """What the JSON records about one write measurement."""
    return {
        "lock_ms_per_write": written.lock_ms_per_write,
        "writes_per_second_one_lock_allows": 1000 / written.lock_ms_per_write,
        "bedside_cpu_ms_per_write": written.cpu_ms_per_write,
        "database_server_cpu_ms_per_write": written.server_cpu_ms_per_write,
        "hosts": hosts,
        "submitters_per_host": args.submitters,
        "writes": hosts * args.credits,
        "writes_per_second": written.rate,
        "writes_per_sync": written.writes_per_sync,
        "chain_intact": written.chain_ok,
        "records_verified": written.checked,
    }


def phase_name(engine: str, hosts: int) -> str:
    """The key of one engine at one host count, e.g. postgresql_2_hosts."""
    return f"{engine}_{hosts}_host{'s' if hosts > 1 else ''}"


class Cluster:
    """Hosts behind an imagined load balancer: each gets an equal share of calls and clients."""

    def __init__(
        self,
        servers: list[Server],
        key,
        bodies: req.BodyFactory,
        concurrency: int,
        database_cpu_seconds: Callable[[], float] = lambda: 0.0,
    ):
        self.database_cpu_seconds = database_cpu_seconds
        self.database_cpu_in_sends = 0.0  # the database server's CPU while this cluster was sent
        share = concurrency // len(servers)
        self.targets = [Target(server, req.SERVICE_PATH, key, bodies, share) for server in servers]
        self.answered: Counter = Counter()  # 200 answers per host, warm-up included

    def prepared(self, count: int) -> list[list[tuple[str, bytes]]]:
        """count signed calls, split between the hosts (each signed for its host's URL)."""
        sizes = round_sizes(count, len(self.targets))
        return [target.prepared(size) for target, size in zip(self.targets, sizes, strict=True)]

    def send(self, prepared: list[list[tuple[str, bytes]]]) -> Batch:
        """Send every host its share at the same time; one Batch over the whole burst."""
        batches: list[Batch] = []
        senders = [
            threading.Thread(target=self._send_to, args=(target, share, batches))
            for target, share in zip(self.targets, prepared, strict=True)
        ]
        database_before = self.database_cpu_seconds()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        self.database_cpu_in_sends += self.database_cpu_seconds() - database_before
        latencies = [latency for batch in batches for latency in batch.latencies]
        statuses = sum((batch.statuses for batch in batches), Counter())
        return Batch(latencies, statuses, max(batch.wall_seconds for batch in batches))

    def _send_to(self, target: Target, share: list, batches: list[Batch]) -> None:
        """Send one host its share; count its 200 answers."""
        batch = target.send(share)
        self.answered[target.server.name] += batch.statuses[200]
        batches.append(batch)

    def cpu_seconds(self) -> float:
        """CPU time used so far by every host's gunicorn and by its database server, if any."""
        return sum(target.cpu_seconds() for target in self.targets) + self.database_cpu_seconds()

    def probe(self) -> dict:
        """One call to each host; the first host's answer (each must be 200)."""
        answers = [target.probe() for target in self.targets]
        return answers[0]


def cds_throughput(
    args: argparse.Namespace, workdir: Path, postgres: PostgresServer
) -> tuple[dict, dict]:
    """Start 1 and 2 hosts on each engine, warm up, run interleaved rounds; (phases, setup)."""
    key = req.make_key("RS384")
    clients_file = workdir / "cds-clients.json"
    clients_file.write_text(json.dumps(req.clients_document([key])), encoding="utf-8")
    prefetch = req.patient_prefetch()
    bodies = req.BodyFactory(prefetch)
    servers: list[Server] = []
    try:
        clusters = {}
        for engine in ENGINES:
            for hosts in HOST_COUNTS:
                name = phase_name(engine, hosts)
                env = cds_env(workdir, name, engine, clients_file, postgres)
                started = start_hosts(name, hosts, env, workdir, args)
                servers += started
                database_cpu = database_cpu_of(engine, postgres)
                clusters[name] = Cluster(started, key, bodies, args.concurrency, database_cpu)
        cards = warm_up(clusters, args)
        for cluster in clusters.values():
            cluster.database_cpu_in_sends = 0.0  # the timed rounds only
        stats = drive(clusters, args)
    finally:
        for server in servers:
            server.stop()
    setup = {
        "requests_per_phase": args.requests,
        "warmup": args.warmup,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "workers_per_host": args.workers,
        "threads_per_worker": args.threads,
        "jwt_alg": "RS384",
        "cards_returned": cards,
        "host_startup_seconds": {server.name: server.startup_seconds for server in servers},
        "answered_per_host": {
            host: count for cluster in clusters.values() for host, count in cluster.answered.items()
        },
    }
    phases = {name: phase_summary(phase, clusters[name]) for name, phase in stats.items()}
    return phases, setup


def phase_summary(phase, cluster: Cluster) -> dict:
    """A phase's figures, with the server CPU per request split: Bedside, database server."""
    summary = phase.summary()
    database_ms = cluster.database_cpu_in_sends * 1000 / max(summary["requests"], 1)
    summary["database_server_cpu_ms_per_request"] = database_ms
    summary["bedside_cpu_ms_per_request"] = summary["server_cpu_ms_per_request"] - database_ms
    return summary


def cds_env(
    workdir: Path, name: str, engine: str, clients_file: Path, postgres: PostgresServer
) -> dict[str, str]:
    """One deployment's configuration, shared by its hosts: one database, the same keys."""
    env = server_env(workdir, name, REPO_ROOT / "content", clients_file)
    for setting in ("CDS_IDENTITY_KEY", "LEDGER_IDENTITY_KEY", "SMART_TOKEN_KEY"):
        env[f"BEDSIDE_{setting}"] = secrets.token_hex(32)  # never the repository's instance keys
    if engine == "postgresql":
        env["BEDSIDE_DATABASE_URL"] = postgres.create_database(name)
    return env


def start_hosts(
    name: str, hosts: int, env: dict[str, str], workdir: Path, args: argparse.Namespace
) -> list[Server]:
    """Start `hosts` servers with the same configuration, one after the other."""
    print(f"starting {name} …", flush=True)
    started: list[Server] = []
    try:
        for number in range(hosts):
            started.append(
                start_server(
                    f"{name}-{number + 1}",
                    env,
                    workdir,
                    workers=args.workers,
                    threads=args.threads,
                    timeout=args.startup_timeout,
                )
            )
    except BaseException:
        for server in started:
            server.stop()
        raise
    return started


def database_cpu_of(engine: str, postgres: PostgresServer) -> Callable[[], float]:
    """How to read the database server's CPU time (none for SQLite: it runs in the workers)."""
    if engine == "postgresql":
        return lambda: postgres_cpu_seconds(postgres)
    return lambda: 0.0


def postgres_cpu_seconds(postgres: PostgresServer) -> float:
    """CPU time used so far by the PostgreSQL server: its live processes and exited backends."""
    postmaster = int((postgres.data_directory / "postmaster.pid").read_text().split()[0])
    live = sum(process_cpu_seconds(pid) for pid in child_pids(postmaster))
    return process_cpu_seconds(postmaster, reaped_children=True) + live


def database_targets(writes: dict, phases: dict) -> dict[str, dict]:
    """The issue's targets: PostgreSQL writes/s (2 hosts), CDS PostgreSQL / SQLite (1, 2 hosts)."""
    found = {}
    if writes:
        rate = writes[phase_name("postgresql", 2)]["writes_per_second"]
        found["postgresql_credit_writes_2_hosts"] = {
            "value": rate,
            "target": f">= {WRITE_TARGET:,}",
            "pass": rate >= WRITE_TARGET,
        }
    for hosts in HOST_COUNTS:
        postgresql = phases[phase_name("postgresql", hosts)]
        sqlite = phases[phase_name("sqlite", hosts)]
        ratio = postgresql["throughput_rps"] / sqlite["throughput_rps"]
        found[f"cds_postgresql_over_sqlite_{hosts}_host{'s' if hosts > 1 else ''}"] = {
            "value": ratio,
            "target": f">= {CDS_RATIO_TARGET}",
            "pass": ratio >= CDS_RATIO_TARGET,
            "by_round": round_ratio_spread(postgresql, sqlite),
        }
    return found


def print_report(result: dict) -> None:
    """The human-readable summary: two tables and the verdicts."""
    setup = result["setup"]
    print()
    print(
        f"Database benchmark: {setup['cpus']} CPUs, load average {setup['load_average'][0]:.2f} "
        f"at the end, {setup['filesystem']} (fsync {setup['fsync_ms']:.2f} ms)"
    )
    if result["credit_writes"]:
        print_credit_writes(result)
    print(
        f"\nCDS order-select (real hook, RS384): {setup['concurrency']} clients split between "
        f"the hosts, {setup['requests_per_phase']:,} calls per phase in {setup['rounds']} "
        f"rounds, {setup['workers_per_host']} workers x {setup['threads_per_worker']} threads "
        "per host"
    )
    print(" " * 28 + "".join(f"{heading:>15}" for heading in HEADINGS))
    for name, phase in result["phases"].items():
        row = "".join(f"{phase[column]:>15.1f}" for column in COLUMNS)
        print(f"{label(name):<28}{row}")
        print(
            f"{'':<28}CPU ms per call: Bedside {phase['bedside_cpu_ms_per_request']:.2f}, "
            f"database server {phase['database_server_cpu_ms_per_request']:.2f}"
        )
        if phase["errors"]:
            print(f"{'':<28}!! {phase['errors']} non-200 answers: {phase['statuses']}")
    print("  (server CPU: gunicorn, plus the PostgreSQL server's processes on PostgreSQL)")
    print_changes(result)
    print()
    for name, target in result["targets"].items():
        print(
            f"  {TARGET_LABELS[name]:<48} {target['value']:>8.2f}  "
            f"(target {target['target']:>7})  {verdict(target['pass'])}"
        )
        if target.get("by_round"):
            spread = target["by_round"]
            print(
                f"  {'':<48} by round: median {spread['median']:.2f}, "
                f"range {spread['min']:.2f} to {spread['max']:.2f}"
            )
    noisy = max(phase["other_cpu_share"] for phase in result["phases"].values())
    if noisy > NOISE_LIMIT:
        print(
            f"\n  !! Other processes used up to {noisy:.0%} of the CPUs during the CDS phases:"
            "\n  !! absolute numbers are unreliable; rerun on a quiet machine."
        )
    print(f"\n  Full result: {result['output']}")


def print_credit_writes(result: dict) -> None:
    """The credit writes table."""
    setup = result["setup"]
    print(
        f"\nCredit writes: {setup['credits_per_host']:,} per host, "
        f"{setup['submitters_per_host']} submitter threads per host (one process each)"
    )
    print(
        f"{'':<28}{'writes/s':>10}{'per sync':>10}{'lock ms':>9}{'lock allows/s':>15}"
        f"{'CPU ms: Bedside':>17}{'+ server':>10}{'chain':>8}"
    )
    for name, written in result["credit_writes"].items():
        chain = "intact" if written["chain_intact"] else "BROKEN"
        print(
            f"{label(name):<28}{written['writes_per_second']:>10,.0f}"
            f"{written['writes_per_sync']:>10.1f}{written['lock_ms_per_write']:>9.2f}"
            f"{written['writes_per_second_one_lock_allows']:>15,.0f}"
            f"{written['bedside_cpu_ms_per_write']:>17.2f}"
            f"{written['database_server_cpu_ms_per_write']:>10.2f}{chain:>8}"
        )
    print(
        "  (lock ms: how long each write holds the writer's lock, which every host queues on;"
        "\n   CPU ms: per write, the submitting processes and the database server's processes)"
    )


def print_changes(result: dict) -> None:
    """How each figure changes from 1 to 2 hosts, and PostgreSQL's share of SQLite's writes."""
    writes, phases = result["credit_writes"], result["phases"]
    print()
    for engine in ENGINES:
        one, two = phase_name(engine, 1), phase_name(engine, 2)
        changes = [f"CDS throughput {ratio(phases, two, one, 'throughput_rps'):.2f}x"]
        if writes:
            changes.insert(0, f"credit writes {ratio(writes, two, one, 'writes_per_second'):.2f}x")
        print(f"  {ENGINE_NAMES[engine]:<11} 2 hosts / 1 host: {', '.join(changes)}")
    for hosts in HOST_COUNTS if writes else ():
        postgresql, sqlite = phase_name("postgresql", hosts), phase_name("sqlite", hosts)
        shared = ratio(writes, postgresql, sqlite, "writes_per_second")
        print(f"  credit writes PostgreSQL / SQLite, {hosts} host(s): {shared:.2f}")


def ratio(figures: dict, over: str, under: str, key: str) -> float:
    """One phase's figure over another's."""
    return figures[over][key] / figures[under][key]


def label(name: str) -> str:
    """postgresql_2_hosts → PostgreSQL, 2 hosts."""
    engine, hosts = name.split("_", 1)
    return f"{ENGINE_NAMES[engine]}, {hosts.replace('_', ' ')}"


TARGET_LABELS = {
    "postgresql_credit_writes_2_hosts": "credit writes/s, PostgreSQL, 2 hosts",
    "cds_postgresql_over_sqlite_1_host": "CDS throughput PostgreSQL / SQLite, 1 host",
    "cds_postgresql_over_sqlite_2_hosts": "CDS throughput PostgreSQL / SQLite, 2 hosts",
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, write the JSON; 0 even when a target is missed."""
    started = time.perf_counter()
    code = run_benchmark(parse_args(argv), run, print_report, "database")
    print(f"  ({time.perf_counter() - started:.0f} s)")
    return code
