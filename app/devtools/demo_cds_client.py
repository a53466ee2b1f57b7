"""The demo EHR as a CDS client: signed calls, prefetch from its own records, draft orders."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl

import requests
from joserfc import jwt

from app.devtools.demo_keys import DEMO_EHR_ISS, DEMO_EHR_KID, demo_ehr_key
from app.devtools.fhir_store import FixtureStore
from cds_hooks.prefetch import render_template
from cds_hooks.services import PREFETCH

CATALOGUE_PATH = Path(__file__).with_name("demo_catalogue.json")
TOKEN_LIFETIME = 300


@dataclass(frozen=True)
class CdsReply:
    """What the CDS service answered: HTTP status and JSON body."""

    status: int
    body: dict


@cache
def catalogue() -> dict[str, dict]:
    """Return the orderable items by id."""
    orders = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["orders"]
    return {order["id"]: order for order in orders}


def prefetch_from_store(store: FixtureStore, patient_id: str) -> dict:
    """Answer every service prefetch template from the EHR's own records."""
    prefetch: dict = {}
    for key, template in PREFETCH.items():
        query = render_template(template, {"patientId": patient_id})
        if "?" not in query:
            resource_type, resource_id = query.split("/", 1)
            prefetch[key] = store.read(resource_type, resource_id)
            continue
        resource_type, params = query.split("?", 1)
        found = store.search(resource_type, parse_qsl(params))
        prefetch[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": resource} for resource in found],
        }
    return prefetch


def draft_order(item_id: str, number: int, patient_id: str, encounter_id: str | None) -> dict:
    """Build a draft MedicationRequest or ServiceRequest for a catalogue item."""
    item = catalogue()[item_id]
    concept = {
        "coding": [{"system": item["system"], "code": item["code"], "display": item["display"]}]
    }
    order = {
        "resourceType": item["type"],
        "id": f"draft-{number}",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if encounter_id:
        order["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    if item["type"] == "MedicationRequest":
        order["medicationCodeableConcept"] = concept
        order["dosageInstruction"] = [{"text": item["dose"]}]
    else:
        order["code"] = concept
        order["note"] = [{"text": item["dose"]}]
    return order


def hook_body(
    hook: str,
    *,
    patient_id: str,
    encounter_id: str | None,
    practitioner_id: str,
    drafts: list[dict],
    prefetch: dict,
    fhir_server: str | None = None,
) -> dict:
    """Assemble the hook request a real EHR would send (all prefetch given, so no token)."""
    context: dict = {"userId": f"Practitioner/{practitioner_id}", "patientId": patient_id}
    if encounter_id:
        context["encounterId"] = encounter_id
    if hook in {"order-select", "order-sign"}:
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": order} for order in drafts],
        }
    if hook == "order-select":
        context["selections"] = [f"{order['resourceType']}/{order['id']}" for order in drafts[-1:]]
    body = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if fhir_server:
        body["fhirServer"] = fhir_server
    return {**body, "prefetch": prefetch}


def post_signed(instance_path: Path, url: str, body: dict) -> CdsReply:
    """POST JSON to a CDS endpoint with a fresh ES384 client JWT whose aud is that URL."""
    key = demo_ehr_key(instance_path)
    header = {"alg": "ES384", "typ": "JWT", "kid": DEMO_EHR_KID}
    claims = {
        "iss": DEMO_EHR_ISS,
        "aud": url,
        "exp": int(time.time()) + TOKEN_LIFETIME,
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(header, claims, key, algorithms=["ES384"])
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with requests.post(url, json=body, headers=headers, timeout=10) as response:
        try:
            payload = response.json()
        except ValueError:
            payload = {
                "error": {"code": "not_json", "message": "The CDS service did not answer JSON."}
            }
    return CdsReply(response.status_code, payload)
