"""Plain-dict FHIR R4 resources for the synthetic practice dataset (obviously synthetic people)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

Coding = tuple[str, str, str]

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ADMIT_SOURCE = "http://terminology.hl7.org/CodeSystem/admit-source"
UCUM = "http://unitsofmeasure.org"
MRN_SYSTEM = "urn:oid:2.16.840.1.113883.19.5"  # HL7's example OID arc: never a real MRN
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
HTEST = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    "code": "HTEST",
    "display": "test health data",
}
CLASS_DISPLAY = {
    "AMB": "ambulatory",
    "EMER": "emergency",
    "IMP": "inpatient encounter",
    "VR": "virtual",
}
ADMIT_SOURCE_DISPLAY = {"hosp-trans": "Transferred from other hospital"}
ROLE_DISPLAY = {"ATND": "attender", "PART": "participant", "PPRF": "primary performer"}


def iso(moment: datetime) -> str:
    """Format a UTC time as a FHIR dateTime with seconds and Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def concept(*codings: Coding, text: str | None = None) -> dict:
    """A CodeableConcept from (system, code, display) triples."""
    result: dict = {"coding": [{"system": s, "code": c, "display": d} for s, c, d in codings]}
    if text:
        result["text"] = text
    return result


def ref(resource_type: str, resource_id: str) -> dict:
    """A relative Reference."""
    return {"reference": f"{resource_type}/{resource_id}"}


@dataclass
class PatientFile:
    """One synthetic patient's id and resources, built up scenario by scenario."""

    patient_id: str
    resources: list[dict] = field(default_factory=list)

    def add(self, resource: dict) -> dict:
        """Append a resource (with the patient as subject/patient) and return it."""
        self.resources.append(resource)
        return resource


def practitioner(practitioner_id: str, number: int) -> dict:
    """A synthetic clinician named 'Clinician <id> Example', with an NPI-like id starting 999."""
    return {
        "resourceType": "Practitioner",
        "id": practitioner_id,
        "identifier": [{"system": NPI_SYSTEM, "value": f"999{number:07d}"}],
        "active": True,
        "name": [{"use": "official", "family": "Example", "given": ["Clinician", practitioner_id]}],
    }


def patient(patient_id: str, number: int, birth: date | None, gender: str) -> dict:
    """A synthetic patient: name 'Synthetic-NNNN Testpatient', MRN on HL7's example OID arc."""
    resource = {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"security": [HTEST]},
        "identifier": [{"system": MRN_SYSTEM, "value": f"SYN-OUT-{number:05d}"}],
        "active": True,
        "name": [
            {"use": "official", "family": "Testpatient", "given": [f"Synthetic-{number:04d}"]}
        ],
        "gender": gender,
    }
    if birth is not None:
        resource["birthDate"] = birth.isoformat()
    return resource


def encounter(
    encounter_id: str,
    patient_id: str,
    kind: str,
    start: datetime | None,
    end: datetime | None,
    participants: list[tuple[str, str]],
    *,
    status: str = "finished",
    admit_source: str | None = None,
    reason: str | None = None,
    diagnoses: tuple[str, ...] = (),
) -> dict:
    """An Encounter of class `kind` with (role, practitioner id) participants."""
    resource: dict = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": status,
        "class": {"system": ACT_CODE, "code": kind, "display": CLASS_DISPLAY.get(kind, kind)},
        "subject": ref("Patient", patient_id),
        "participant": [
            {
                "type": [concept((PARTICIPATION, role, ROLE_DISPLAY[role]))],
                "individual": ref("Practitioner", who),
            }
            for role, who in participants
        ],
    }
    if start is not None:
        resource["period"] = {"start": iso(start)} | ({"end": iso(end)} if end else {})
    if admit_source:
        source = (ADMIT_SOURCE, admit_source, ADMIT_SOURCE_DISPLAY[admit_source])
        resource["hospitalization"] = {"admitSource": concept(source)}
    if reason:
        resource["reasonCode"] = [{"text": reason}]
    if diagnoses:
        resource["diagnosis"] = [{"condition": ref("Condition", c)} for c in diagnoses]
    return resource


