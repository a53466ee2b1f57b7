"""Real `bedside serve` hosts for multi-host tests: each its own process group on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.app.test_serve import BEDSIDE, free_port, wait_until_up

SHARED_KEYS = {  # hosts share their keys (docs/deploy.md): same learner ids, same CDS hashes
    "BEDSIDE_SECRET_KEY": "multihost-secret",
    "BEDSIDE_LEDGER_IDENTITY_KEY": "multihost-ledger-identity",
    "BEDSIDE_CDS_IDENTITY_KEY": "multihost-cds-identity",
    "BEDSIDE_SMART_TOKEN_KEY": "multihost-smart-token",
}


@dataclass(frozen=True)
class Host:
    """A running host: its base URL and its gunicorn master (leader of its process group)."""

    url: str
    process: subprocess.Popen

    def kill(self) -> None:
        """Crash the host: SIGKILL to the master and its workers at once, as a lost machine."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def bedside_host(
    folder: Path, database_url: str, *, public_url: str | None = None, threads: int = 2
) -> Iterator[Host]:
    """Run `bedside serve` (demo mode, one worker) on a free port; yield the running host.

    Without a public URL the demo trusts only the host's own loopback address, so each host is
    its own demo EHR (issuer, authorisation server and FHIR server).
    """
    folder.mkdir()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")},
        **SHARED_KEYS,
        "BEDSIDE_DEMO": "1",
        "BEDSIDE_DATABASE_URL": database_url,
        "BEDSIDE_DATABASE": str(folder / "bedside.db"),  # this host's own file (demo EHR)
        **({"BEDSIDE_PUBLIC_BASE_URL": public_url} if public_url else {}),
    }
    command = [str(BEDSIDE), "serve", "--port", str(port), "--workers", "1"]
    with open(folder / "server.log", "w") as log:
        server = subprocess.Popen(
            [*command, "--threads", str(threads)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a crash takes the workers too
        )
    host = Host(f"http://127.0.0.1:{port}", server)
    try:
        wait_until_up(host.url, server)
        yield host
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
