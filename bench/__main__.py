"""`python -m bench [name|all] [options]`: run Bedside's benchmarks (`make bench` runs all).

Options after the name go to that benchmark (e.g. `python -m bench cds --requests 200`).
"""

from __future__ import annotations

import importlib
import sys

#: name → (module with a main(argv) -> int, what it measures). Add new benchmarks here.
BENCHMARKS = {
    "cds": ("bench.cds_hooks", "CDS Hooks order-select: latency, throughput and two ratios"),
    "database": (
        "bench.database",
        "PostgreSQL vs SQLite: credit writes/s and CDS throughput, 1 and 2 hosts",
    ),
    "hostile": ("bench.hostile", "hostile hook calls: time to answer and worker memory growth"),
    "ledger": ("bench.ledger", "CME ledger: durable writes/s and verifying a 100,000-record chain"),
    "pwa": ("bench.pwa", "case page bytes on first load and when kept offline; third parties"),
    "outcomes": (
        "bench.outcomes",
        "outcomes compute --ndjson: resources/s and peak memory, local (1, N workers) and Spark",
    ),
}


def usage() -> str:
    """The list of benchmarks."""
    lines = ["usage: python -m bench [all|NAME] [options for NAME]", "", "benchmarks:"]
    lines += [f"  {name:<8} {about}" for name, (_, about) in BENCHMARKS.items()]
    lines.append("  all      every benchmark above with its default sizes (the default)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Dispatch to one benchmark, or run them all."""
    name, rest = (argv[0], argv[1:]) if argv else ("all", [])
    if name in {"-h", "--help", "help", "list"}:
        print(usage())
        return 0
    if name == "all":
        if rest:
            print("Options apply to a single benchmark: python -m bench NAME [options]\n")
            print(usage())
            return 2
        return max(run(each, []) for each in BENCHMARKS)
    if name not in BENCHMARKS:
        print(f"Unknown benchmark {name!r}.\n\n{usage()}", file=sys.stderr)
        return 2
    return run(name, rest)


def run(name: str, argv: list[str]) -> int:
    """Import and run one benchmark."""
    print(f"== bench {name}: {BENCHMARKS[name][1]}", flush=True)
    module = importlib.import_module(BENCHMARKS[name][0])
    try:
        return module.main(argv)
    except KeyboardInterrupt:
        print(f"\nbench {name} interrupted; servers stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
