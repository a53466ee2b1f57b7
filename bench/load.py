"""A small closed-loop load generator: N client threads, one keep-alive connection each."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class PhaseStats:
    """Latencies and wall time of one kind of call, accumulated over the rounds of a run."""

    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    wall_seconds: float = 0.0
    server_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    machine_busy_seconds: float = 0.0
    round_throughputs: list[float] = field(default_factory=list)

    def add(self, batch: Batch) -> None:
        """Fold one round's batch into the totals."""
        self.latencies.extend(batch.latencies)
        self.statuses.update(batch.statuses)
        self.wall_seconds += batch.wall_seconds
        wall = batch.wall_seconds
        self.round_throughputs.append(len(batch.latencies) / wall if wall else 0.0)

    def summary(self) -> dict:
        """Percentiles (ms), throughput (req/s) and CPU per request (ms)."""
        ordered = sorted(self.latencies)
        count = len(ordered)
        per_request = 1000 / count if count else 0.0
        foreign = self.machine_busy_seconds - self.server_cpu_seconds - self.client_cpu_seconds
        capacity = self.wall_seconds * (os.cpu_count() or 1)
        return {
            "requests": count,
            "errors": count - self.statuses.get(200, 0),
            "statuses": {str(status): n for status, n in sorted(self.statuses.items())},
            "p50_ms": percentile(ordered, 50),
            "p90_ms": percentile(ordered, 90),
            "p99_ms": percentile(ordered, 99),
            "max_ms": ordered[-1] * 1000 if ordered else 0.0,
            "mean_ms": sum(ordered) / count * 1000 if count else 0.0,
            "throughput_rps": count / self.wall_seconds if self.wall_seconds else 0.0,
            "wall_seconds": self.wall_seconds,
            "round_throughputs_rps": self.round_throughputs,
            "server_cpu_ms_per_request": self.server_cpu_seconds * per_request,
            "client_cpu_ms_per_request": self.client_cpu_seconds * per_request,
            # CPU that neither the servers nor the load generator used: other work on the machine
            "other_cpu_share": max(0.0, foreign / capacity) if capacity else 0.0,
        }


@dataclass
class Batch:
    """What one burst of requests measured."""

    latencies: list[float]
    statuses: Counter
    wall_seconds: float


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of sorted seconds, in milliseconds."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1] * 1000


def run_batch(
    host: str, port: int, path: str, requests: list[tuple[str, bytes]], concurrency: int
) -> Batch:
    """Send every (token, body) POST with `concurrency` clients; time each one and the burst."""
    latencies: list[float] = [0.0] * len(requests)
    statuses: list[int] = [0] * len(requests)
    ticket = itertools.count()
    gate = threading.Barrier(concurrency + 1, timeout=60)

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        # Connect before the clock starts; if it fails, the first request tries again.
        with contextlib.suppress(OSError):
            connection.connect()
        gate.wait()
        try:
            while (number := next(ticket)) < len(requests):
                token, body = requests[number]
                headers = {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Accept-Language": "en",
                }
                started = time.perf_counter()
                try:
                    connection.request("POST", path, body, headers)
                    response = connection.getresponse()
                    response.read()
                    statuses[number] = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()  # reconnects on the next request
                    statuses[number] = -1
                latencies[number] = time.perf_counter() - started
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return Batch(latencies, Counter(statuses), wall)


def measure(stats: PhaseStats, cpu_of_server, run) -> None:
    """Run one batch, adding its latencies and the CPU the server, this client and all spent."""
    server_before, client_before, busy_before = cpu_of_server(), client_cpu(), machine_busy()
    stats.add(run())
    stats.machine_busy_seconds += machine_busy() - busy_before
    stats.server_cpu_seconds += cpu_of_server() - server_before
    stats.client_cpu_seconds += client_cpu() - client_before


def client_cpu() -> float:
    """CPU seconds used so far by this (load generator) process."""
    times = os.times()
    return times.user + times.system


def machine_busy() -> float:
    """CPU seconds all CPUs have spent busy since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS
