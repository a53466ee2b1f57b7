"""Benchmark `outcomes compute --ndjson`: resources/s and peak memory by engine, workers and size.

Run: `.venv/bin/python -m bench outcomes [--copies 1,10,50] [--workers 1,4] [--repeat 3]
[--engine local|spark] [--routine N]`.

The synthetic Bulk export (`app/devtools/synthetic`) is replicated 1x, 10x and 50x by
`replicate_export` (new patients with the same charts per copy, medicines as shared Medication
resources), so the exact answers scale with the copies. `--routine N` adds N routine vital signs
and labs per patient (`app/devtools/synthetic/routine.py`), the bulk of a real export that no
measure reads: its rows show what the engines' value-set gate saves; the target is judged
without them. Each run is a fresh child process (`python -m bench.outcomes --child ENGINE EXPORT
WORKERS`); the engine times its own compute and the CPU its whole process tree spent on it, and
the parent samples the tree's resident memory.
Figures, not timed tests: nothing is asserted.

Engines: `ENGINES` names each engine's entry point as "module:function" taking (export, workers)
and returning a `Timing`. The local engine runs at every --workers count; Spark (local mode,
`local[N]`) at the largest one only, and only where pyspark and Java are installed.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.devtools.synthetic.bulk_export import write_bulk_ndjson
from app.devtools.synthetic.dataset import generate_dataset
from app.devtools.synthetic.replicate import replicate_export
from app.devtools.synthetic.routine import add_routine_data
from bench.server import child_pids, process_cpu_seconds

RESULTS = Path(__file__).resolve().parent / "results" / "outcomes.json"
CONTENT = Path(__file__).resolve().parents[1] / "content"
AS_OF = "2026-11-01"
TARGET = 100_000  # resources per second on one core (issue #21)
ENGINES = {"local": "bench.outcomes:run_local", "spark": "bench.outcomes:run_spark"}
#: Engines measured at the largest --workers count only (Spark's local[N] spreads over N cores).
LARGEST_WORKERS_ONLY = frozenset({"spark"})
SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Timing:
    """What an engine's entry point measured: its cases, compute seconds and CPU, start-up."""

    cases: int
    seconds: float
    cpu_seconds: float
    startup_seconds: float = 0.0


@dataclass(frozen=True)
class Run:
    """One child process's figures."""

    seconds: float
    cpu_seconds: float
    startup_seconds: float
    peak_mb: float
    tree_peak_mb: float
    cases: int


@dataclass(frozen=True)
class Row:
    """An engine at one size and worker count over `repeat` runs: best, median and worst."""

    engine: str
    copies: int
    routine: int  # routine results added per patient
    workers: int
    resources: int
    megabytes: float
    runs: int
    resources_per_s: tuple[float, float, float]  # worst, median, best
    resources_per_cpu_s: tuple[float, float, float]
    startup_seconds: float  # median
    peak_mb: float
    tree_peak_mb: float
    cases: int


