"""HTI-1 source attributes of a module (45 CFR 170.315(b)(11)(iv)(A)): derived, checked, shown.

Every module is an evidence-based decision support intervention. Its attributes come from what the
module already says (the guideline's citation, the people who controlled content, the editorial
status and review, the version) plus its `source_attributes` block (developer, funding, release and
revision dates, and a yes/no per demographic or social data element). A declared data use must
agree with what the module's triggers actually read, which `derived_data_use` works out from the
triggers; the content check refuses a module where the two disagree or an attribute is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from app.library import editorial
from app.library.findings import Finding, ModuleFile, criteria, field_path, get
from app.library.loader import ValueSet
from app.library.module_checks import as_date

REGULATION = "45 CFR 170.315(b)(11)(iv)(A)"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
# The data elements of (b)(11)(iv)(A)(5) to (13), in the regulation's order.
DATA_ELEMENTS = (
    "race",
    "ethnicity",
    "language",
    "sexual_orientation",
    "gender_identity",
    "sex",
    "date_of_birth",
    "social_determinants_of_health",
    "health_status_assessments",
)
ELEMENT_WORDS = {
    "race": "race",
    "ethnicity": "ethnicity",
    "language": "language",
    "sexual_orientation": "sexual orientation",
    "gender_identity": "gender identity",
    "sex": "sex",
    "date_of_birth": "date of birth",
    "social_determinants_of_health": "social determinants of health data",
    "health_status_assessments": "health status assessments data",
}
# What a FHIRPath trigger names when it reads a data element (Patient fields, US Core extensions).
FHIRPATH_READS = (
    (re.compile(r"\bbirthDate\b"), "date_of_birth", "Patient.birthDate"),
    (re.compile(r"\bgender\b"), "sex", "Patient.gender"),
    (re.compile(r"us-core-race"), "race", "US Core race extension"),
    (re.compile(r"us-core-ethnicity"), "ethnicity", "US Core ethnicity extension"),
    (re.compile(r"\bcommunication\b"), "language", "Patient.communication"),
    (re.compile(r"genderIdentity"), "gender_identity", "US Core gender identity extension"),
)
# ICD-10-CM Z55 to Z65: "Persons with potential health hazards related to socioeconomic and
# psychosocial circumstances", the codes USCDI's SDOH problems use.
SDOH_ICD10CM = re.compile(r"^Z(5[5-9]|6[0-5])(\.|$)")
# LOINC 72166-2 Tobacco smoking status, a USCDI v3 Health Status Assessments element.
HEALTH_STATUS_LOINC = frozenset({"72166-2"})


@dataclass(frozen=True)
class Reading:
    """One place the triggers read a data element: the trigger field and what it reads."""

    trigger: str
    reads: str


@dataclass(frozen=True)
class DataUse:
    """One data element of (A)(5) to (13): is it used, and where do the triggers read it."""

    element: str
    used: bool
    readings: tuple[Reading, ...]


@dataclass(frozen=True)
class Person:
    """Someone who controlled the module's content, as its disclosures name them."""

    name: str
    role: str


@dataclass(frozen=True)
class SourceAttributes:
    """The evidence-based DSI source attributes of one module version."""

    module_id: str
    version: str
    title: Mapping[str, str]
    citation: str
    citation_url: str
    developer: Mapping[str, str]
    people: tuple[Person, ...]
    editorial_status: str
    reviewer: str | None
    reviewed_on: str | None
    funding: Mapping[str, str]
    released: str
    revised: tuple[str, ...]
    guideline_year: int
    data_use: tuple[DataUse, ...]

    def as_json(self) -> dict[str, Any]:
        """The JSON form served beside the page."""
        return {
            "module": self.module_id,
            "version": self.version,
            "regulation": REGULATION,
            "citation": {"text": self.citation, "url": self.citation_url},
            "developer": {
                "text": dict(self.developer),
                "people": [{"name": p.name, "role": p.role} for p in self.people],
                "review": {
                    "status": self.editorial_status,
                    "reviewer": self.reviewer,
                    "date": self.reviewed_on,
                },
            },
            "funding": dict(self.funding),
            "dates": {
                "released": self.released,
                "revised": list(self.revised),
                "guideline_year": self.guideline_year,
            },
            "data_use": {
                use.element: {
                    "used": use.used,
                    "read_by": [{"trigger": r.trigger, "reads": r.reads} for r in use.readings],
                }
                for use in self.data_use
            },
        }


def source_attributes(module: dict, value_sets: Mapping[str, ValueSet]) -> SourceAttributes:
    """The attributes of a loaded module (which the content check has passed)."""
    block = module["source_attributes"]
    review = editorial.latest_review(module)
    readings = derived_data_use(module, value_sets)
    return SourceAttributes(
        module_id=module["id"],
        version=module["version"],
        title=module["title"],
        citation=citation_of(module["guideline"]),
        citation_url=module["guideline"]["url"],
        developer=block["developer"],
        people=tuple(
            Person(str(person["name"]), str(person["role"]))
            for person in get(module, "disclosures", "people") or []
        ),
        editorial_status=editorial.status(module),
        reviewer=review.signed if review else None,
        reviewed_on=review.date if review else None,
        funding=block["funding"],
        released=str(block["released"]),
        revised=tuple(str(day) for day in block.get("revised", ())),
        guideline_year=module["guideline"]["year"],
        data_use=tuple(
            DataUse(element, bool(block["data_use"][element]), tuple(readings.get(element, ())))
            for element in DATA_ELEMENTS
        ),
    )


