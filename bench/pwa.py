"""Low-bandwidth budget of a case page in Chromium: bytes on first load, bytes when kept offline.

Serves Bedside in demo mode on loopback, launches the app as the demo clinician in Debian's
Chromium with no patient in context (a phone outside the EHR: the only launch whose pages the
service worker may keep, see app/ui/offline.py), starts the sepsis case and opens its first
question page in a fresh browser holding only the sign-in cookie, twice. Counts every request the
page and its service worker make, and the bytes the server sent for them (status line, headers
and body, uncompressed: a compressing proxy only lowers them):
- first load: empty HTTP cache, no service worker yet (it installs during this load);
- kept: the same page again, once the service worker has kept it and the shared files.
Also counts requests to any other origin (the budget allows none). Figures, not timed tests:
it exits 0 even when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from app import create_app
from app.db import close_stores
from app.settings import REPO_ROOT
from bench.report import run_benchmark, verdict
from tests.support.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.support.live_server import LiveServer

DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "pwa.json"
FIRST_LOAD_LIMIT = 100 * 1024
KEPT_LIMIT = 20 * 1024
CASE = "sepsis-hour-1-bundle"
PHONE = {"width": 390, "height": 844}
BROWSER = "Chrome/"  # in Chromium's User-Agent, page and worker alike
SETTLE_SECONDS = 1.0  # the worker revalidates its kept files just after the page has loaded
# Page scripts run under the strict CSP (no eval): wait on a promise, not a polled string.
CONTROLLED = """async () => {
  await navigator.serviceWorker.ready;
  if (navigator.serviceWorker.controller) return;
  await new Promise(done =>
    navigator.serviceWorker.addEventListener("controllerchange", done, {once: true}));
}"""


def main(argv: list[str]) -> int:
    """Measure both loads and print the figures against the budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    return run_benchmark(parser.parse_args(argv), measure, print_report, "pwa")


def measure(args: argparse.Namespace, folder: Path) -> dict:
    """Serve the demo, drive Chromium through both loads, return the figures."""
    from playwright.sync_api import sync_playwright

    instance = folder / "instance"
    app = create_app(
        {"TESTING": True, "DEMO": True, "DATABASE": str(instance / "bedside.db")},
        instance_path=instance,
    )
    sent = BytesSent(app.wsgi_app)
    app.wsgi_app = sent
    try:
        with LiveServer(app) as server, sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                return both_loads(chromium, app, server.url, sent)
            finally:
                chromium.close()
    finally:
        close_stores(app)


def both_loads(chromium, app, base_url: str, sent: BytesSent) -> dict:
    """Start the case in one browser; open its page in a fresh one (first load), then again."""
    launched = chromium.new_context(viewport=PHONE)
    try:
        question_url = start_case(launched.new_page(), app, base_url)
        cookies = launched.cookies()
    finally:
        launched.close()
    fresh = chromium.new_context(viewport=PHONE)  # empty HTTP cache, no service worker yet
    try:
        fresh.add_cookies(cookies)
        page = fresh.new_page()
        first = load_counted(page, question_url, base_url, sent)
        page.evaluate(CONTROLLED)
        page.goto(question_url)  # now through the worker, which keeps it
        time.sleep(SETTLE_SECONDS)
        kept = load_counted(page, question_url, base_url, sent)
    finally:
        fresh.close()
    return {
        "first_load": {**first, "limit_bytes": FIRST_LOAD_LIMIT},
        "kept": {**kept, "limit_bytes": KEPT_LIMIT},
    }


def start_case(page, app, base_url: str) -> str:
    """Launch into the sepsis case with no patient in context and start it; return question 1."""
    module = yaml.safe_load((REPO_ROOT / f"content/modules/{CASE}.yaml").read_text())
    launch_id = app.extensions["demo_auth"].create_launch(
        patient="",
        encounter=None,
        practitioner="dr-ed-okafor",
        need_patient_banner=False,
        app_context=json.dumps({"module": CASE, "version": module["version"]}),
    )
    with page.expect_navigation(url="**/app/case/**"):
        page.goto(f"{base_url}/smart/launch?iss={base_url}/fhir&launch={launch_id}")
    page.click("button.primary")  # start
    page.wait_for_url("**/q/1?launch=*")
    return page.url


def load_counted(page, url: str, base_url: str, sent: BytesSent) -> dict:
    """Load the page; count the requests the browser made and the bytes the server sent."""
    seen = []

    def note(request) -> None:
        seen.append(request.url)

    page.context.on("request", note)
    sent.rows.clear()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    time.sleep(SETTLE_SECONDS)  # the worker's install or revalidation, just after the load
    page.context.remove_listener("request", note)
    origin = urlsplit(base_url).netloc
    rows = list(sent.rows)
    return {
        "requests_made": len(seen),
        "network_requests": len(rows),
        "bytes": sum(row["bytes"] for row in rows),
        "third_party_requests": sum(1 for each in seen if urlsplit(each).netloc != origin),
        "by_request": rows,
    }


class BytesSent:
    """WSGI middleware: what the browser was sent per request (status line, headers, body)."""

    def __init__(self, app):
        self.app = app
        self.rows: list[dict] = []

    def __call__(self, environ, start_response):
        """Pass the request on; add up what goes back to the browser."""
        row = {"path": environ.get("PATH_INFO", ""), "status": 0, "bytes": 0}
        if BROWSER in environ.get("HTTP_USER_AGENT", ""):  # not Bedside's own calls to /fhir
            self.rows.append(row)

        def counted_start(status, headers, exc_info=None):
            row["status"] = int(status.split()[0])
            lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers)]
            row["bytes"] += sum(len(line) + 2 for line in lines) + 2
            return start_response(status, headers, exc_info)

        body = self.app(environ, counted_start)
        try:
            for chunk in body:
                row["bytes"] += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()


def print_report(result: dict) -> None:
    """The two figures against the budget, and what made them up."""
    print()
    print(f"Case page budget (demo sepsis case, question 1, {PHONE['width']} px phone):")
    for name, label in (("first_load", "first load"), ("kept", "kept by the service worker")):
        load = result[name]
        within = load["bytes"] <= load["limit_bytes"] and not load["third_party_requests"]
        print(
            f"  {label:<28} {load['bytes'] / 1024:6.1f} KB in {load['network_requests']} "
            f"network requests ({load['requests_made']} made by page and worker); budget "
            f"{load['limit_bytes'] // 1024} KB; third-party requests "
            f"{load['third_party_requests']}  {verdict(within)}"
        )
        for row in load["by_request"]:
            print(f"      {row['bytes'] / 1024:6.1f} KB  {row['status']}  {row['path']}")
    print(f"  Full result: {result['output']}")
