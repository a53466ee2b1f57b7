"""Real `bedside serve` hosts for multi-host tests: each its own process group on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.serve import ServedBedside, served_bedside

SHARED_KEYS = {  # hosts share their keys (docs/deploy.md): same learner ids, same CDS hashes
    "BEDSIDE_SECRET_KEY": "multihost-secret",
    "BEDSIDE_LEDGER_IDENTITY_KEY": "multihost-ledger-identity",
    "BEDSIDE_CDS_IDENTITY_KEY": "multihost-cds-identity",
    "BEDSIDE_SMART_TOKEN_KEY": "multihost-smart-token",
}


@contextmanager
def bedside_host(
    folder: Path, database_url: str, *, public_url: str | None = None, threads: int = 2
) -> Iterator[ServedBedside]:
    """Run `bedside serve` (demo mode, one worker) on a free port; yield the running host.

    Without a public URL the demo trusts only the host's own loopback address, so each host is
    its own demo EHR (issuer, authorisation server and FHIR server).
    """
    folder.mkdir()
    settings = {
        **SHARED_KEYS,
        "BEDSIDE_DEMO": "1",
        "BEDSIDE_DATABASE_URL": database_url,
        "BEDSIDE_DATABASE": str(folder / "bedside.db"),  # this host's own file (demo EHR)
        **({"BEDSIDE_PUBLIC_BASE_URL": public_url} if public_url else {}),
    }
    with served_bedside(settings, folder / "server.log", workers=1, threads=threads) as host:
        yield host
