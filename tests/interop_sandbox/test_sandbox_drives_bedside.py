"""The CDS Hooks sandbox, the reference CDS client, shows Bedside's cards and sends its feedback.

Each expected summary comes from Bedside itself, asked directly with the request the sandbox sent.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from urllib.parse import urlencode, urlparse

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey
from playwright.sync_api import expect

from tests.interop_sandbox.conftest import SANDBOX
from tests.support.chromium import open_page

SANDBOX_KEY = json.loads((SANDBOX / "keys" / "jwk-keypair.json").read_text())["keys"][0]
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
DIRECT_USER = "Practitioner/bedside-direct-check"  # never the sandbox's own user
HOOK_OF_SCREEN = {
    "patient-view": "patient-view",
    "rx-view": "order-select",
    "rx-sign": "order-sign",
}
# The sandbox's built-in default services, asked for on every load; not needed to talk to Bedside.
NON_ESSENTIAL = {"https://sandbox-services.cds-hooks.org/cds-services"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


class Traffic:
    """What the page asked for: requests kept off the network, and Bedside's answers."""

    def __init__(self, bedside_url: str):
        self.bedside_url = bedside_url
        self.blocked: list[str] = []
        self.bedside_statuses: list[tuple[str, str, int]] = []
        self.hook_calls: list[dict] = []  # {url, body, cards} of each answered hook call

    def route(self, route) -> None:
        """Let loopback through; abort (and remember) anything else."""
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def on_response(self, response) -> None:
        """Remember every answer from Bedside, and the body of every hook call it answered."""
        if not response.url.startswith(self.bedside_url):
            return
        request = response.request
        self.bedside_statuses.append((request.method, response.url, response.status))
        if request.method == "POST" and response.status == 200 and "/feedback" not in response.url:
            body = json.loads(request.post_data or "{}")
            self.hook_calls.append({"url": response.url, "body": body, "cards": []})
            self.hook_calls[-1]["cards"] = response.json()["cards"]

    def calls_to(self, service_id: str) -> list[dict]:
        """The answered calls to one of Bedside's services, oldest first."""
        return [call for call in self.hook_calls if call["url"].endswith("/" + service_id)]


@pytest.fixture
def sandbox(chromium, request, bedside):
    """A sandbox page cut off from all but loopback; afterwards: Bedside answered all (no 401)."""
    page = open_page(chromium, request, viewport={"width": 1400, "height": 1000})
    traffic = Traffic(bedside.base_url)
    page.context.route("**/*", traffic.route)
    page.on("response", traffic.on_response)
    yield page, traffic
    assert [answer for answer in traffic.bedside_statuses if answer[2] != 200] == []
    assert set(traffic.blocked) <= NON_ESSENTIAL


def open_sandbox(page, sandbox_url: str, fhir_base_url: str, bedside, screen: str) -> None:
    """Point the sandbox at the FHIR server, Bedside's discovery URL and the HFrEF patient."""
    query = {
        "fhirServiceUrl": fhir_base_url,
        "serviceDiscoveryURL": bedside.discovery_url,
        "patientId": "hfref-adult",
        "hook": HOOK_OF_SCREEN[screen],
        "screen": screen,
    }
    page.goto(f"{sandbox_url}/?{urlencode(query)}")


