"""Hostile-input benchmark: time to answer and worker memory growth for each attack on the hook.

Runs the production server (`bedside serve`) with a trusted EHR key and a misbehaving FHIR server
on loopback, sends signed order-select calls that attack it (a faulty fhirServer with nothing
prefetched, 10,000 draft orders, an oversized body, deeply nested JSON) and records, per call, the
HTTP status, the seconds to answer and how much the gunicorn workers' memory grew. Figures, not
timed tests: it exits 0 even when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.settings import REPO_ROOT, SETTINGS
from bench import cds_request as req
from bench.cds_hooks import server_env
from bench.report import run_benchmark, verdict
from bench.server import HOST, Server, child_pids, start_server

# The fault-injecting FHIR server is the hostile tests' own (tests/hostile/); the benchmark
# imports it rather than keeping a second copy, so both always attack with the same faults.
from tests.hostile.fetch_faults import ANSWERS, FaultServer

DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "hostile.json"
MIB = 1024 * 1024
FHIR_TOKEN = "bench-hostile-ehr-token"
USER = "Practitioner/bench-hostile"
DEFAULT_DRAFT_ORDERS = 10_000
OVERSIZED_BODY_BYTES = 6 * MIB
NESTING_LEVELS = 100_000
HUGE_ATTACKS = ("fhir-huge", "fhir-huge-undeclared")  # the 50 MB response, with and without length
#: what each FHIR fault should get: 412 (the data could not be fetched), 200 for answers Bedside
#: can use (a healthy server; endless paging is cut after a few pages)
FAULT_STATUS = {"ok": 200, "paging": 200}
LIMITS = {"deadline_slack_seconds": 1.0, "huge_rss_growth_mb": 100.0, "draft_orders_seconds": 1.0}


def time_budget_seconds() -> int:
    """BEDSIDE_CDS_TIME_BUDGET_SECONDS's default: the deadline every attack must meet."""
    return next(s.default for s in SETTINGS if s.name == "CDS_TIME_BUDGET_SECONDS")


@dataclass
class Attack:
    """One hostile call: how to build its body and which statuses are the right answer."""

    name: str
    about: str
    expected: tuple[int, ...]
    build: Callable[[], bytes]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench hostile", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="calls per attack")
    parser.add_argument(
        "--attacks",
        default="",
        help="comma-separated attack names to run (default: all; see the table for names)",
    )
    parser.add_argument("--draft-orders", type=int, default=DEFAULT_DRAFT_ORDERS)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--startup-timeout", type=float, default=300, help="seconds")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    args = parser.parse_args(argv)
    if min(args.repeat, args.draft_orders, args.workers, args.threads) < 1:
        parser.error("--repeat, --draft-orders, --workers and --threads must be ≥ 1")
    return args


def encode(body: dict) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(body, separators=(",", ":")).encode()


def fetching_call(fhir_server: str) -> dict:
    """order-select with nothing prefetched: every query goes to fhirServer with a token."""
    body = req.order_select_body({}, user_id=USER, hook_instance=str(uuid.uuid4()))
    del body["prefetch"]
    body["fhirServer"] = fhir_server
    body["fhirAuthorization"] = {
        "access_token": FHIR_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "bedside",
    }
    return body


def many_draft_orders(count: int) -> bytes:
    """The benchmark's usual call (30 resources prefetched) with `count` drafted orders."""
    prefetch = req.patient_prefetch()
    body = req.order_select_body(prefetch, user_id=USER, hook_instance=str(uuid.uuid4()))
    template = req.draft_ceftriaxone()
    orders = [{**template, "id": f"bench-draft-{number}"} for number in range(count)]
    body["context"]["draftOrders"]["entry"] = [{"resource": order} for order in orders]
    return encode(body)


def oversized_body(size: int) -> bytes:
    """A well-formed hook call padded to `size` bytes."""
    body = encode(fetching_call("https://fhir.bench.bedside.example/r4"))
    padding = size - len(body) - len(b',"padding":""')
    return body[:-1] + b',"padding":"' + b"x" * padding + b'"}'


def deeply_nested(levels: int) -> bytes:
    """A hook call whose context is `levels` nested arrays."""
    return b'{"hook":"order-select","context":' + b"[" * levels + b"]" * levels + b"}"


