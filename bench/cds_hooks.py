"""CDS Hooks benchmark: the real order-select hook against the production server, with ratios.

Runs two servers (shipped library; shipped + N synthetic modules) and interleaves four kinds of
call in rounds: on the first, the real hook signed with the headline JWT algorithm, the real hook
signed with the other one, and the parse-only floor; on the second, the real hook (headline alg).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import time
from pathlib import Path

from app.settings import ENV_PREFIX, REPO_ROOT, SETTINGS
from bench import cds_request as req
from bench.load import Batch, PhaseStats, measure, run_batch
from bench.report import (
    alg_phase,
    algorithm_comparison,
    print_report,
    run_benchmark,
    targets,
)
from bench.server import HOST, Server, start_server
from bench.synthetic_library import build_library

DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "cds_hooks.json"
LIMITS = {"throughput_ratio": 0.5, "library_ratio": 1.2, "p99_ms": 50.0}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options (the issue's sizes; enough requests to average out host noise)."""
    parser = argparse.ArgumentParser(prog="python -m bench cds", description=__doc__)
    parser.add_argument("--requests", type=int, default=6000, help="timed requests per phase")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per phase first")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--library-size", type=int, default=5000, help="synthetic modules added")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds per phase")
    parser.add_argument(
        "--alg",
        choices=req.ALGORITHMS,
        default="RS384",
        help="JWT algorithm of the headline phases (RS384, Epic's default; the other one is "
        "measured in the same run for comparison)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--startup-timeout", type=float, default=900, help="seconds per server")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    parser.add_argument(
        "--no-client-auth",
        action="store_true",
        help="diagnostic: servers run with BEDSIDE_CDS_AUTH=off (shows what JWT checks cost; "
        "the targets do not apply to such a run)",
    )
    args = parser.parse_args(argv)
    sizes = (args.requests, args.concurrency, args.rounds, args.workers, args.threads)
    if min(sizes) < 1 or args.warmup < 0:
        parser.error("--requests, --concurrency, --rounds, --workers and --threads must be ≥ 1")
    args.rounds = min(args.rounds, args.requests)
    return args


