"""The CDS services Bedside offers (discovery) and the prefetch each one needs."""

from __future__ import annotations

from dataclasses import dataclass

# Exactly the data matching reads. Observations are bounded: newest first, at most 100.
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "observations": "Observation?patient={{context.patientId}}&_sort=-date&_count=100",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}&clinical-status=active",
    # Orders already placed (e.g. blood cultures): a card must not ask for what is already ordered.
    "service_requests": "ServiceRequest?patient={{context.patientId}}&status=active,completed",
}
# Without these, matching would silently miss modules: no data means HTTP 412, not "no cards".
REQUIRED_PREFETCH = frozenset({"patient", "conditions", "medications", "observations"})
# Discovery's `version` (CDS Hooks 3.0): the specification version the services implement. They
# also answer 2.0 clients unchanged: the field is new in 3.0 and 2.0 clients do not read it.
CDS_HOOKS_VERSION = "3.0.0"


@dataclass(frozen=True)
class CdsService:
    """One entry of the discovery document."""

    id: str
    hook: str
    hook_version: str  # the latest version in the hook definition's change log (cds-hooks-library)
    title: str
    description: str

    def discovery_entry(self) -> dict:
        """Render the service for GET /cds-services."""
        return {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
            "prefetch": dict(PREFETCH),
            "version": CDS_HOOKS_VERSION,
            "hookVersion": self.hook_version,
        }


SERVICES = (
    CdsService(
        id="bedside-order-select",
        hook="order-select",
        hook_version="1.0.2",
        title="Bedside: learn while you order",
        description=(
            "While an order is drafted, shows at most a few guideline microlearning cards that fit "
            "this patient and this order, each linking to a short case that earns CME credit."
        ),
    ),
    CdsService(
        id="bedside-order-sign",
        hook="order-sign",
        hook_version="1.1.0",
        title="Bedside: check before you sign",
        description=(
            "Before orders are signed, shows guideline microlearning cards for the draft orders "
            "and this patient's data, with suggestions such as cultures before antibiotics."
        ),
    ),
    CdsService(
        id="bedside-patient-view",
        hook="patient-view",
        hook_version="1.0.0",
        title="Bedside: learning for this patient",
        description=(
            "On chart open, shows guideline microlearning cards for care gaps in this patient's "
            "active conditions, medications and recent results."
        ),
    ),
)
SERVICES_BY_ID = {service.id: service for service in SERVICES}


def discovery_document() -> dict:
    """Return the body of GET /cds-services."""
    return {"services": [service.discovery_entry() for service in SERVICES]}
