"""CME credit across hosts: two `bedside serve` processes write one ledger in PostgreSQL.

The learner launches from host B's demo EHR (B is also the FHIR server both hosts read the
patient from); the SMART session lives in PostgreSQL, so the one cookie works on either host,
as behind a load balancer. Credit is claimed by finishing point-of-care cycles (POST apply),
each keyed by its attempt: `bedside-ui:poc-credit:<attempt id>`.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
import requests

from app.database import parse_database_url
from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from app.library.loader import load_library
from app.settings import REPO_ROOT
from tests.multihost.hosts import SHARED_KEYS, bedside_host
from tests.smart.helpers import read_form

LIBRARY = load_library(REPO_ROOT / "content").modules
MODULES = sorted(LIBRARY)
APPLICATION = {
    "answered": "yes",
    "impact": ["changed-test"],
    "rating": "5",
    "commercial_bias": "no",
    "notes": "Drew two culture sets before the first antibiotic dose.",
}
THREADS_PER_HOST = 8


@pytest.fixture
def hosts(tmp_path, postgres_server):
    """Hosts A and B on one fresh PostgreSQL database; yields (A, B, the database URL)."""
    name = f"test_ledgerhosts_{uuid.uuid4().hex[:12]}"
    database_url = postgres_server.create_database(name)
    with ExitStack() as stack:
        # 16 threads: a claim through A reads the patient from B's FHIR server meanwhile
        pair = [bedside_host(tmp_path / h, database_url, threads=16) for h in "AB"]
        yield (*[stack.enter_context(host) for host in pair], database_url)
    postgres_server.drop_database(name)


@pytest.fixture
def ledger(hosts):
    """The ledger both hosts write, opened here as a third party (reads only)."""
    store = SqlLedgerStore(
        ledger_database(parse_database_url(hosts[2])),
        identity_key=SHARED_KEYS["BEDSIDE_LEDGER_IDENTITY_KEY"].encode(),
    )
    yield store
    store.close()


QUESTIONS = itertools.count(1)  # each cycle a distinct question (each earns credit), in every test


class Learner:
    """A clinician's browser: one SMART session (cookie) good on both hosts."""

    def __init__(self, ehr: str):
        self.browser = requests.Session()
        launch = self.browser.post(f"{ehr}/demo-ehr/api/patients/sepsis-adult/launch", json={})
        query = launch.json()["url"].partition("?")[2]
        landing = self.browser.get(f"{ehr}/smart/launch?{query}", timeout=30)
        landed = landing.url.partition("?")[0]  # the app's pages carry the launch id
        assert landing.status_code == 200 and landed.endswith("/app/"), landing.text[:500]
        new_cycle = self.browser.get(f"{ehr}/app/poc/new", timeout=30)
        self.csrf_token = read_form(new_cycle.text).fields["csrf_token"]

    def start_cycle(self, host: str, module_id: str) -> str:
        """Ask a question and read a module as its source; return the cycle's attempt id."""
        question = f"Which cultures come first, question {next(QUESTIONS)}?"
        asked = self.post(host, "/app/poc/new", question=question, reason="diagnostic-dilemma")
        search = asked.headers["Location"]
        attempt_id = search.split("/")[3]
        read = self.post(host, f"/app/poc/{attempt_id}/read/{module_id}", next="now")
        applying = read.headers["Location"].partition("?")[0]
        assert applying.endswith(f"/{attempt_id}/apply"), read.text[:500]
        return attempt_id

    def post(self, host: str, path: str, **form) -> requests.Response:
        """POST a form with the session's CSRF token; 303 expected."""
        response = self.browser.post(
            host + path, data={"csrf_token": self.csrf_token, **form}, allow_redirects=False
        )
        assert response.status_code == 303, response.text[:500]
        return response

    def apply(self, host: str, attempt_id: str) -> bool:
        """Finish a cycle (claim its credit) from a browser of its own; True when acknowledged.

        Acknowledged: sent to the finished cycle's page, 303 after this claim, 302 when another
        already finished it. Anything else (a 500, a form shown again) is not.
        """
        browser = requests.Session()
        browser.cookies.update(self.browser.cookies)
        response = browser.post(
            f"{host}/app/poc/{attempt_id}/apply",
            data={"csrf_token": self.csrf_token, **APPLICATION},
            allow_redirects=False,
            timeout=30,
        )
        done = response.headers.get("Location", "").partition("?")[0]
        return response.status_code in (302, 303) and done == f"/app/poc/{attempt_id}/done"


def credit_key(attempt_id: str) -> str:
    """The idempotency key the app gives a cycle's credit claim."""
    return f"bedside-ui:poc-credit:{attempt_id}"


def credited_cycles(ledger: SqlLedgerStore) -> Counter:
    """How many credit records each cycle (attempt) holds, over the whole chain."""
    return Counter(record.attempt_id for record in ledger.iter_chain())


def test_sixteen_claims_through_two_hosts_credit_each_cycle_once(hosts, ledger):
    host_a, host_b, _ = hosts
    learner = Learner(host_b.url)
    modules = MODULES[:4]
    cycles = [learner.start_cycle(host_b.url, module) for module in modules for _ in range(2)]
    claims = [(host.url, cycle) for cycle in cycles for host in (host_a, host_b)]
    start = threading.Barrier(len(claims))

    def claim(host_url: str, attempt_id: str) -> bool:
        start.wait()
        return learner.apply(host_url, attempt_id)

    with ThreadPoolExecutor(max_workers=THREADS_PER_HOST * 2) as pool:
        acknowledged = list(pool.map(lambda args: claim(*args), claims))

    assert all(acknowledged)  # every claim answered, none a 500
    assert credited_cycles(ledger) == {cycle: 1 for cycle in cycles}  # two cycles per module
    outcomes = [ledger.submission(credit_key(cycle)) for cycle in cycles]
    assert all(outcome.records and not outcome.refusal for outcome in outcomes)
    report = verify_chain(ledger)
    assert report.ok and report.checked == len(cycles), report.summary()


def test_claims_acknowledged_by_a_host_killed_mid_write_are_in_the_ledger(hosts, ledger):
    host_a, host_b, _ = hosts
    learner = Learner(host_b.url)
    cycles = [learner.start_cycle(host_b.url, module) for module in MODULES[:12] * 2]  # < the cap
    acknowledged: list[str] = []
    unanswered: list[str] = []
    queue = iter(cycles)
    lock = threading.Lock()

    def stream() -> None:
        while True:
            with lock:
                attempt_id = next(queue, None)
            if attempt_id is None:
                return
            try:
                answered = learner.apply(host_a.url, attempt_id)
            except requests.RequestException:  # reset or cut short: no answer, no promise
                answered = False
            with lock:
                (acknowledged if answered else unanswered).append(attempt_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        streams = [pool.submit(stream) for _ in range(4)]
        deadline = time.monotonic() + 20
        while len(acknowledged) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        host_a.kill()
        for done in streams:
            done.result()

    assert 6 <= len(acknowledged) < len(cycles) and unanswered
    for attempt_id in acknowledged:
        assert ledger.submission(credit_key(attempt_id)) is not None, attempt_id
    retried = [learner.apply(host_b.url, attempt_id) for attempt_id in unanswered]
    assert all(retried)  # B serves on, and finishes what A dropped
    assert all(ledger.submission(credit_key(cycle)) for cycle in cycles)
    assert credited_cycles(ledger) == {cycle: 1 for cycle in cycles}
    report = verify_chain(ledger)
    assert report.ok and report.checked == len(cycles), report.summary()
