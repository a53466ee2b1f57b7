"""Build realistic CDS Hooks requests from the fixture patients, as an EHR would send them."""

from __future__ import annotations

from app.devtools.demo_cds_client import hook_body, prefetch_from_store

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CEFTRIAXONE = ("1665021", "ceftriaxone 1000 MG Injection")
PRACTITIONER = "dr-ed-okafor"

prefetch_for = prefetch_from_store


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
    user_id: str = f"Practitioner/{PRACTITIONER}",
) -> dict:
    """Assemble a hook request body (prefetch None: the EHR sent none)."""
    body = hook_body(
        hook,
        patient_id=patient_id,
        encounter_id=encounter_id,
        practitioner_id=user_id.removeprefix("Practitioner/"),
        drafts=list(draft_orders),
        prefetch=prefetch or {},
    )
    if hook == "order-select" and not draft_orders:
        body["context"]["selections"] = ["MedicationRequest/none"]
    if prefetch is None:
        del body["prefetch"]
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
