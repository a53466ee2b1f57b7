"""The CDS Hooks sandbox (the reference CDS client, vendored, built) driving a real `bedside serve`.

Everything runs on loopback: the sandbox's built files, the fixture FHIR server it reads (behind a
CORS wrapper, as a browser needs) and Bedside, trusting the sandbox by the README's ready entry.
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Response
from werkzeug.serving import make_server

from app.devtools.fhir_server import create_fhir_app
from app.settings import REPO_ROOT
from tests.support.serve import served_bedside

SANDBOX = REPO_ROOT / "third_party" / "cds-hooks-sandbox"
SANDBOX_BUILD = SANDBOX / "build"
PUBLISHED_JWKS = SANDBOX / ".well-known" / "jwks.json"
PATIENTS = REPO_ROOT / "fhir_fixtures" / "patients"
# Any fetch Bedside tries beyond loopback (e.g. of the sandbox's jku) fails: nothing may need it.
NO_NETWORK_BEYOND_LOOPBACK = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1",
}
INHERITED_NOT = (
    "BEDSIDE_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
)
README_ENTRY_INTRO = "A ready entry for the public CDS Hooks sandbox"


def pytest_collection_modifyitems(items):
    """Every test in this folder is a browser test."""
    for item in items:
        if "tests/interop_sandbox" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def sandbox_url():
    """The built sandbox served by a tiny static server on loopback."""
    if not (SANDBOX_BUILD / "app.bundle.js").exists():
        if os.environ.get("CI"):
            pytest.fail("The CDS Hooks sandbox is not built: `make test` builds it with npm.")
        pytest.skip("The CDS Hooks sandbox is not built (make test, or npm ci && npm run build)")
    handler = partial(QuietFileHandler, directory=str(SANDBOX_BUILD))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


class QuietFileHandler(SimpleHTTPRequestHandler):
    """Serve files without logging every request."""

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""


@pytest.fixture(scope="session")
def fhir_base_url():
    """Bedside's fixture FHIR server with the three patients, readable from any browser origin."""
    app = create_fhir_app(PATIENTS, now=datetime.now(UTC))
    app.after_request(allow_any_origin)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/fhir"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def allow_any_origin(response: Response) -> Response:
    """Let the sandbox's page read the (open, synthetic) FHIR server."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Authorization, Content-Type"
    return response


def readme_sandbox_entry() -> dict:
    """The trusted-clients entry the README offers for the public sandbox."""
    readme = (REPO_ROOT / "README.md").read_text()
    after_intro = readme[readme.index(README_ENTRY_INTRO) :]
    block = re.search(r"```json\n(.*?)```", after_intro, re.DOTALL)
    assert block is not None, "the README's sandbox entry is not a json block"
    return json.loads(block.group(1))


@pytest.fixture
def bedside(tmp_path, sandbox_url):
    """`bedside serve` trusting the sandbox: the README entry plus its published key inline."""
    entry = {**readme_sandbox_entry(), "jwks": json.loads(PUBLISHED_JWKS.read_text())}
    clients = tmp_path / "cds_clients.json"
    clients.write_text(json.dumps([entry]))
    database = tmp_path / "bedside.db"
    settings = {
        **NO_NETWORK_BEYOND_LOOPBACK,
        "BEDSIDE_DATABASE": str(database),
        "BEDSIDE_SECRET_KEY": "test-secret",
        "BEDSIDE_CDS_CLIENTS": str(clients),
        "BEDSIDE_CDS_CORS_ORIGINS": sandbox_url,
        "BEDSIDE_FHIR_INSECURE_HOSTS": "127.0.0.1",
    }
    log_path = tmp_path / "server.log"
    with served_bedside(settings, log_path, not_inherited=INHERITED_NOT) as served:
        yield Bedside(served.url, database, log_path)


class Bedside:
    """A running Bedside: where it answers, where it stores, where it logs."""

    def __init__(self, base_url: str, database: Path, log_path: Path):
        self.base_url = base_url
        self.database = database
        self.log_path = log_path

    @property
    def discovery_url(self) -> str:
        """The CDS Hooks discovery endpoint."""
        return f"{self.base_url}/cds-services"