def citation_of(guideline: dict) -> str:
    """The guideline as a bibliographic citation: organization, title, year, DOI, PMID."""
    parts = [guideline["organization"], guideline["title"], str(guideline["year"])]
    if guideline.get("doi"):
        parts.append(f"doi:{guideline['doi']}")
    if guideline.get("pmid"):
        parts.append(f"PMID: {guideline['pmid']}")
    return ". ".join(part.rstrip(".") for part in parts) + "."


def derived_data_use(module: dict, value_sets: Mapping[str, ValueSet]) -> dict[str, list[Reading]]:
    """Which data elements the module's triggers read, and where (what the matcher looks at)."""
    found: dict[str, list[Reading]] = {}
    triggers = module.get("triggers") or {}
    if triggers.get("age"):
        found.setdefault("date_of_birth", []).append(Reading("triggers.age", "Patient.birthDate"))
    if triggers.get("sex"):
        found.setdefault("sex", []).append(Reading("triggers.sex", "Patient.gender"))
    expression = get(triggers, "fhirpath", "expression")
    if isinstance(expression, str):
        for pattern, element, reads in FHIRPATH_READS:
            if pattern.search(expression):
                found.setdefault(element, []).append(Reading("triggers.fhirpath", reads))
    for element, reading in coded_readings(module, value_sets):
        found.setdefault(element, []).append(reading)
    return found


def coded_readings(
    module: dict, value_sets: Mapping[str, ValueSet]
) -> Iterator[tuple[str, Reading]]:
    """SDOH and health-status codes in the value sets the triggers look for."""
    for path, _, body in criteria(module):
        url = body.get("value_set")
        value_set = value_sets.get(url) if isinstance(url, str) else None
        if value_set is None:
            continue
        for system, code in sorted(value_set.codes):
            element = coded_element(system, code)
            if element is not None:
                label = "ICD-10-CM" if system == ICD10CM else "LOINC"
                reads = f"{value_set.title}: {label} {code}"
                yield element, Reading(field_path(path), reads)


def coded_element(system: str, code: str) -> str | None:
    """The data element a code belongs to, when it is one of (A)(5) to (13)."""
    if system == ICD10CM and SDOH_ICD10CM.match(code):
        return "social_determinants_of_health"
    if system == LOINC and code in HEALTH_STATUS_LOINC:
        return "health_status_assessments"
    return None


def check_source_attributes(entry: ModuleFile) -> list[Finding]:
    """Every attribute is there, the dates are in order, and the data use matches the triggers.

    The schema reports a missing or malformed field inside the block; this adds what it cannot say.
    """
    block = entry.data.get("source_attributes")
    if not isinstance(block, dict):
        return [
            entry.error(
                ["source_attributes"],
                "the HTI-1 source attributes are missing; add source_attributes with developer, "
                "funding, released and data_use (see content/FORMAT.md).",
            )
        ]
    findings = check_revisions(entry, block)
    declared = block.get("data_use")
    if isinstance(declared, dict):
        derived = derived_data_use(entry.data, entry.library.value_sets)
        for element in DATA_ELEMENTS:
            use = declared.get(element)
            findings.extend(compare_use(entry, element, use, derived.get(element)))
    return findings


def compare_use(
    entry: ModuleFile, element: str, declared: Any, readings: list[Reading] | None
) -> list[Finding]:
    """One data element: the declared yes/no against what the triggers read."""
    path = ["source_attributes", "data_use", element]
    words = ELEMENT_WORDS[element]
    if not isinstance(declared, bool):
        return []  # the schema reports it
    if readings and not declared:
        where = "; ".join(f"{r.trigger} reads {r.reads}" for r in readings)
        return [
            entry.error(path, f"declared false, but the triggers use {words} ({where}); set true.")
        ]
    if declared and not readings:
        return [
            entry.error(
                path,
                f"declared true, but no trigger reads {words}; set it to false, or add the "
                "trigger that uses it.",
            )
        ]
    return []


def check_revisions(entry: ModuleFile, block: dict) -> list[Finding]:
    """Each revision date of this version falls after its release date."""
    released = as_date(block.get("released"))
    if released is None:
        return []  # the schema reports a missing or malformed date
    findings = []
    for index, value in enumerate(block.get("revised") or []):
        revised = as_date(value)
        if revised is not None and revised <= released:
            message = f"revision date {revised} is not after the release date {released}."
            findings.append(entry.error(["source_attributes", "revised", index], message))
    return findings