def attacks(faults: FaultServer, draft_orders: int) -> list[Attack]:
    """Every attack, FHIR faults first."""
    listed = [
        Attack(
            f"fhir-{fault}",
            f"fhirServer answers `{fault}`, nothing prefetched",
            (FAULT_STATUS.get(fault, 412),),
            lambda fault=fault: encode(fetching_call(faults.url(fault))),
        )
        for fault in ANSWERS
    ]
    return [
        *listed,
        Attack(
            "draft-orders",
            f"{draft_orders:,} draft orders",
            (413, 200),
            lambda: many_draft_orders(draft_orders),
        ),
        Attack(
            "oversized-body",
            f"a {OVERSIZED_BODY_BYTES // MIB} MiB body",
            (413,),
            lambda: oversized_body(OVERSIZED_BODY_BYTES),
        ),
        Attack(
            "deep-nesting",
            f"JSON nested {NESTING_LEVELS:,} levels",
            (400,),
            lambda: deeply_nested(NESTING_LEVELS),
        ),
    ]


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of one process in kB (empty when it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.split(":", 1) for line in lines if line.startswith(("VmRSS:", "VmHWM:")))
    return {name: int(value.split()[0]) for name, value in fields}


def reset_peak(pid: int) -> None:
    """Reset the process's peak RSS (VmHWM) to its current RSS (Linux clear_refs 5)."""
    with contextlib.suppress(OSError):  # elsewhere the peak is the lifetime peak
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def workers_memory(server: Server) -> dict[int, dict[str, int]]:
    """Memory of every live worker."""
    return {pid: memory_kb(pid) for pid in child_pids(server.process.pid)}


def growth_mb(before: dict[int, dict], after: dict[int, dict]) -> tuple[float, float]:
    """The largest growth of any worker seen both times: (RSS after - before, peak - before)."""
    rss = peak = 0
    for pid, was in before.items():
        now = after.get(pid)
        if not was or not now:
            continue
        rss = max(rss, now["VmRSS"] - was["VmRSS"])
        peak = max(peak, now["VmHWM"] - was["VmRSS"])
    return rss / 1024, peak / 1024


def post(server: Server, token: str, body: bytes) -> int | None:
    """POST the hook call; the status, or None when the connection failed without an answer."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        # answered before the whole body was sent (413): the answer may still be readable
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request("POST", req.SERVICE_PATH, body, headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def run_attack(server: Server, key, attack: Attack, repeat: int) -> dict:
    """Send the attack `repeat` times; its statuses, seconds and memory growth."""
    body = attack.build()
    tokens = req.sign_tokens(key, server.base_url + req.SERVICE_PATH, repeat)
    calls = []
    for token in tokens:
        for pid in child_pids(server.process.pid):
            reset_peak(pid)
        before = workers_memory(server)
        started = time.perf_counter()
        status = post(server, token, body)
        seconds = time.perf_counter() - started
        rss, peak = growth_mb(before, workers_memory(server))
        calls.append({"status": status, "seconds": seconds, "rss_mb": rss, "peak_mb": peak})
    statuses = [call["status"] for call in calls]
    return {
        "about": attack.about,
        "body_bytes": len(body),
        "expected": list(attack.expected),
        "statuses": statuses,
        "as_expected": all(status in attack.expected for status in statuses),
        "max_seconds": max(call["seconds"] for call in calls),
        "rss_growth_mb": max(call["rss_mb"] for call in calls),
        "peak_growth_mb": max(call["peak_mb"] for call in calls),
        "calls": calls,
    }


def chosen(every: list[Attack], names: str) -> list[Attack]:
    """The attacks named on the command line (all when none)."""
    if not names:
        return every
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {attack.name: attack for attack in every}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(f"Unknown attack {unknown[0]!r}; known: {', '.join(known)}.")
    return [known[name] for name in wanted]


def run(args: argparse.Namespace, workdir: Path) -> dict:
    """Start the fault servers and `bedside serve`, run every attack; return the result."""
    key = req.make_key("RS384")
    clients_file = workdir / "cds-clients.json"
    clients_file.write_text(json.dumps(req.clients_document([key])), encoding="utf-8")
    with FaultServer() as target, FaultServer(redirect_to=target.url("ok") + "/") as faults:
        chosen_attacks = chosen(attacks(faults, args.draft_orders), args.attacks)
        env = server_env(workdir, "hostile", REPO_ROOT / "content", clients_file)
        env["BEDSIDE_FHIR_INSECURE_HOSTS"] = f"{faults.netloc} {target.netloc}"
        print("starting the server …", flush=True)
        server = start_server(
            "hostile",
            env,
            workdir,
            workers=args.workers,
            threads=args.threads,
            timeout=args.startup_timeout,
        )
        try:
            results = {}
            for attack in chosen_attacks:
                print(f"attack {attack.name} x{args.repeat} …", flush=True)
                results[attack.name] = run_attack(server, key, attack, args.repeat)
        finally:
            server.stop()
    setup = {
        "repeat": args.repeat,
        "draft_orders": args.draft_orders,
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "time_budget_seconds": time_budget_seconds(),
        "startup_seconds": server.startup_seconds,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    return {
        "benchmark": "hostile",
        "setup": setup,
        "attacks": results,
        "targets": targets(results, setup["time_budget_seconds"]),
    }


def targets(results: dict[str, dict], budget: float) -> dict[str, dict]:
    """The issue's three targets, for the attacks that ran."""
    found = {}
    if results:
        slowest = max(result["max_seconds"] for result in results.values())
        unanswered = any(None in result["statuses"] for result in results.values())
        limit = budget + LIMITS["deadline_slack_seconds"]
        found["every_attack_answered_seconds"] = {
            "value": slowest,
            "target": f"< {limit:g}",
            "pass": slowest < limit and not unanswered,
        }
    huge = [results[name]["peak_growth_mb"] for name in HUGE_ATTACKS if name in results]
    if huge:
        found["huge_response_worker_growth_mb"] = {
            "value": max(huge),
            "target": f"< {LIMITS['huge_rss_growth_mb']:g}",
            "pass": max(huge) < LIMITS["huge_rss_growth_mb"],
        }
    if "draft-orders" in results:
        drafts = results["draft-orders"]
        found["draft_orders_seconds"] = {
            "value": drafts["max_seconds"],
            "target": f"< {LIMITS['draft_orders_seconds']:g}",
            "pass": drafts["max_seconds"] < LIMITS["draft_orders_seconds"]
            and drafts["as_expected"],
        }
    return found


