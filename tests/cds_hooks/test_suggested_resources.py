"""Every suggested resource of every shipped module is valid FHIR R4 that a CDS client can apply."""

from __future__ import annotations

from functools import cache

import pytest
from fhir.resources.R4B import get_fhir_model_class

from app.library.loader import load_library
from app.settings import REPO_ROOT
from cds_hooks.card_resources import with_concept_text
from cds_hooks.cards import card_template, suggestions_of

HOOK_CONTEXT = {"patientId": "example", "encounterId": "example", "userId": "Practitioner/example"}


@cache
def shipped_modules() -> dict[str, dict]:
    """The shipped content library's modules, loaded once."""
    return load_library(REPO_ROOT / "content").modules


def module_languages() -> list[tuple[str, str]]:
    """Every (module id, language) pair of a shipped module that makes suggestions."""
    return [
        (module_id, language)
        for module_id, module in shipped_modules().items()
        if module["card"].get("suggestions")
        for language in module["languages"]
    ]


def suggested_resources(module_id: str, language: str) -> list[dict]:
    """Build a module's suggestions through the card path and return the resources they carry."""
    template = card_template(shipped_modules()[module_id], language)
    suggestions = suggestions_of(template.suggestions, bytes(16), HOOK_CONTEXT)
    return [action["resource"] for suggestion in suggestions for action in suggestion["actions"]]


def codeable_concepts(element: object) -> list[dict]:
    """Every dict (at any depth) holding a coding list, i.e. every CodeableConcept."""
    if isinstance(element, list):
        return [found for item in element for found in codeable_concepts(item)]
    if not isinstance(element, dict):
        return []
    nested = [found for value in element.values() for found in codeable_concepts(value)]
    return [element, *nested] if isinstance(element.get("coding"), list) else nested


def test_the_shipped_library_makes_suggestions():
    assert len(module_languages()) >= 2


@pytest.mark.parametrize(("module_id", "language"), module_languages())
def test_suggested_resources_are_valid_r4(module_id, language):
    """Each resource parses with fhir.resources and dumps back unchanged (nothing dropped)."""
    for resource in suggested_resources(module_id, language):
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.model_dump(mode="json", exclude_none=True) == resource


@pytest.mark.parametrize(("module_id", "language"), module_languages())
def test_every_suggested_concept_carries_text(module_id, language):
    """Clients such as the CDS Hooks sandbox refuse to apply a concept without text."""
    concepts = [
        concept
        for resource in suggested_resources(module_id, language)
        for concept in codeable_concepts(resource)
    ]
    assert concepts
    for concept in concepts:
        assert isinstance(concept.get("text"), str) and concept["text"].strip(), concept


def test_concept_text_comes_from_the_first_display_unless_the_module_gives_one():
    template = {
        "medicationCodeableConcept": {
            "coding": [{"system": "s", "code": "1"}, {"system": "s", "code": "2", "display": "B"}]
        },
        "code": {"coding": [{"system": "s", "code": "3", "display": "C"}], "text": "Own"},
        "reasonCode": [{"coding": [{"system": "s", "code": "4"}]}],
    }
    assert with_concept_text(template) == {
        "medicationCodeableConcept": {**template["medicationCodeableConcept"], "text": "B"},
        "code": template["code"],
        "reasonCode": template["reasonCode"],
    }
    assert "text" not in template["medicationCodeableConcept"]
