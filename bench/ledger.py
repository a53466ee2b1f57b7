"""Benchmark the CME ledger: durable credit writes per second and verifying a 100,000-record chain.

Run: `make bench`, or `.venv/bin/python -m bench ledger [--dir DIR] [--quick]`.

Every write is a real exactly-once submission (idempotency key, chain head, hash, INSERT) committed
with synchronous=FULL, so each acknowledged write survives power loss. The disk's fsync latency
bounds one sequential writer (one sync per write); concurrent submitters in one process share a
sync through group commit. DIR must be on the disk the ledger will use (not tmpfs): the numbers
are meaningless on a RAM disk.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from app.database import DatabaseUrl
from app.ledger.chain import GENESIS, RECORD_COLUMNS, canonical_json, seal, timestamp
from app.ledger.credit import finish_case
from app.ledger.rules import CreditPolicy
from app.ledger.store import INSERT_RECORD, SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain

KEY = b"bench-identity-key"
LEARNERS = 200
WRITES_PER_LEARNER = 40  # 40 writes of 0.25 credit = 10, half the default yearly cap of 20
WRITE_TARGET = 1_000  # writes/s, single writer
VERIFY_TARGET = 5.0  # seconds for 100,000 records
POLICY = CreditPolicy()  # the default rules: a yearly cap, read from the held credits
T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def main(argv: list[str]) -> int:
    """Run every measurement and print one line each, with its ratio to the target."""
    options = parse_arguments(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-ledger-", dir=options.dir))
    scale = 0.25 if options.quick else 1.0
    try:
        print(f"ledger benchmark in {root} ({filesystem_of(root)}), {os.cpu_count()} CPUs")
        fsync_ms = fsync_latency_ms(root)
        print(
            f"  disk fsync latency                  {fsync_ms:8.2f} ms  "
            f"(floor for 1 sequential writer: {1000 / fsync_ms:,.0f}/s)"
        )
        report_writes(root, "single writer, 1 submitter        ", 1, 1, int(2000 * scale))
        report_writes(root, "single writer, 16 threads          ", 1, 16, int(8000 * scale))
        report_writes(root, "4 processes, 1 submitter each      ", 4, 1, int(1000 * scale))
        report_writes(root, "4 processes, 8 threads each        ", 4, 8, int(2000 * scale))
        report_verify(root, 100_000)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Read --dir and --quick."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="folder on the ledger's disk (default: temp)")
    parser.add_argument("--quick", action="store_true", help="fewer writes (a smoke run)")
    return parser.parse_args(argv)


def report_writes(root: Path, label: str, processes: int, threads: int, per_process: int):
    """Measure durable submissions per second and print them against the target."""
    run = measure_writes(root / f"writes-{processes}x{threads}.db", processes, threads, per_process)
    print(
        f"  {label} {run.rate:8,.0f} writes/s  ({run.rate / WRITE_TARGET:.2f}x the 1,000/s target; "
        f"{run.writes_per_sync:.1f} writes per sync; "
        f"chain {'intact' if run.chain_ok else 'BROKEN'}, {run.checked:,} records)"
    )


@dataclass(frozen=True)
class WriteRun:
    """What one write measurement saw: submissions/s, how many shared a sync, the chain after."""

    rate: float
    writes_per_sync: float
    chain_ok: bool
    checked: int
    lock_ms_per_write: float  # the writer's lock held (chain lock on PostgreSQL), per write
    cpu_ms_per_write: float  # the submitting processes' CPU (Bedside's side), per write
    server_cpu_ms_per_write: float = 0.0  # the database server's CPU over the writes alone


def measure_writes(
    where: Path | DatabaseUrl,
    processes: int,
    threads: int,
    per_process: int,
    server_cpu_seconds: Callable[[], float] = lambda: 0.0,
) -> WriteRun:
    """Submit per_process credits from each of processes processes (threads each) at once.

    server_cpu_seconds reads the database server's CPU clock: it is read after the setup
    (migrations, learners, the attempts started) and before the chain's verification, so only
    the writes count.
    """
    learners = prepare(where, learner_count(processes * per_process))
    tags = [f"p{n}" for n in range(processes)]
    attempts = start_attempts(where, learners, tags, per_process)
    server_before = server_cpu_seconds()
    start_at = time.time() + (3.0 if processes > 1 else 0.0)  # after every process has started
    arguments = [(where, learners, attempts[tag], threads, tag, start_at) for tag in tags]
    if processes == 1:
        results = [write_many(*arguments[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.starmap(write_many, arguments)
    server_ms = (server_cpu_seconds() - server_before) * 1000 / (processes * per_process)
    elapsed = max(run.end for run in results) - min(run.start for run in results)
    batches = sum(run.batches for run in results)
    total = processes * per_process
    check = verify_file(where)
    locked = sum(run.locked_seconds for run in results) * 1000 / total
    cpu = sum(run.cpu_seconds for run in results) * 1000 / total
    return WriteRun(
        total / elapsed, total / batches, check.ok, check.checked, locked, cpu, server_ms
    )


@dataclass(frozen=True)
class HostRun:
    """One submitting process's share: when it ran, its transactions, lock time and CPU."""

    start: float
    end: float
    batches: int
    locked_seconds: float
    cpu_seconds: float


