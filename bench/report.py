"""Print the CDS Hooks benchmark's table and verdicts; write its JSON result."""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

COLUMNS = ("p50_ms", "p90_ms", "p99_ms", "max_ms", "throughput_rps", "server_cpu_ms_per_request")
HEADINGS = ("p50 ms", "p90 ms", "p99 ms", "max ms", "req/s", "srv CPU ms/req")


def verdict(passed: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if passed else "FAIL"


def targets(phases: dict[str, dict], limits: dict[str, float]) -> dict[str, dict]:
    """The issue's three targets, measured in this run."""
    real, floor, big = phases["real"], phases["floor"], phases["real_large_library"]
    ratio = throughput_ratio(real, floor)
    latency_ratio = big["p50_ms"] / real["p50_ms"]
    return {
        "real_over_floor_throughput": {
            "value": ratio,
            "target": f">= {limits['throughput_ratio']}",
            "pass": ratio >= limits["throughput_ratio"],
            "by_round": round_ratio_spread(real, floor),
        },
        "large_over_shipped_library_p50": {
            "value": latency_ratio,
            "target": f"<= {limits['library_ratio']}",
            "pass": latency_ratio <= limits["library_ratio"],
        },
        "real_p99_ms": {
            "value": real["p99_ms"],
            "target": f"< {limits['p99_ms']}",
            "pass": real["p99_ms"] < limits["p99_ms"],
        },
    }


def throughput_ratio(phase: dict, floor: dict) -> float:
    """A phase's throughput as a share of the floor endpoint's."""
    return phase["throughput_rps"] / floor["throughput_rps"]


def round_ratio_spread(phase: dict, floor: dict) -> dict[str, float]:
    """The throughput ratio round by round (same round, same minute): its median and range."""
    rounds = zip(phase["round_throughputs_rps"], floor["round_throughputs_rps"], strict=True)
    ratios = sorted(mine / theirs for mine, theirs in rounds if theirs)
    if not ratios:
        return {}
    return {"median": statistics.median(ratios), "min": ratios[0], "max": ratios[-1]}


def alg_phase(alg: str) -> str:
    """The name of the phase that signs with a non-headline algorithm."""
    return f"real_{alg.lower()}"


def algorithm_comparison(
    phases: dict[str, dict], headline: str, algorithms: tuple[str, ...], limits: dict
) -> dict[str, dict]:
    """Per compared algorithm: its throughput ratio and the server CPU it adds per request."""
    real, floor = phases["real"], phases["floor"]
    comparison = {}
    for alg in algorithms:
        phase = phases.get(alg_phase(alg))
        if alg == headline or phase is None:
            continue
        ratio = throughput_ratio(phase, floor)
        comparison[alg] = {
            "throughput_ratio": ratio,
            "meets_throughput_target": ratio >= limits["throughput_ratio"],
            "extra_server_cpu_ms_per_request": (
                phase["server_cpu_ms_per_request"] - real["server_cpu_ms_per_request"]
            ),
        }
    return comparison


def print_report(result: dict) -> None:
    """The human-readable summary."""
    setup = result["setup"]
    print()
    print("CDS Hooks benchmark: order-select, sepsis patient, drafted ceftriaxone")
    print(
        f"  {setup['concurrency']} clients, {setup['requests_per_phase']} requests per phase "
        f"in {setup['rounds']} interleaved rounds (after {setup['warmup']} warm-up each), "
        f"{setup['workers']} gunicorn workers of {setup.get('threads_per_worker', '?')} threads, "
        f"{setup['cpus']} CPUs"
    )
    print(
        f"  request: {setup['prefetch_resources']} prefetched resources, "
        f"{setup['body_bytes']:,} bytes, {setup['jwt_alg']} JWT; "
        f"cards in warm-up call: {setup['cards_returned']}"
    )
    for name, server in result["servers"].items():
        print(
            f"  {name} server: {server['modules']} modules, "
            f"started in {server['startup_seconds']:.1f} s"
        )
    print()
    label_width = 28
    print(" " * label_width + "".join(f"{heading:>15}" for heading in HEADINGS))
    for name, phase in result["phases"].items():
        row = "".join(f"{phase[column]:>15.1f}" for column in COLUMNS)
        print(f"{PHASE_LABELS.get(name, name):<{label_width}}{row}")
        if phase["errors"]:
            print(f"{'':<{label_width}}!! {phase['errors']} non-200 answers: {phase['statuses']}")
    print()
    for name, target in result["targets"].items():
        print(
            f"  {TARGET_LABELS[name]:<52} {target['value']:>8.2f}  "
            f"(target {target['target']:>7})  {verdict(target['pass'])}"
        )
        if target.get("by_round"):
            spread = target["by_round"]
            print(
                f"  {'':<52} by round: median {spread['median']:.2f}, "
                f"range {spread['min']:.2f} to {spread['max']:.2f}"
            )
    print_algorithm_comparison(result)
    noisy = max(phase["other_cpu_share"] for phase in result["phases"].values())
    if noisy > NOISE_LIMIT:
        print(
            f"\n  !! Other processes used up to {noisy:.0%} of the CPUs during the timed phases:"
            "\n  !! absolute numbers are unreliable; rerun on a quiet machine (ratios suffer less)."
        )
    if not setup.get("client_auth", True):
        print("\n  !! DIAGNOSTIC RUN: client authentication was off; the targets do not apply.")
    missed = [name for name, target in result["targets"].items() if not target["pass"]]
    print()
    print("  All targets met." if not missed else f"  MISSED: {', '.join(missed)}")
    print(f"  Full result: {result['output']}")


def print_algorithm_comparison(result: dict) -> None:
    """The other JWT algorithm's throughput ratio and what its signature check adds."""
    headline = result["setup"]["jwt_alg"]
    for alg, compared in result.get("algorithm_comparison", {}).items():
        label = f"throughput real hook / floor, {alg} JWTs"
        below = "meets" if compared["meets_throughput_target"] else "below"
        print(
            f"  {label:<52} {compared['throughput_ratio']:>8.2f}  "
            f"({below} the target, which is verdicted on {headline})"
        )
        print(
            f"  {'':<52} server CPU per request "
            f"{compared['extra_server_cpu_ms_per_request']:+.2f} ms vs {headline}"
        )


NOISE_LIMIT = 0.10
PHASE_LABELS = {
    "real": "real hook, shipped library",
    "real_es384": "real hook, ES384 JWTs",
    "real_rs384": "real hook, RS384 JWTs",
    "floor": "floor (parse only)",
    "real_large_library": "real hook, large library",
}
TARGET_LABELS = {
    "real_over_floor_throughput": "throughput real hook / floor",
    "large_over_shipped_library_p50": "p50 large library / shipped library",
    "real_p99_ms": "p99 real hook, shipped library (ms)",
}


def write_result(result: dict, path: Path) -> None:
    """Write the JSON result (bench/results/ is git-ignored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def run_benchmark(
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace, Path], dict],
    report: Callable[[dict], None],
    name: str,
) -> int:
    """Run in a temporary folder, write the JSON, print the report; 0 even if a target is missed."""
    signal.signal(signal.SIGTERM, interrupted)  # stop the servers on `kill` too, not only Ctrl-C
    with tempfile.TemporaryDirectory(prefix=f"bedside-bench-{name}-") as directory:
        result = run(args, Path(directory))
    result["output"] = str(args.output)
    result["run_id"] = uuid.uuid4().hex
    write_result(result, args.output)
    report(result)
    return 0


def interrupted(signum, frame) -> None:
    """Turn SIGTERM into KeyboardInterrupt so that the `finally` blocks stop the servers."""
    raise KeyboardInterrupt