def condition(
    condition_id: str,
    patient_id: str,
    codings: tuple[Coding, ...],
    *,
    category: str = "encounter-diagnosis",
    onset: str | None = None,
    recorded: str | None = None,
    encounter_id: str | None = None,
    clinical: str = "active",
    verification: str = "confirmed",
    abatement: str | None = None,
) -> dict:
    """A Condition; dates are FHIR strings (date-only or dateTime) so both kinds can be made."""
    resource: dict = {
        "resourceType": "Condition",
        "id": condition_id,
        "clinicalStatus": concept((CONDITION_CLINICAL, clinical, clinical.capitalize())),
        "verificationStatus": concept(
            (CONDITION_VERIFICATION, verification, verification.capitalize())
        ),
        "category": [concept((CONDITION_CATEGORY, category, category.replace("-", " ").title()))],
        "code": concept(*codings),
        "subject": ref("Patient", patient_id),
    }
    optional = {
        "encounter": ref("Encounter", encounter_id) if encounter_id else None,
        "onsetDateTime": onset,
        "abatementDateTime": abatement,
        "recordedDate": recorded,
    }
    resource.update({key: value for key, value in optional.items() if value})
    return resource


def medication_request(
    request_id: str,
    patient_id: str,
    medication: Coding,
    *,
    authored: datetime | None,
    requester: str,
    encounter_id: str | None = None,
    status: str = "active",
    bounds: tuple[datetime, datetime] | None = None,
    dosage: str = "As directed.",
) -> dict:
    """A MedicationRequest (intent order) for an RxNorm clinical drug."""
    instruction: dict = {"text": dosage}
    if bounds:
        period = {"start": iso(bounds[0]), "end": iso(bounds[1])}
        instruction["timing"] = {"repeat": {"boundsPeriod": period}}
    resource: dict = {
        "resourceType": "MedicationRequest",
        "id": request_id,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": concept(medication),
        "subject": ref("Patient", patient_id),
        "requester": ref("Practitioner", requester),
        "dosageInstruction": [instruction],
    }
    if encounter_id:
        resource["encounter"] = ref("Encounter", encounter_id)
    if authored:
        resource["authoredOn"] = iso(authored)
    return resource


def observation(
    observation_id: str,
    patient_id: str,
    code: Coding,
    *,
    effective: datetime | None,
    category: str = "laboratory",
    quantity: tuple[float, str] | None = None,
    text_value: str | None = None,
    encounter_id: str | None = None,
    issued: datetime | None = None,
    status: str = "final",
) -> dict:
    """An Observation with an optional UCUM quantity or text value."""
    resource: dict = {
        "resourceType": "Observation",
        "id": observation_id,
        "status": status,
        "category": [concept((OBSERVATION_CATEGORY, category, category.title()))],
        "code": concept(code),
        "subject": ref("Patient", patient_id),
    }
    if encounter_id:
        resource["encounter"] = ref("Encounter", encounter_id)
    if effective:
        resource["effectiveDateTime"] = iso(effective)
    if issued:
        resource["issued"] = iso(issued)
    if quantity:
        value, unit = quantity
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    if text_value:
        resource["valueString"] = text_value
    return resource


def medication_administration(
    administration_id: str, patient_id: str, medication: Coding, given: datetime, encounter_id: str
) -> dict:
    """A completed MedicationAdministration during an encounter (R4 `context`)."""
    return {
        "resourceType": "MedicationAdministration",
        "id": administration_id,
        "status": "completed",
        "medicationCodeableConcept": concept(medication),
        "subject": ref("Patient", patient_id),
        "context": ref("Encounter", encounter_id),
        "effectiveDateTime": iso(given),
    }


def procedure(
    procedure_id: str,
    patient_id: str,
    code: Coding,
    performed: datetime,
    encounter_id: str | None = None,
) -> dict:
    """A completed Procedure."""
    resource = {
        "resourceType": "Procedure",
        "id": procedure_id,
        "status": "completed",
        "code": concept(code),
        "subject": ref("Patient", patient_id),
        "performedDateTime": iso(performed),
    }
    if encounter_id:
        resource["encounter"] = ref("Encounter", encounter_id)
    return resource


def service_request(
    request_id: str, patient_id: str, code: Coding, authored: datetime, requester: str
) -> dict:
    """An active ServiceRequest (order) authored at a time."""
    return {
        "resourceType": "ServiceRequest",
        "id": request_id,
        "status": "active",
        "intent": "order",
        "code": concept(code),
        "subject": ref("Patient", patient_id),
        "authoredOn": iso(authored),
        "requester": ref("Practitioner", requester),
    }


def allergy(allergy_id: str, patient_id: str, code: Coding, recorded: datetime) -> dict:
    """An active, confirmed AllergyIntolerance to a medication."""
    return {
        "resourceType": "AllergyIntolerance",
        "id": allergy_id,
        "clinicalStatus": concept((ALLERGY_CLINICAL, "active", "Active")),
        "verificationStatus": concept((ALLERGY_VERIFICATION, "confirmed", "Confirmed")),
        "type": "intolerance",
        "category": ["medication"],
        "code": concept(code),
        "patient": ref("Patient", patient_id),
        "recordedDate": iso(recorded),
    }
