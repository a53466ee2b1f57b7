"""Build realistic CDS Hooks requests from the fixture patients, as an EHR would send them."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl

from app.devtools.fhir_store import FixtureStore
from cds_hooks.prefetch import render_template
from cds_hooks.services import PREFETCH

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CEFTRIAXONE = ("1665021", "ceftriaxone 1000 MG Injection")
USER = "Practitioner/dr-ed-okafor"


def prefetch_for(store: FixtureStore, patient_id: str, keys=None) -> dict:
    """Answer each prefetch template from the fixture store (what a real EHR would prefetch)."""
    context = {"patientId": patient_id}
    prefetch = {}
    for key, template in PREFETCH.items():
        if keys is not None and key not in keys:
            continue
        query = render_template(template, context)
        if "?" not in query:
            resource_type, resource_id = query.split("/")
            prefetch[key] = store.read(resource_type, resource_id)
            continue
        resource_type, params = query.split("?", 1)
        found = store.search(resource_type, parse_qsl(params))
        prefetch[key] = searchset(found)
    return prefetch


def searchset(resources: list[dict]) -> dict:
    """Wrap resources in a searchset Bundle."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": resource} for resource in resources],
    }


def draft_medication(patient_id: str, code_display=CEFTRIAXONE, order_id="draft-1") -> dict:
    """A draft MedicationRequest as an EHR sends it in draftOrders."""
    code, display = code_display
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": display}]
        },
    }


def hook_request(
    hook: str,
    patient_id: str,
    *,
    prefetch: dict | None,
    draft_orders: list[dict] = (),
    encounter_id: str | None = None,
    fhir_server: str | None = None,
    access_token: str | None = None,
    user_id: str = USER,
) -> dict:
    """Assemble a hook request body."""
    context: dict = {"userId": user_id, "patientId": patient_id}
    if encounter_id:
        context["encounterId"] = encounter_id
    if hook in {"order-select", "order-sign"}:
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": order} for order in draft_orders],
        }
    if hook == "order-select":
        context["selections"] = [f"MedicationRequest/{order['id']}" for order in draft_orders][
            :1
        ] or ["MedicationRequest/none"]
    body: dict = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server:
        body["fhirServer"] = fhir_server
    if access_token:
        body["fhirAuthorization"] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "bedside-cds",
        }
    return body