def main(argv: list[str]) -> int:
    """Build the replicated exports, run every engine row, print the table and write the JSON."""
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    options = parse_arguments(argv)
    engines = available(options.engines)
    root = work_directory(options.dir)
    try:
        exports = {copies: replicated(root, copies, options.routine) for copies in options.copies}
        rows = [
            row
            for engine in engines
            for row in engine_rows(
                engine,
                exports,
                worker_counts(engine, options.workers),
                options.repeat,
                options.routine,
            )
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
    parser.add_argument(
        "--engine", dest="engines", action="append", choices=sorted(ENGINES), help="default: all"
    )
    parser.add_argument(
        "--routine",
        type=count_at_least_zero,
        default=0,
        help="routine vital signs and labs added per patient",
    )
    parser.add_argument("--dir", type=Path, help="where the exports and spools go")
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args(argv)
    options.engines = options.engines or list(ENGINES)
    options.workers = sorted(set(options.workers))
    return options


def work_directory(parent: Path | None) -> Path:
    """A fresh directory for the exports and spools, under parent (created if missing)."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="bench-outcomes-", dir=parent))


def int_list(text: str) -> list[int]:
    """'1,10,50' as [1, 10, 50] (each at least 1)."""
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("give positive whole numbers, e.g. 1,10,50")
    return values


def count_at_least_zero(text: str) -> int:
    """A whole number of at least 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError("give a whole number, 0 or more")
    return value


def available(engines: list[str]) -> list[str]:
    """The engines this machine can run; the others are named with what they lack."""
    runnable = []
    for engine in engines:
        problem = spark_problem() if engine == "spark" else None
        if problem:
            print(f"bench outcomes: no {engine} rows: {problem}", flush=True)
        else:
            runnable.append(engine)
    return runnable


def spark_problem() -> str | None:
    """Why Spark cannot run here (no pyspark, no Java), or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'bedside[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (apt-get install openjdk-17-jre-headless)"
    return None


def worker_counts(engine: str, workers: list[int]) -> list[int]:
    """The --workers counts an engine is measured at."""
    return workers[-1:] if engine in LARGEST_WORKERS_ONLY else workers


def engine_rows(
    engine: str, exports: dict[int, Path], workers: list[int], repeat: int, routine: int = 0
) -> list[Row]:
    """One engine's rows: each export size with each worker count, `repeat` child runs each."""
    rows = []
    for copies, export in exports.items():
        resources, megabytes = export_size(export)
        for count in workers:
            runs = [run_child(engine, export, count) for _ in range(repeat)]
            rows.append(summarize(engine, copies, count, resources, megabytes, runs, routine))
            print(row_text(rows[-1]), flush=True)
    return rows


def run_child(engine: str, export: Path, workers: int) -> Run:
    """Run one engine once in a fresh child process, sampling its process tree's memory."""
    command = [sys.executable, "-m", "bench.outcomes", "--child", engine, str(export), str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = PeakMemory(process.pid)
    peak.start()
    output, errors = process.communicate()
    peak.stop()
    if process.returncode != 0:
        raise SystemExit(f"bench outcomes: the {engine} engine failed:\n{errors[-2000:]}")
    figures = json.loads(output.strip().splitlines()[-1])
    return Run(**figures, tree_peak_mb=peak.peak_bytes / 2**20)


def child(argv: list[str]) -> int:
    """In the child: run the engine on the export and print its figures as one JSON line."""
    engine, export, workers = argv[0], Path(argv[1]), int(argv[2])
    module_name, function_name = ENGINES[engine].split(":")
    timing = getattr(importlib.import_module(module_name), function_name)(export, workers)
    own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "seconds": timing.seconds,
        "cpu_seconds": timing.cpu_seconds,
        "startup_seconds": timing.startup_seconds,
        "peak_mb": own_peak_mb,
        "cases": timing.cases,
    }
    print(json.dumps(figures))
    return 0


def run_local(export: Path, workers: int) -> Timing:
    """The local engine as `outcomes compute --ndjson EXPORT --workers N` runs it.

    The clock covers spooling and evaluation, not loading the measure definitions.
    """
    from app.outcomes.parallel import evaluate_export

    definitions = measure_definitions()
    return measured(lambda: evaluate_export(definitions, export, as_of=as_of(), workers=workers))


def run_spark(export: Path, workers: int) -> Timing:
    """The Spark engine in local mode (`local[N]`) as `outcomes compute --engine spark` runs it.

    Start-up (JVM, SparkSession) is timed apart; the compute is the first one of the session,
    so it includes starting the Python workers, as every run of the command does.
    """
    from app.outcomes.spark_engine import cases_on, spark_session

    definitions = measure_definitions()
    started = time.perf_counter()
    with spark_session(f"local[{workers}]") as spark:
        startup = time.perf_counter() - started
        timing = measured(lambda: cases_on(spark, str(export), definitions, as_of=as_of()))
    return Timing(timing.cases, timing.seconds, timing.cpu_seconds, startup)


def measure_definitions() -> list:
    """The shipped measures."""
    from app.library.measure_definitions import load_measures

    return list(load_measures(CONTENT).values())


def as_of() -> datetime:
    """The instant the benchmark's data end."""
    return datetime.fromisoformat(AS_OF).replace(tzinfo=UTC)


def measured(compute: Callable[[], list]) -> Timing:
    """Run a compute; its cases, wall seconds and the CPU seconds this process tree spent."""
    cpu = tree_cpu_seconds(os.getpid())
    started = time.perf_counter()
    cases = compute()
    seconds = time.perf_counter() - started
    return Timing(len(cases), seconds, tree_cpu_seconds(os.getpid()) - cpu)


def process_tree(root: int) -> list[int]:
    """A process and its live descendants (Linux /proc)."""
    members, frontier = [root], [root]
    while frontier:
        children = child_pids(frontier.pop())
        members.extend(children)
        frontier.extend(children)
    return members


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds a process tree has used: live processes and the children they reaped.

    Worker processes that ended were reaped by their parent (the pool, the JVM), so their time
    is in that parent's counters; Spark's JVM and Python workers are alive until the end.
    """
    return sum(process_cpu_seconds(pid, reaped_children=True) for pid in process_tree(root))


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of a process tree (Linux /proc)."""
    return sum(rss_bytes(pid) for pid in process_tree(root))


def rss_bytes(pid: int) -> int:
    """One process's resident bytes (0 when it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Samples a process tree's resident memory in a thread until stopped; keeps the largest."""

    def __init__(self, pid: int):
        self.pid, self.peak_bytes = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        """Start sampling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        """Keep the largest total seen."""
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.pid))


def replicated(root: Path, copies: int, routine: int = 0) -> Path:
    """The synthetic export replicated `copies` times (medicines shared), plus routine results."""
    source = root / "synthetic"
    if not source.exists():
        write_bulk_ndjson(generate_dataset(), source)
    export = root / (f"x{copies}-routine{routine}" if routine else f"x{copies}")
    replicate_export(source, copies, export)
    if routine:
        add_routine_data(export, routine)
    return export


def export_size(export: Path) -> tuple[int, float]:
    """The resources (non-blank lines) and megabytes of an export's NDJSON files."""
    files = sorted(export.glob("*.ndjson"))
    resources = 0
    for path in files:
        with path.open("rb") as lines:
            resources += sum(1 for line in lines if line.strip())
    return resources, sum(path.stat().st_size for path in files) / 1e6


def summarize(
    engine: str,
    copies: int,
    workers: int,
    resources: int,
    megabytes: float,
    runs: list[Run],
    routine: int = 0,
) -> Row:
    """A row from its runs: worst, median and best resources/s (wall clock and per CPU second)."""
    wall = sorted(resources / run.seconds for run in runs)
    cpu = sorted(resources / run.cpu_seconds for run in runs)
    return Row(
        engine=engine,
        copies=copies,
        routine=routine,
        workers=workers,
        resources=resources,
        megabytes=round(megabytes, 1),
        runs=len(runs),
        resources_per_s=(wall[0], statistics.median(wall), wall[-1]),
        resources_per_cpu_s=(cpu[0], statistics.median(cpu), cpu[-1]),
        startup_seconds=statistics.median(run.startup_seconds for run in runs),
        peak_mb=max(run.peak_mb for run in runs),
        tree_peak_mb=max(run.tree_peak_mb for run in runs),
        cases=runs[0].cases,
    )


def table(rows: list[Row]) -> str:
    """The rows as a plain-text table, with a warning if two engines' cases differ at a size."""
    header = (
        f"{'engine':<7} {'size':>8} {'workers':>7} {'resources':>10} {'MB':>6}  "
        f"{'resources/s (worst-median-best)':<28} {'per CPU s (worst-median-best)':<28} "
        f"{'start s':>7} {'tree MB':>8} {'own MB':>7} {'cases':>8}"
    )
    notes = [
        f"target: {TARGET:,} resources/s on one core (wall clock of 1 worker on an idle machine,"
        " without --routine)",
        "tree MB: peak resident memory of the whole process tree (workers, JVM); own MB: the"
        " process that runs the command",
    ]
    for copies in sorted({row.copies for row in rows}):
        if len({row.cases for row in rows if row.copies == copies}) > 1:
            notes.append(f"WARNING: the engines' case counts differ at {copies}x")
    return "\n".join([header, *(row_text(row) for row in rows), *notes])


def row_text(row: Row) -> str:
    """One table line."""
    size = f"{row.copies}x" + (f"+{row.routine}r" if row.routine else "")
    return (
        f"{row.engine:<7} {size:>8} {row.workers:>7} {row.resources:>10,} "
        f"{row.megabytes:>6.1f}  {span(row.resources_per_s):<28} "
        f"{span(row.resources_per_cpu_s):<28} {row.startup_seconds:>7.1f} "
        f"{row.tree_peak_mb:>8.0f} {row.peak_mb:>7.0f} {row.cases:>8,}"
    )


def span(figures: tuple[float, float, float]) -> str:
    """worst-median-best, as whole numbers."""
    return "-".join(f"{figure:,.0f}" for figure in figures)


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