TARGET_LABELS = {
    "every_attack_answered_seconds": "slowest answer to any attack (s)",
    "huge_response_worker_growth_mb": "worker peak growth, 50 MB FHIR response (MB)",
    "draft_orders_seconds": "10,000 draft orders answered, 413 or cards (s)",
}


def print_report(result: dict) -> None:
    """The table and the verdicts."""
    setup = result["setup"]
    print()
    print("Hostile-input benchmark: signed order-select calls against `bedside serve`")
    print(
        f"  {setup['workers']} gunicorn workers of {setup['threads_per_worker']} threads, "
        f"{setup['cpus']} CPUs; {setup['repeat']} call(s) per attack; "
        f"deadline (BEDSIDE_CDS_TIME_BUDGET_SECONDS) {setup['time_budget_seconds']} s"
    )
    print()
    heading = f"{'attack':<24}{'body':>10}{'status':>12}{'max s':>8}{'RSS +MB':>9}{'peak +MB':>10}"
    print(heading)
    for name, attack in result["attacks"].items():
        statuses = "/".join(sorted({str(status) for status in attack["statuses"]}))
        flag = "" if attack["as_expected"] else f"  !! expected {attack['expected']}"
        print(
            f"{name:<24}{human_bytes(attack['body_bytes']):>10}{statuses:>12}"
            f"{attack['max_seconds']:>8.2f}{attack['rss_growth_mb']:>9.1f}"
            f"{attack['peak_growth_mb']:>10.1f}{flag}"
        )
    print()
    for name, target in result["targets"].items():
        print(
            f"  {TARGET_LABELS[name]:<52} {target['value']:>8.2f}  "
            f"(target {target['target']:>5})  {verdict(target['pass'])}"
        )
    missed = [name for name, target in result["targets"].items() if not target["pass"]]
    print()
    print("  All targets met." if not missed else f"  MISSED: {', '.join(missed)}")
    print(f"  Full result: {result['output']}")


def human_bytes(size: int) -> str:
    """1.2 MB, 340 KB, 12 B."""
    if size >= MIB:
        return f"{size / MIB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, write the JSON; 0 even when a target is missed."""
    return run_benchmark(parse_args(argv), run, print_report, "hostile")
