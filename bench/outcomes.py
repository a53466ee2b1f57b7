"""Benchmark `outcomes compute --ndjson`: resources/s and peak memory, by engine, workers and size.

Run: `.venv/bin/python -m bench outcomes [--copies 1,10,50] [--workers 1,4] [--repeat 3]`.

The synthetic Bulk export (`app/devtools/synthetic`) is replicated 1x, 10x and 50x: every copy
after the first renames the patient-linked resources and their references (`-r<k>`), so each copy
adds distinct patients with the same charts, and the exact answers scale with the copies. Each run
is a fresh child process (`python -m bench.outcomes --child ENGINE EXPORT WORKERS`), so the figures
hold interpreter start-up, spooling and evaluation, and its peak memory (ru_maxrss) is its own: the
child reports its own peak and its largest worker's. Figures, not timed tests: nothing is asserted.

Engines: `ENGINES` names each engine's entry point as "module:function" taking (export,
workers) and returning (cases, seconds it timed); another engine (Spark, in
bench/outcomes_spark.py) adds itself there and gets its rows from `engine_rows(engine, exports,
workers, repeat)`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from app.devtools.synthetic.bulk_export import write_bulk_ndjson
from app.devtools.synthetic.dataset import generate_dataset

RESULTS = Path(__file__).resolve().parent / "results" / "outcomes.json"
CONTENT = Path(__file__).resolve().parents[1] / "content"
AS_OF = "2026-11-01"
TARGET = 100_000  # resources per second on one core (issue #21)
# Resources every patient shares: written once, referenced unchanged by every copy.
SHARED_TYPES = frozenset(
    {"Practitioner", "PractitionerRole", "Organization", "Location", "Medication"}
)
ENGINES = {"local": "bench.outcomes:run_local"}


@dataclass(frozen=True)
class Run:
    """One child process's figures."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    worker_peak_mb: float
    cases: int


@dataclass(frozen=True)
class Row:
    """An engine at one size and worker count over `repeat` runs: best, median and worst."""

    engine: str
    copies: int
    workers: int
    resources: int
    megabytes: float
    runs: int
    resources_per_s: tuple[float, float, float]  # worst, median, best
    resources_per_cpu_s: tuple[float, float, float]
    peak_mb: float
    worker_peak_mb: float
    cases: int


