"""Real `bedside serve` processes for tests: a free loopback port, a chosen environment, a log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

BEDSIDE = Path(sys.executable).with_name("bedside")
POLL_SECONDS = 0.05  # between /healthz probes while the workers boot


def free_port() -> int:
    """Ask the OS for a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base_url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    """Poll /healthz until it answers or the server dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited early with {server.returncode}")
        try:
            with requests.get(f"{base_url}/healthz", timeout=1) as response:
                if response.status_code == 200:
                    return
        except (requests.ConnectionError, requests.Timeout):  # workers still booting
            time.sleep(POLL_SECONDS)
    raise AssertionError("server did not come up")


def wait_for_log_text(log_path: Path, text: str, seconds: float = 10) -> None:
    """Poll a server's log until it holds text (e.g. an access-log line written after a reply)."""
    deadline = time.monotonic() + seconds
    while text not in log_path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} did not reach {log_path.name} in {seconds:.0f} s")
        time.sleep(POLL_SECONDS)


def environment_without(*prefixes: str) -> dict[str, str]:
    """This process's environment without the variables starting with any of the prefixes."""
    return {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}


@dataclass(frozen=True)
class ServedBedside:
    """A running `bedside serve`: its base URL, its gunicorn master and its log."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def kill(self) -> None:
        """Crash it: SIGKILL to the master and its workers at once, as a lost machine."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def served_bedside(
    settings: Mapping[str, str],
    log_path: Path,
    *,
    workers: int = 2,
    threads: int | None = None,
    not_inherited: tuple[str, ...] = ("BEDSIDE_",),
) -> Iterator[ServedBedside]:
    """Run `bedside serve` with these settings (no inherited BEDSIDE_*); stop it afterwards.

    The server runs in its own process group, so `kill()` takes its workers down with it.
    """
    command = [str(BEDSIDE), "serve", "--port", str(free_port()), "--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    environment = {**environment_without(*not_inherited), **settings}
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            command,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = ServedBedside(f"http://127.0.0.1:{command[3]}", server, log_path)
    try:
        wait_until_up(served.url, server)
        yield served
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