def sandbox_jwt(audience: str) -> str:
    """A token as the sandbox signs it: its published key, kid and jku."""
    now = int(time.time())
    header = {"alg": "ES384", "typ": "JWT", "kid": SANDBOX_KEY["kid"], "jku": SANDBOX_JKU}
    claims = {
        "iss": "https://sandbox.cds-hooks.org",
        "aud": audience,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(header, claims, ECKey.import_key(SANDBOX_KEY), algorithms=["ES384"])


def bedside_summaries(hook_call: dict) -> list[str]:
    """Ask Bedside directly, with the sandbox's own request, for the summaries of its cards.

    Under another user id, so that Bedside's repeat rule cannot hide what the sandbox is shown.
    """
    url = hook_call["url"]
    body = {**hook_call["body"], "hookInstance": str(uuid.uuid4())}
    body["context"] = {**body["context"], "userId": DIRECT_USER}
    answer = requests.post(
        url, json=body, headers={"Authorization": f"Bearer {sandbox_jwt(url)}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return [card["summary"] for card in answer.json()["cards"]]


def wait_for(page, condition, what: str, seconds: float = 20):
    """Poll condition() while the page runs (its events are delivered only then)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}")


def feedback_rows(bedside) -> list[tuple]:
    """(outcome, reason code, reason system, accepted suggestions) as Bedside stored them."""
    with sqlite3.connect(bedside.database) as db:
        return db.execute(
            "SELECT outcome, override_reason, override_reason_system, accepted_suggestions "
            "FROM cds_feedback"
        ).fetchall()


def drafted_medication(hook_call: dict) -> dict:
    """The medicationCodeableConcept of the one draft order in a hook call (empty: none yet)."""
    draft = hook_call["body"]["context"]["draftOrders"]["entry"][0]["resource"]
    return draft.get("medicationCodeableConcept", {"coding": [{}]})


def pick_medication(page, search: str, name: str) -> None:
    """Type into the sandbox's medication picker and choose one prescribable drug."""
    page.locator("input[name=medication-input]").fill(search)
    page.get_by_role("button", name=name, exact=True).click()


def card_showing(page, summary: str):
    """The sandbox's rendering of the card with this summary."""
    return page.locator(".MuiCard-root", has=page.get_by_text(summary, exact=True))


def test_patient_view_shows_bedsides_cards_and_an_override_reason_is_recorded(
    sandbox, bedside, sandbox_url, fhir_base_url
):
    page, traffic = sandbox
    open_sandbox(page, sandbox_url, fhir_base_url, bedside, "patient-view")
    call = wait_for(page, lambda: traffic.calls_to("bedside-patient-view"), "patient-view")[0]
    summaries = bedside_summaries(call)
    assert summaries, "Bedside has no patient-view card for hfref-adult"
    for summary in summaries:
        expect(page.get_by_text(summary, exact=True)).to_be_visible()

    card = card_showing(page, summaries[0])
    card.get_by_role("button", name="select dismiss reason").click()
    first_reason = page.get_by_role("menuitem").first
    shown = first_reason.inner_text().removeprefix("Override:").strip()
    first_reason.click()
    expect(page.get_by_text(summaries[0], exact=True)).to_have_count(0)

    reason = next(r for r in call["cards"][0]["overrideReasons"] if r["display"] == shown)
    rows = wait_for(page, lambda: feedback_rows(bedside), "the override feedback")
    assert rows == [("overridden", reason["code"], reason["system"], "[]")]


def test_rx_view_order_select_card_and_its_suggestion_change_the_draft(
    sandbox, bedside, sandbox_url, fhir_base_url
):
    page, traffic = sandbox
    open_sandbox(page, sandbox_url, fhir_base_url, bedside, "rx-view")
    pick_medication(
        page, "oxycodone 325", "Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet"
    )
    calls = wait_for(page, lambda: opioid_calls(traffic), "an order-select call for the opioid")
    summaries = bedside_summaries(calls[-1])
    assert summaries, "Bedside has no order-select card for the opioid"
    for summary in summaries:
        expect(page.get_by_text(summary, exact=True)).to_be_visible()

    naloxone = suggestion_in(calls, "naloxone")
    page.get_by_role("button", name=naloxone["label"]).click()

    suggested = naloxone["actions"][0]["resource"]["medicationCodeableConcept"]
    redrafted = wait_for(
        page, lambda: drafts_naming(traffic, "bedside-order-select", suggested), "the new draft"
    )
    assert drafted_medication(redrafted)["text"] == suggested["text"]
    rows = wait_for(page, lambda: feedback_rows(bedside), "the accepted feedback")
    assert rows == [("accepted", None, None, json.dumps([naloxone["uuid"]]))]


def test_rx_sign_applies_a_suggestion_whose_concept_had_no_authored_text(
    sandbox, bedside, sandbox_url, fhir_base_url
):
    """The HFrEF module's carvedilol coding has only a display; Bedside must give it a text."""
    page, traffic = sandbox
    open_sandbox(page, sandbox_url, fhir_base_url, bedside, "rx-sign")
    pick_medication(page, "bumetanide 0.5", "Bumetanide 0.5 MG Oral Tablet")
    page.get_by_role("button", name="Sign Order").click()
    carvedilol = wait_for(
        page,
        lambda: suggestion_in(traffic.calls_to("bedside-order-sign"), "carvedilol"),
        "an order-sign card suggesting carvedilol",
    )
    suggested = carvedilol["actions"][0]["resource"]["medicationCodeableConcept"]
    assert suggested["coding"][0]["code"] == "686924"

    page.get_by_role("button", name=carvedilol["label"]).click()
    page.get_by_role("button", name="Sign Order").click()
    signed = wait_for(
        page, lambda: drafts_naming(traffic, "bedside-order-sign", suggested), "the signed draft"
    )
    assert (
        drafted_medication(signed)["text"] == suggested["text"] == "carvedilol 3.125 MG Oral Tablet"
    )


def suggestion_in(calls: list[dict], word: str) -> dict | None:
    """The first suggestion whose label names the word, in the cards of the latest call."""
    cards = calls[-1]["cards"] if calls else []
    suggestions = [s for card in cards for s in card.get("suggestions", ())]
    return next((s for s in suggestions if word in s["label"]), None)


def opioid_calls(traffic: Traffic) -> list[dict]:
    """The order-select calls whose draft is the opioid picked (and that got a card)."""
    return [
        call
        for call in traffic.calls_to("bedside-order-select")
        if call["cards"] and "Oxycodone" in json.dumps(call["body"]["context"]["draftOrders"])
    ]


def drafts_naming(traffic: Traffic, service_id: str, concept: dict) -> dict | None:
    """The latest call to the service whose draft order is the suggested medication."""
    wanted = {"system": RXNORM, "code": concept["coding"][0]["code"]}
    for call in reversed(traffic.calls_to(service_id)):
        coding = drafted_medication(call)["coding"][0]
        if {"system": coding.get("system"), "code": coding.get("code")} == wanted:
            return call
    return None