def main(argv: list[str]) -> int:
    """Build the replicated exports, run every engine row, print the table and write the JSON."""
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    options = parse_arguments(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-outcomes-", dir=options.dir))
    try:
        exports = {copies: replicated(root, copies) for copies in options.copies}
        rows = [
            row
            for engine in options.engines
            for row in engine_rows(engine, exports, options.workers, options.repeat)
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(table(rows))
    write_results(options.output, rows)
    return 0


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(prog="python -m bench outcomes", description=__doc__)
    parser.add_argument("--copies", type=int_list, default=[1, 10, 50], help="sizes, e.g. 1,10,50")
    parser.add_argument(
        "--workers", type=int_list, default=[1, os.cpu_count() or 1], help="e.g. 1,4"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (default 3)")
    parser.add_argument("--engine", dest="engines", action="append", choices=sorted(ENGINES))
    parser.add_argument("--dir", type=Path, help="where the exports and spools go")
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args(argv)
    options.engines = options.engines or ["local"]
    options.workers = sorted(set(options.workers))
    return options


def int_list(text: str) -> list[int]:
    """'1,10,50' as [1, 10, 50] (each at least 1)."""
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("give positive whole numbers, e.g. 1,10,50")
    return values


def engine_rows(
    engine: str, exports: dict[int, Path], workers: list[int], repeat: int
) -> list[Row]:
    """One engine's rows: each export size with each worker count, `repeat` child runs each."""
    rows = []
    for copies, export in exports.items():
        resources, megabytes = export_size(export)
        for count in workers:
            runs = [run_child(engine, export, count) for _ in range(repeat)]
            rows.append(summarize(engine, copies, count, resources, megabytes, runs))
            print(row_text(rows[-1]), flush=True)
    return rows


def run_child(engine: str, export: Path, workers: int) -> Run:
    """Run one engine once in a fresh child process and read back its figures."""
    command = [sys.executable, "-m", "bench.outcomes", "--child", engine, str(export), str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench outcomes: the {engine} engine failed:\n{done.stderr[-2000:]}")
    return Run(**json.loads(done.stdout.strip().splitlines()[-1]))


def child(argv: list[str]) -> int:
    """In the child: run the engine on the export and print its figures as one JSON line."""
    engine, export, workers = argv[0], Path(argv[1]), int(argv[2])
    module_name, function_name = ENGINES[engine].split(":")
    run = getattr(importlib.import_module(module_name), function_name)
    cpu = time.process_time()
    cases, seconds = run(export, workers)
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = time.process_time() - cpu + workers_usage.ru_utime + workers_usage.ru_stime
    figures = Run(seconds, cpu_seconds, own.ru_maxrss / 1024, workers_usage.ru_maxrss / 1024, cases)
    print(json.dumps(asdict(figures)))
    return 0


def run_local(export: Path, workers: int) -> tuple[int, float]:
    """The local engine as `outcomes compute --ndjson EXPORT --workers N` runs it: (cases, s).

    The clock covers spooling and evaluation, not loading the measure definitions.
    """
    from app.library.measure_definitions import load_measures
    from app.outcomes.parallel import evaluate_export

    as_of = datetime.fromisoformat(AS_OF).replace(tzinfo=UTC)
    definitions = load_measures(CONTENT).values()
    started = time.perf_counter()
    cases = evaluate_export(definitions, export, as_of=as_of, workers=workers)
    return len(cases), time.perf_counter() - started


def replicated(root: Path, copies: int) -> Path:
    """The synthetic export replicated `copies` times, in root/x<copies>."""
    base = root / "x1"
    if not base.exists():
        write_bulk_ndjson(generate_dataset(), base)
    if copies == 1:
        return base
    replicate_export(base, copies, root / f"x{copies}")
    return root / f"x{copies}"


def replicate_export(source: Path, copies: int, out: Path) -> int:
    """Write `copies` copies of an NDJSON export's patients into out; return the resources."""
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for path in sorted(Path(source).glob("*.ndjson")):
        with path.open("rb") as lines, (out / path.name).open("wb") as target:
            for line in lines:
                if line.strip():
                    for copy in copies_of(orjson.loads(line), copies):
                        target.write(orjson.dumps(copy, option=orjson.OPT_SORT_KEYS) + b"\n")
                        written += 1
    return written


def copies_of(resource: dict, copies: int) -> Iterator[dict]:
    """The resource itself, then (unless shared) renamed copies 1 … copies-1."""
    yield resource
    if resource.get("resourceType") in SHARED_TYPES:
        return
    for copy in range(1, copies):
        renamed = renamed_references(resource, f"-r{copy}")
        if "id" in resource:
            renamed["id"] = f"{resource['id']}-r{copy}"
        yield renamed


def renamed_references(value, suffix: str):
    """A deep copy with `suffix` added to every reference that does not point at a shared type."""
    if isinstance(value, dict):
        return {
            key: item + suffix
            if key == "reference" and isinstance(item, str) and own_reference(item)
            else renamed_references(item, suffix)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [renamed_references(item, suffix) for item in value]
    return value


def own_reference(reference: str) -> bool:
    """A relative reference to a resource of the patient's own (not a shared type)."""
    kind, _, rest = reference.partition("/")
    return bool(rest) and kind not in SHARED_TYPES


def export_size(export: Path) -> tuple[int, float]:
    """The resources (non-blank lines) and megabytes of an export's NDJSON files."""
    files = sorted(export.glob("*.ndjson"))
    resources = 0
    for path in files:
        with path.open("rb") as lines:
            resources += sum(1 for line in lines if line.strip())
    return resources, sum(path.stat().st_size for path in files) / 1e6


def summarize(
    engine: str, copies: int, workers: int, resources: int, megabytes: float, runs: list[Run]
) -> Row:
    """A row from its runs: worst, median and best resources/s (wall clock and per CPU second)."""
    wall = sorted(resources / run.seconds for run in runs)
    cpu = sorted(resources / run.cpu_seconds for run in runs)
    return Row(
        engine=engine,
        copies=copies,
        workers=workers,
        resources=resources,
        megabytes=round(megabytes, 1),
        runs=len(runs),
        resources_per_s=(wall[0], statistics.median(wall), wall[-1]),
        resources_per_cpu_s=(cpu[0], statistics.median(cpu), cpu[-1]),
        peak_mb=max(run.peak_mb for run in runs),
        worker_peak_mb=max(run.worker_peak_mb for run in runs),
        cases=runs[0].cases,
    )


def table(rows: list[Row]) -> str:
    """The rows as a plain-text table."""
    header = (
        f"{'engine':<7} {'size':>5} {'workers':>7} {'resources':>10} {'MB':>6}  "
        f"{'resources/s (worst-median-best)':<32} {'per CPU s (median)':>18} "
        f"{'peak MB':>8} {'worker MB':>9}"
    )
    return "\n".join([header, *(row_text(row) for row in rows)]) + (
        f"\ntarget: {TARGET:,} resources/s on one core (wall clock of 1 worker on an idle machine)"
    )


def row_text(row: Row) -> str:
    """One table line."""
    worst, median, best = row.resources_per_s
    span = f"{worst:,.0f}-{median:,.0f}-{best:,.0f}"
    return (
        f"{row.engine:<7} {row.copies:>4}x {row.workers:>7} {row.resources:>10,} "
        f"{row.megabytes:>6.1f}  {span:<32} {row.resources_per_cpu_s[1]:>18,.0f} "
        f"{row.peak_mb:>8.0f} {row.worker_peak_mb:>9.0f}"
    )


def write_results(path: Path, rows: list[Row]) -> None:
    """Write the rows and the machine they ran on as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "outcomes",
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "target_resources_per_s": TARGET,
        "rows": [asdict(row) for row in rows],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
