"""An independent FHIR R4 server (Medplum's router, in memory, on Node) started on loopback."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from app.devtools.fhir_server import FixtureFhirServer
from app.devtools.fhir_store import FixtureStore
from app.settings import REPO_ROOT

SERVER_DIR = Path(__file__).parent / "fhir_server"
PATIENTS_DIR = REPO_ROOT / "fhir_fixtures" / "patients"
TOKEN = "interop-ehr-token-5c1d"
START_SECONDS = 30.0
FHIR_JSON = "application/fhir+json"
TRANSACTION_UPDATES = 50  # Medplum refuses a transaction with more updates than this


class MedplumServer:
    """`node server.mjs` on a free loopback port; a context manager that stops it on exit."""

    def __init__(self, node: str, *, token: str | None = TOKEN):
        self.node = node
        self.token = token
        self.port: int | None = None
        self._process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        """The FHIR base URL, e.g. http://127.0.0.1:54321/fhir."""
        return f"http://127.0.0.1:{self.port}/fhir"

    def __enter__(self) -> MedplumServer:
        """Start the server and wait for its `listening <port>` line."""
        command = [self.node, "server.mjs", "--port", "0"]
        if self.token is not None:
            command += ["--token", self.token]
        self._stderr = tempfile.TemporaryFile("w+")  # a pipe nobody reads could fill and block
        self._process = subprocess.Popen(
            command, cwd=SERVER_DIR, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        try:
            self.port = self._wait_for_port()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and close its pipes."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._stderr.close()
        self._process = None

    def load(self, resources: Iterable[dict]) -> None:
        """PUT every resource (keeping its id) in FHIR transactions; fail on any error."""
        entries = [
            {
                "resource": resource,
                "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"},
            }
            for resource in resources
        ]
        for first in range(0, len(entries), TRANSACTION_UPDATES):
            self._transaction(entries[first : first + TRANSACTION_UPDATES])

    def _transaction(self, entries: list[dict]) -> None:
        """POST one transaction Bundle; every entry must answer 200 or 201."""
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        response = requests.post(
            self.base_url, json=bundle, headers=self.headers(FHIR_JSON), timeout=60
        )
        assert response.status_code == 200, response.text[:500]
        statuses = {entry["response"]["status"] for entry in response.json()["entry"]}
        assert statuses <= {"200", "201"}, statuses

    def headers(self, content_type: str | None = None) -> dict[str, str]:
        """Request headers with the bearer token (and a content type when given)."""
        headers = {"Accept": FHIR_JSON}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _wait_for_port(self) -> int:
        """Read stdout until the server prints its port; fail with its stderr if it dies."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=START_SECONDS):
                raise RuntimeError(f"the Medplum server did not start in {START_SECONDS:.0f} s")
        line = self._process.stdout.readline()
        if not line.startswith("listening "):
            self._process.wait(timeout=5)
            self._stderr.seek(0)
            raise RuntimeError(f"the Medplum server failed: {self._stderr.read()[-2000:]}")
        return int(line.split()[1])


def node_or_fail() -> str:
    """The node binary with the server's packages installed; FAIL under CI, else skip, if not."""
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "Node.js is not installed (apt-get install nodejs npm)"
    elif not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        problem = install_packages()
    if problem is None:
        return node
    message = f"interop tests need the Medplum FHIR server: {problem}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def install_packages() -> str | None:
    """Run `npm ci` in the server folder (as `make test` does); a reason when that fails."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed (apt-get install npm)"
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=SERVER_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        return f"`npm ci` in {SERVER_DIR} failed: {done.stderr.strip()[-500:]}"
    return None


def fixture_resources(now: datetime) -> Iterator[dict]:
    """Every resource of the fixture patients, time-shifted to `now` as the fixture server does."""
    store = FixtureStore.from_directory(PATIENTS_DIR, now=now)
    for resource_type in sorted(store.resource_types):
        yield from store.search(resource_type, [])


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary (the test fails under CI, or is skipped locally, without it)."""
    return node_or_fail()


@pytest.fixture(scope="session")
def story_now() -> datetime:
    """One clinical "now" for both servers, so their data are identical."""
    return datetime.now(UTC)


@pytest.fixture(scope="session")
def medplum(node, story_now) -> Iterator[MedplumServer]:
    """Medplum holding the fixture patients; it requires TOKEN."""
    with MedplumServer(node) as server:
        server.load(fixture_resources(story_now))
        yield server


@pytest.fixture(scope="session")
def fixture_server(story_now) -> Iterator[FixtureFhirServer]:
    """Bedside's own fixture FHIR server with the same patients and token, for comparison."""
    with FixtureFhirServer(PATIENTS_DIR, token=TOKEN, now=story_now) as server:
        yield server