def server_env(
    workdir: Path, name: str, content_dir: Path, clients_file: Path, client_auth: bool = True
) -> dict[str, str]:
    """The exact configuration: every BEDSIDE_* setting pinned (empty means the default)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
    env.update({f"{ENV_PREFIX}{setting.name}": "" for setting in SETTINGS})
    env.update(
        {
            "BEDSIDE_DATABASE": str(workdir / f"{name}.db"),
            "BEDSIDE_SECRET_KEY": secrets.token_hex(32),
            "BEDSIDE_CDS_CLIENTS": str(clients_file),
            "BEDSIDE_CDS_FLOOR_ENDPOINT": "1",
            "BEDSIDE_CONTENT_DIR": str(content_dir),
            "BEDSIDE_LOG_LEVEL": "WARNING",
            "BEDSIDE_CDS_REPEAT_MINUTES": "0",  # every call builds its card: no repeat suppression
            # one client from one address makes every call: the default 600/minute would answer
            # most of them 429 (the limiter still counts each call, so its cost stays measured)
            "BEDSIDE_CDS_RATE_LIMIT": "1000000 per minute",
        }
    )
    if not client_auth:
        env["BEDSIDE_CDS_AUTH"] = "off"
    return env


class Target:
    """One endpoint of one server, with pre-signed tokens and pre-built bodies per batch."""

    def __init__(self, server: Server, path: str, key, bodies: req.BodyFactory, concurrency: int):
        self.server, self.path, self.key, self.bodies = server, path, key, bodies
        self.concurrency = concurrency

    @property
    def url(self) -> str:
        """The exact URL invoked (the JWT aud)."""
        return self.server.base_url + self.path

    def prepared(self, count: int) -> list[tuple[str, bytes]]:
        """count (fresh JWT, distinct body) pairs, made before the clock starts."""
        tokens = req.sign_tokens(self.key, self.url, count)
        return list(zip(tokens, self.bodies.bodies(count), strict=True))

    def send(self, prepared: list[tuple[str, bytes]]) -> Batch:
        """Send prepared requests with the configured number of clients; return the Batch."""
        return run_batch(HOST, self.server.port, self.path, prepared, self.concurrency)

    def cpu_seconds(self) -> float:
        """CPU time the server behind this endpoint has used so far."""
        return self.server.cpu_seconds()

    def probe(self) -> dict:
        """One call, answered and parsed (status must be 200)."""
        import http.client

        ((token, body),) = self.prepared(1)
        connection = http.client.HTTPConnection(HOST, self.server.port, timeout=60)
        try:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            connection.request("POST", self.path, body, headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise SystemExit(f"{self.url} answered {response.status}: {payload[:500]!r}")
        return json.loads(payload)


def round_sizes(total: int, rounds: int) -> list[int]:
    """Split total requests into rounds as evenly as possible."""
    return [total // rounds + (1 if number < total % rounds else 0) for number in range(rounds)]


def run(args: argparse.Namespace, workdir: Path) -> dict:
    """Start both servers, warm up, run the interleaved rounds; return the result."""
    keys = {alg: req.make_key(alg) for alg in req.ALGORITHMS}
    key = keys[args.alg]
    clients_file = workdir / "cds-clients.json"
    clients_file.write_text(json.dumps(req.clients_document(keys.values())), encoding="utf-8")
    prefetch = req.patient_prefetch()
    bodies = req.BodyFactory(prefetch)
    generated = time.perf_counter()
    large_total = build_library(REPO_ROOT / "content", workdir / "library", args.library_size)
    generated = time.perf_counter() - generated
    servers: dict[str, Server] = {}
    try:
        for name, content in (("shipped", REPO_ROOT / "content"), ("large", workdir / "library")):
            print(f"starting the {name}-library server …", flush=True)
            env = server_env(workdir, name, content, clients_file, not args.no_client_auth)
            servers[name] = start_server(
                name,
                env,
                workdir,
                workers=args.workers,
                threads=args.threads,
                timeout=args.startup_timeout,
            )
        shipped, large = servers["shipped"], servers["large"]
        phases = {
            "real": Target(shipped, req.SERVICE_PATH, key, bodies, args.concurrency),
            **{
                alg_phase(alg): Target(shipped, req.SERVICE_PATH, other, bodies, args.concurrency)
                for alg, other in keys.items()
                if alg != args.alg
            },
            "floor": Target(shipped, req.FLOOR_PATH, key, bodies, args.concurrency),
            "real_large_library": Target(large, req.SERVICE_PATH, key, bodies, args.concurrency),
        }
        cards = warm_up(phases, args)
        stats = drive(phases, args)
    finally:
        for server in servers.values():
            server.stop()
    summaries = {name: phase.summary() for name, phase in stats.items()}
    setup = {
        "requests_per_phase": args.requests,
        "warmup": args.warmup,
        "concurrency": args.concurrency,
        "jwt_alg": args.alg,
        "compared_jwt_algs": [alg for alg in req.ALGORITHMS if alg != args.alg],
        "client_auth": not args.no_client_auth,
        "rounds": args.rounds,
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "prefetch_resources": req.count_resources(prefetch),
        "body_bytes": bodies.size,
        "cards_returned": cards,
        "library_generation_seconds": generated,
    }
    shipped_total = len(list((REPO_ROOT / "content" / "modules").glob("*.y*ml")))
    return {
        "benchmark": "cds_hooks",
        "setup": setup,
        "servers": {
            "shipped": server_info(servers["shipped"], shipped_total),
            "large": server_info(servers["large"], large_total),
        },
        "phases": summaries,
        "targets": targets(summaries, LIMITS),
        "algorithm_comparison": algorithm_comparison(summaries, args.alg, req.ALGORITHMS, LIMITS),
    }


def drive(phases: dict[str, Target], args: argparse.Namespace) -> dict[str, PhaseStats]:
    """Run every phase once per round, rotating their order to spread drift over all of them."""
    stats = {name: PhaseStats(name) for name in phases}
    order = list(phases)
    for number, size in enumerate(round_sizes(args.requests, args.rounds)):
        print(f"round {number + 1}/{args.rounds} ({size} requests per phase) …", flush=True)
        shift = number % len(order)
        for name in order[shift:] + order[:shift]:
            target = phases[name]
            prepared = target.prepared(size)  # signing is client work: before the clock starts
            measure(stats[name], target.cpu_seconds, lambda t=target, p=prepared: t.send(p))
    return stats


def warm_up(phases: dict[str, Target], args: argparse.Namespace) -> int:
    """Check each endpoint answers as expected, then warm it up; return the first phase's cards."""
    cards = {name: len(target.probe()["cards"]) for name, target in phases.items()}
    if min(count for name, count in cards.items() if name != "floor") < 1:
        raise SystemExit(f"The real hook returned no card ({cards}): the benchmark would be empty.")
    if cards.get("floor", 0) != 0:
        raise SystemExit("The floor endpoint returned cards; it must only parse the request.")
    for target in phases.values():
        if args.warmup:
            target.send(target.prepared(args.warmup))
    return next(iter(cards.values()))


def server_info(server: Server, modules: int) -> dict:
    """What the JSON records about one server."""
    return {"modules": modules, "startup_seconds": server.startup_seconds}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, write the JSON; 0 even when a target is missed."""
    return run_benchmark(parse_args(argv), run, print_report, "cds")
