"""Keep patient data out of the ledger: a guard over everything a caller can write into it.

The interface already takes no patient argument; this guard catches a patient identifier smuggled
into free text, answers or evidence (FHIR Patient/Encounter references, MRN-like digit runs,
social security numbers, e-mail addresses, phone numbers) and patient-shaped keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from app.ledger.models import PatientDataRefused

PATIENT_KEYS = frozenset(
    {
        "patient",
        "patientid",
        "patient_id",
        "mrn",
        "subject",
        "encounter",
        "encounterid",
        "encounter_id",
        "birthdate",
        "birth_date",
        "ssn",
    }
)
PATIENT_PATTERNS = (
    ("a FHIR patient or encounter reference", re.compile(r"\b(Patient|Encounter)/[A-Za-z0-9\-.]+")),
    ("a social security number", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("an e-mail address", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")),
    ("a phone number", re.compile(r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b")),
    ("a record number (7 or more digits)", re.compile(r"\b\d{7,}\b")),
)


def check_free_of_patient_data(value: object, where: str) -> None:
    """Raise PatientDataRefused when text, a mapping or a list looks like patient data."""
    if isinstance(value, str):
        check_text(value, where)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower() in PATIENT_KEYS:
                raise PatientDataRefused(f"{where}: {key!r} would put patient data in the ledger.")
            check_free_of_patient_data(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_free_of_patient_data(item, f"{where}[{index}]")


def check_text(text: str, where: str) -> None:
    """Refuse text that contains something shaped like a patient identifier."""
    for description, pattern in PATIENT_PATTERNS:
        if pattern.search(text):
            raise PatientDataRefused(
                f"{where} contains {description}; the ledger never holds patient data."
            )
