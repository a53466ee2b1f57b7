"""CDS state across hosts: two `bedside serve` processes share one PostgreSQL database.

Each host has its own SQLite file only for the demo EHR's authorisation server: whatever the
hosts share here, they share through PostgreSQL. Both stand
behind one public URL, as behind a load balancer, so a client JWT's `aud` is valid on either.
"""

from __future__ import annotations

import threading
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest
import requests

from app.devtools.demo_keys import DEMO_EHR_ISS, DEMO_EHR_KID, demo_ehr_key
from app.devtools.fhir_store import FixtureStore
from app.settings import REPO_ROOT
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for
from tests.cds_hooks.jwt_helpers import sign_client_token
from tests.cds_hooks.test_service import overridden
from tests.multihost.hosts import bedside_host

PUBLIC_URL = "http://bedside.test"  # the load balancer's address, as EHRs call it
SELECT = "/cds-services/bedside-order-select"
SIGN = "/cds-services/bedside-order-sign"
FEEDBACK = "/cds-services/bedside-order-select/feedback"
SEPSIS = "sepsis-adult"
MODULE = "sepsis-hour-1-bundle"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, postgres_server):
    """Two demo hosts on their own ports against one PostgreSQL database (one pair per module)."""
    name = f"test_multihost_{uuid.uuid4().hex[:12]}"
    database_url = postgres_server.create_database(name)
    folder = tmp_path_factory.mktemp("hosts")
    with ExitStack() as stack:
        hosts = [bedside_host(folder / h, database_url, public_url=PUBLIC_URL) for h in "AB"]
        yield [stack.enter_context(host).url for host in hosts]
    postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def sepsis_prefetch() -> dict:
    """All the prefetch an EHR sends about the sepsis patient (time-shifted to now)."""
    patients = FixtureStore.from_directory(
        REPO_ROOT / "fhir_fixtures/patients", now=datetime.now(UTC)
    )
    return prefetch_for(patients, SEPSIS)


@pytest.fixture
def sepsis_call(sepsis_prefetch):
    """Hook calls about the sepsis patient with a drafted ceftriaxone, from a new clinician.

    The hosts stay up for the module: a clinician per test keeps one test's snoozes and
    repeats from reaching another.
    """
    user = f"Practitioner/dr-{uuid.uuid4().hex[:8]}"
    drafts = [draft_medication(SEPSIS)]
    return lambda hook: hook_request(
        hook, SEPSIS, prefetch=sepsis_prefetch, draft_orders=drafts, user_id=user
    )


def demo_ehr_token(path: str) -> str:
    """A fresh client JWT from the demo EHR (the hosts' shared instance key) for this path."""
    key = demo_ehr_key(REPO_ROOT / "instance")
    return sign_client_token(key, iss=DEMO_EHR_ISS, aud=PUBLIC_URL + path, kid=DEMO_EHR_KID)


def post(host: str, path: str, body: dict, token: str | None = None) -> requests.Response:
    """POST a CDS call to one host with a (fresh unless given) demo EHR token."""
    headers = {"Authorization": f"Bearer {token or demo_ehr_token(path)}"}
    return requests.post(host + path, json=body, headers=headers, timeout=30)


def sepsis_card(response: requests.Response) -> dict | None:
    """The sepsis module's card in a hook response, if shown."""
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    return next((card for card in cards if MODULE in card["links"][0]["appContext"]), None)


def test_a_jwt_used_on_one_host_is_refused_on_the_other(hosts, sepsis_call):
    host_a, host_b = hosts
    token = demo_ehr_token(SELECT)
    assert post(host_a, SELECT, sepsis_call("order-select"), token).status_code == 200
    replay = post(host_b, SELECT, sepsis_call("order-select"), token)
    assert replay.status_code == 401
    assert post(host_b, SELECT, sepsis_call("order-select")).status_code == 200  # a fresh one


def test_one_jwt_sent_to_both_hosts_at_once_is_admitted_by_exactly_one(hosts, sepsis_call):
    for _ in range(5):
        token = demo_ehr_token(SELECT)
        statuses = post_at_once(hosts, SELECT, [sepsis_call("order-select") for _ in hosts], token)
        assert sorted(statuses) == [200, 401]


def post_at_once(hosts: list[str], path: str, bodies: list[dict], token: str) -> list[int]:
    """POST one call to each host at the same instant with the same token; the statuses."""
    start, statuses = threading.Barrier(len(hosts)), []

    def send(host: str, body: dict) -> None:
        start.wait(10)
        statuses.append(post(host, path, body, token).status_code)

    senders = [threading.Thread(target=send, args=pair) for pair in zip(hosts, bodies, strict=True)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(30)
    return statuses


def test_a_card_shown_through_one_host_is_a_repeat_on_the_other(hosts, sepsis_call):
    host_a, host_b = hosts
    assert sepsis_card(post(host_a, SELECT, sepsis_call("order-select")))
    assert sepsis_card(post(host_b, SELECT, sepsis_call("order-select"))) is None


def test_an_override_through_one_host_keeps_the_card_away_on_the_other(hosts, sepsis_call):
    host_a, host_b = hosts
    card = sepsis_card(post(host_a, SELECT, sepsis_call("order-select")))
    assert sepsis_card(post(host_b, SIGN, sepsis_call("order-sign")))  # shown, not acted on
    recorded = post(host_a, FEEDBACK, overridden(card["uuid"]))
    assert recorded.json() == {"recorded": 1, "alreadyRecorded": 0, "unknownCards": 0}
    assert sepsis_card(post(host_b, SIGN, sepsis_call("order-sign"))) is None
    again = post(host_b, FEEDBACK, overridden(card["uuid"]))
    assert again.json() == {"recorded": 0, "alreadyRecorded": 1, "unknownCards": 0}


def test_a_call_naming_its_fhir_server_reads_mastery_from_the_shared_database(
    hosts, sepsis_prefetch
):
    """With fhirServer and userId the engine asks learning for mastered topics (on PostgreSQL)."""
    body = hook_request(
        "order-select",
        SEPSIS,
        prefetch=sepsis_prefetch,
        draft_orders=[draft_medication(SEPSIS)],
        fhir_server="https://ehr.example/fhir",
        user_id=f"Practitioner/dr-{uuid.uuid4().hex[:8]}",
    )
    host_a, host_b = hosts
    assert sepsis_card(post(host_a, SELECT, body))  # 200 and the card: mastery read, none held
    body["hookInstance"] = str(uuid.uuid4())
    assert sepsis_card(post(host_b, SELECT, body)) is None  # 200, and a repeat across hosts