def learner_count(writes: int) -> int:
    """Enough learners that none reaches the yearly credit cap (each write is 0.25 of 20 a year)."""
    return max(LEARNERS, -(-writes // WRITES_PER_LEARNER))


def prepare(where: Path | DatabaseUrl, learners: int = LEARNERS) -> list[str]:
    """Create a ledger (a SQLite file or an empty PostgreSQL database) with some learners."""
    store = SqlLedgerStore(ledger_database(where), KEY)
    try:
        return [
            store.ensure_learner("https://ehr.example/fhir", f"Practitioner/{n}")
            for n in range(learners)
        ]
    finally:
        store.close()


def start_attempts(
    where: Path | DatabaseUrl, learners: list[str], tags: list[str], count: int
) -> dict[str, list[str]]:
    """Start count case attempts for each tag's writes (setup, before any clock runs)."""
    store = SqlLedgerStore(ledger_database(where), KEY, migrate=False)
    try:
        started: dict[str, list[str]] = {}
        for tag in tags:
            started[tag] = [str(uuid.uuid4()) for _ in range(count)]
            for number, attempt_id in enumerate(started[tag]):
                activity = ("case", case_module(tag, number)["id"], "1.0.0")
                store.record_attempt(learners[number % len(learners)], activity, attempt_id, T0)
        return started
    finally:
        store.close()


def write_many(
    where: Path | DatabaseUrl,
    learners: list[str],
    attempts: list[str],
    threads: int,
    tag: str,
    start_at: float,
) -> HostRun:
    """Finish the started case attempts and claim their credit from several threads.

    Each write is `finish_case`, the app's path for a passed case: the attempt completed and its
    credit decided by the credit rules (which read the learner's credits held that year) and
    appended, in one exactly-once submission.
    """
    store = SqlLedgerStore(ledger_database(where), KEY, migrate=False)
    time.sleep(max(0.0, start_at - time.time()))

    def submit(number: int) -> None:
        module = case_module(tag, number)
        key = f"{tag}-{number}"
        assert finish_case(store, POLICY, module, attempts[number], 4, 4, key).created

    try:
        start, cpu = time.time(), time.process_time()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(submit, range(len(attempts))))
        writer = store._writer
        cpu = time.process_time() - cpu
        return HostRun(start, time.time(), writer.batches, writer.locked_seconds, cpu)
    finally:
        store.close()


def case_module(tag: str, number: int) -> dict:
    """A small case module of its own for each write (a case earns its credit once)."""
    return {
        "id": f"module-{tag}-{number}",
        "version": "1.0.0",
        "pass_mark_percent": 75,
        "credit": [{"type": "ama-pra-category-1", "amount": "0.25"}],
    }


def report_verify(root: Path, count: int) -> None:
    """Build a chain of count records in bulk, then time a full verification."""
    path = root / "verify.db"
    learners = prepare(path)
    build_chain(path, learners, count)
    start = time.perf_counter()
    report = verify_file(path)
    elapsed = time.perf_counter() - start
    assert report.ok and report.checked == count, report
    print(
        f"  verify {count:,} records              {elapsed:8.2f} s        "
        f"({VERIFY_TARGET / elapsed:.1f}x faster than the 5 s target; "
        f"{count / elapsed:,.0f} records/s)"
    )


def build_chain(path: Path, learners: list[str], count: int) -> None:
    """Append count hash-chained records in one transaction (setup only, not measured)."""
    store = SqlLedgerStore(ledger_database(path), KEY, migrate=False)
    prev_hash, rows = GENESIS, []
    stamp = timestamp(T0)
    for sequence in range(1, count + 1):
        record = seal(
            prev_hash,
            sequence=sequence,
            kind="credit",
            learner_id=learners[sequence % len(learners)],
            activity_key=f"case:module-{sequence}@1.0.0",
            activity_type="case",
            module_id=f"module-{sequence}",
            module_version="1.0.0",
            attempt_id=str(uuid.UUID(int=sequence)),
            credit_type="ama-pra-category-1",
            amount_hundredths=25,
            designated_hundredths=25,
            earned_at=stamp,
            evidence=canonical_json({"correct": 4, "total": 4, "pass_mark_percent": 75}),
            reverses=None,
            reason=None,
            idempotency_hash=f"{sequence:064x}",
            recorded_at=stamp,
        )
        rows.append({name: getattr(record, name) for name in RECORD_COLUMNS})
        prev_hash = record.record_hash
    with store.database.write() as connection:
        connection.execute(text(INSERT_RECORD), rows)
    store.close()


def verify_file(where: Path | DatabaseUrl):
    """Verify a ledger (file or database) with a key-less store."""
    store = SqlLedgerStore(ledger_database(where), None, migrate=False)
    try:
        return verify_chain(store)
    finally:
        store.close()


def fsync_latency_ms(root: Path, rounds: int = 200) -> float:
    """Measure the disk's write+fdatasync latency (the cost of one durable commit)."""
    probe = root / "fsync.probe"
    descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        start = time.perf_counter()
        for _ in range(rounds):
            os.write(descriptor, b"x" * 4096)
            os.fdatasync(descriptor)
        return (time.perf_counter() - start) / rounds * 1000
    finally:
        os.close(descriptor)
        probe.unlink()


def filesystem_of(path: Path) -> str:
    """Name the filesystem type a path is on (Linux), to spot a RAM disk."""
    best, kind = "", "unknown filesystem"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    for line in mounts:
        _, mount_point, fs_type, *_ = line.split()
        if str(path.resolve()).startswith(mount_point) and len(mount_point) > len(best):
            best, kind = mount_point, fs_type
    return kind


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
