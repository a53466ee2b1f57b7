"""Benchmark the Spark engine in local mode: resources/s and peak memory by export size.

Run: `.venv/bin/python -m bench outcomes-spark [--sizes 1,10,50] [--master local[2]]`.

The export is the synthetic dataset replicated N times (`write_replicated_export`): every copy's
patients and their resources get their own ids, clinicians stay shared, and each medicine is a
shared Medication resource referenced by id, so Spark's join of Medications is exercised. Each
size runs in a fresh process (its own JVM); peak memory is the whole process tree's (driver
Python, JVM, Python workers), sampled from /proc. Figures, not a gate: exit 0 when it ran.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from app.devtools.synthetic.dataset import generate_dataset
from app.outcomes.bulk import patient_id_of

SHARED_TYPES = {"Practitioner", "PractitionerRole", "Organization", "Location", "Medication"}
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
RESULTS = Path(__file__).resolve().parent / "results" / "outcomes_spark.json"


def main(argv: list[str]) -> int:
    """Measure each size in its own process and print a table; write the figures as JSON."""
    options = parse_arguments(argv)
    if options.one:
        print(json.dumps(run_once(Path(options.one), options.master)))
        return 0
    root = Path(tempfile.mkdtemp(prefix="bench-outcomes-spark-", dir=options.dir))
    rows = []
    try:
        for copies in options.sizes:
            export = root / f"x{copies}"
            resources = write_replicated_export(export, copies)
            rows.append(measure(export, copies, resources, options.master))
            shutil.rmtree(export, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(table(rows, options.master))
    options.output.parent.mkdir(parents=True, exist_ok=True)
    figures = {"engine": "spark", "master": options.master, "cpus": os.cpu_count(), "rows": rows}
    options.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Read --sizes, --master, --dir, --output (and --one, the child's own run)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes, default=[1, 10, 50], help="copies, e.g. 1,10,50")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--dir", default=None, help="folder for the exports (default: temp)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON figures file")
    parser.add_argument("--one", metavar="DIR", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def sizes(text: str) -> list[int]:
    """'1,10,50' -> [1, 10, 50]."""
    return [int(part) for part in text.split(",") if part.strip()]


def write_replicated_export(directory: Path, copies: int) -> int:
    """Write the synthetic export `copies` times over (own patient ids per copy); return its lines.

    Clinicians and the Medications stay shared: each medicine is written once as a Medication and
    referenced by id, so the measures' numbers are exactly `copies` times the dataset's.
    """
    directory.mkdir(parents=True, exist_ok=True)
    dataset = generate_dataset()
    files: dict[str, IO[str]] = {}
    medications: dict[str, dict] = {}
    written = 0
    try:
        for copy in range(copies):
            for resource in dataset.resources():
                if patient_id_of(resource) is None and copy:
                    continue
                renamed = copy_of(resource, f"c{copy}-" if copy else "", medications)
                write_line(files, directory, renamed)
                written += 1
        for medication in medications.values():
            write_line(files, directory, medication)
            written += 1
    finally:
        for handle in files.values():
            handle.close()
    return written


def copy_of(resource: dict, prefix: str, medications: dict[str, dict]) -> dict:
    """A patient resource with prefixed ids and references, its medicine referenced by id."""
    renamed = renamed_references(resource, prefix)
    if prefix and patient_id_of(resource) is not None and "id" in renamed:
        renamed["id"] = prefix + renamed["id"]
    concept = renamed.pop("medicationCodeableConcept", None)
    if concept is not None:
        medication_id = medication_id_for(concept)
        medications.setdefault(
            medication_id, {"resourceType": "Medication", "id": medication_id, "code": concept}
        )
        renamed["medicationReference"] = {"reference": f"Medication/{medication_id}"}
    return renamed


def medication_id_for(concept: dict) -> str:
    """A stable Medication id for a medicine concept."""
    digest = hashlib.sha256(json.dumps(concept, sort_keys=True).encode()).hexdigest()
    return f"med-{digest[:12]}"


def renamed_references(value: object, prefix: str) -> object:
    """The value with every relative reference to a patient's resource prefixed."""
    if isinstance(value, dict):
        return {
            key: renamed_reference(item, prefix)
            if key == "reference"
            else renamed_references(item, prefix)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [renamed_references(item, prefix) for item in value]
    return value


def renamed_reference(reference: object, prefix: str) -> object:
    """'Encounter/e1' -> 'Encounter/<prefix>e1'; shared types and other forms stay as they are."""
    if not prefix or not isinstance(reference, str) or reference.count("/") != 1:
        return reference
    kind, _, logical_id = reference.partition("/")
    return reference if kind in SHARED_TYPES else f"{kind}/{prefix}{logical_id}"


def write_line(files: dict[str, IO[str]], directory: Path, resource: dict) -> None:
    """Append a resource to its type's NDJSON file."""
    kind = resource["resourceType"]
    if kind not in files:
        files[kind] = (directory / f"{kind}.ndjson").open("w", encoding="utf-8")
    files[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")


def measure(export: Path, copies: int, resources: int, master: str) -> dict:
    """Run one size in a child process; its timings plus the process tree's peak memory."""
    command = [sys.executable, "-m", "bench.outcomes_spark", "--one", str(export)]
    child = subprocess.Popen(
        [*command, "--master", master], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    peak = PeakMemory(child.pid)
    peak.start()
    output, _ = child.communicate()
    peak.stop()
    if child.returncode != 0:
        return {"copies": copies, "resources": resources, "error": f"exit {child.returncode}"}
    run = json.loads(output)
    return {
        "copies": copies,
        "resources": resources,
        **run,
        "resources_per_s": round(resources / run["compute_s"]),
        "peak_rss_mb": round(peak.peak_bytes / 2**20),
    }


def run_once(export: Path, master: str) -> dict:
    """In the child: start Spark, compute the measures twice (cold, then warm), time each."""
    from app.library.measure_definitions import load_measures
    from app.outcomes.outcomes_commands import DEFAULT_CONTENT
    from app.outcomes.spark_engine import cases_on, spark_session

    definitions = list(load_measures(DEFAULT_CONTENT).values())
    started = time.perf_counter()
    with spark_session(master) as spark:
        ready = time.perf_counter()
        cases = cases_on(spark, str(export), definitions, as_of=AS_OF)
        cold = time.perf_counter()
        cases_on(spark, str(export), definitions, as_of=AS_OF)
        warm = time.perf_counter()
    return {
        "start_s": round(ready - started, 2),
        "first_compute_s": round(cold - ready, 2),
        "compute_s": round(warm - cold, 2),
        "cases": len(cases),
    }


class PeakMemory:
    """Samples the resident memory of a process and all its descendants until stopped."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval, self.peak_bytes = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        """Start sampling in a thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        """Keep the largest tree total seen."""
        while not self._stop.wait(self.interval):
            self.peak_bytes = max(self.peak_bytes, tree_rss(self.pid))


def tree_rss(root: int) -> int:
    """Resident bytes of a process and its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        members.update(children)
        frontier.extend(children)
    return sum(rss_of(pid) for pid in members)


def rss_of(pid: int) -> int:
    """One process's resident bytes (0 when it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def table(rows: list[dict], master: str) -> str:
    """The figures as a plain-text table."""
    lines = [
        f"Spark local mode ({master}), synthetic export replicated; the first compute warms the"
        " JVM and workers, resources/s are the second (warm) one's",
        f"  {'size':>5} {'resources':>10} {'start s':>8} {'first s':>8} {'warm s':>7} "
        f"{'resources/s':>12} {'peak MB':>8}",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"  {row['copies']:>4}x {row['resources']:>10,} {row['error']}")
            continue
        lines.append(
            f"  {row['copies']:>4}x {row['resources']:>10,} {row['start_s']:>8.1f} "
            f"{row['first_compute_s']:>8.1f} {row['compute_s']:>7.1f} "
            f"{row['resources_per_s']:>12,} {row['peak_rss_mb']:>8,}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
