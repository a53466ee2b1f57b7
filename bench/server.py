"""Start the production server (`bedside serve`, gunicorn) on loopback and always stop it."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class ServerFailed(RuntimeError):
    """The server did not come up; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """One running `bedside serve` process (gunicorn master) and what it took to start."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    startup_seconds: float = 0.0
    _log: object = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the gunicorn master and its live workers."""
        pids = [self.process.pid, *child_pids(self.process.pid)]
        return sum(process_cpu_seconds(pid) for pid in pids)

    def stop(self) -> None:
        """Stop gunicorn gracefully; kill its process group if it does not go within 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def start_server(
    name: str,
    env: dict[str, str],
    workdir: Path,
    *,
    workers: int = 2,
    threads: int = 2,
    timeout: float = 600,
) -> Server:
    """Run `bedside serve` with exactly env; return once /healthz answers (else ServerFailed)."""
    port = free_port()
    log_path = workdir / f"server-{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by Server.stop
    bedside = Path(sys.executable).with_name("bedside")
    command = [
        str(bedside),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches only us; we stop the server ourselves
    )
    server = Server(name, port, process, log_path, _log=log)
    try:
        wait_healthy(server, timeout, workers)
    except BaseException:
        server.stop()
        raise
    server.startup_seconds = time.perf_counter() - started
    return server


def wait_healthy(server: Server, timeout: float, workers: int) -> None:
    """Poll /healthz until every worker has booted and it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(f"{server.name} server exited:\n{server.log_tail()}")
        booted = len(child_pids(server.process.pid)) >= workers
        if booted and all(healthz(server.port) for _ in range(workers * 2)):
            return
        time.sleep(0.25)
    raise ServerFailed(
        f"{server.name} server not healthy after {timeout:.0f} s:\n{server.log_tail()}"
    )


def healthz(port: int) -> bool:
    """True when GET /healthz answers 200."""
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def child_pids(parent: int) -> list[int]:
    """The pids whose parent is `parent` (Linux /proc; empty elsewhere)."""
    children = []
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    for pid in pids:  # a process may exit between the listing and the read: skip it
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            children.append(pid)
    return children


def process_cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime of one process, with its exited children's if asked (Linux /proc; else 0)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    used = int(fields[11]) + int(fields[12])
    if reaped_children:
        used += int(fields[13]) + int(fields[14])
    return used / CLOCK_TICKS
