"""A synthetic content library: the shipped one plus N modules that never match the patient."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

SYSTEM = "https://bench.bedside.example/CodeSystem/synthetic"
VALUE_SET_BASE = "https://fhir.bedside.example/ValueSet"
BLOOD_CULTURE = f"{VALUE_SET_BASE}/blood-culture"
KINDS = ("condition", "medication", "allergy", "observation", "condition")
CODES_PER_VALUE_SET = 4
HOOKS = (["order-select", "order-sign"], ["patient-view"], ["order-select"], ["order-sign"])
INDICATORS = ("info", "warning", "critical")


def build_library(shipped: Path, target: Path, size: int) -> int:
    """Copy the shipped library into target and add `size` synthetic modules; return the total."""
    for folder in ("schema", "valuesets", "modules"):
        shutil.copytree(shipped / folder, target / folder, dirs_exist_ok=True)
    for number in range(size):
        for value_set in value_sets(number):
            path = target / "valuesets" / f"{value_set['id']}.json"
            path.write_text(json.dumps(value_set), encoding="utf-8")
        module = synthetic_module(number)
        # YAML is a superset of JSON: JSON text is a valid module file and quick to write.
        (target / "modules" / f"{module['id']}.yaml").write_text(
            json.dumps(module), encoding="utf-8"
        )
    return len(list((target / "modules").glob("*.yaml")))


def value_set_id(number: int, role: str) -> str:
    """The id of synthetic value set `role` (dx or rx) of module `number`."""
    return f"bench-syn-{number:05d}-{role}"


def value_sets(number: int) -> list[dict]:
    """The two value sets of one synthetic module, coded under the synthetic system."""
    return [
        {
            "resourceType": "ValueSet",
            "id": value_set_id(number, role),
            "url": f"{VALUE_SET_BASE}/{value_set_id(number, role)}",
            "version": "1.0.0",
            "name": f"BenchSynthetic{number:05d}{role.upper()}",
            "title": f"Benchmark synthetic {role} set {number}",
            "status": "draft",
            "description": "Synthetic codes for the Bedside benchmark; they match no real data.",
            "compose": {
                "include": [
                    {
                        "system": SYSTEM,
                        "concept": [
                            {"code": f"SYN-{number:05d}-{role}-{n}", "display": f"Synthetic {n}"}
                            for n in range(CODES_PER_VALUE_SET)
                        ],
                    }
                ]
            },
        }
        for role in ("dx", "rx")
    ]


def text(words: str) -> dict:
    """An English-only translatable text."""
    return {"en": words}


def synthetic_module(number: int) -> dict:
    """A schema-valid module whose positive criteria use only synthetic codes."""
    kind = KINDS[number % len(KINDS)]
    dx_ref = f"{VALUE_SET_BASE}/{value_set_id(number, 'dx')}"
    rx_ref = f"{VALUE_SET_BASE}/{value_set_id(number, 'rx')}"
    first = {kind: {"value_set": dx_ref, "as": "finding"}}
    if kind == "observation":
        first[kind].update(comparator=">", value=2 + number % 7, unit="mmol/L", within_hours=24)
    return {
        "id": f"bench-synthetic-{number:05d}",
        "version": "1.0.0",
        "title": text(f"Synthetic module {number}"),
        "languages": ["en"],
        "specialties": ["internal-medicine"],
        "audience": {"level": "intermediate", "professions": ["physician", "resident"]},
        "estimated_minutes": 5,
        "triggers": {
            "hooks": HOOKS[number % len(HOOKS)],
            "all_of": [first],
            "any_of": [
                {"draft_order": {"value_set": rx_ref}},
                {"medication": {"value_set": rx_ref}},
            ],
            "none_of": [{"observation": {"value_set": BLOOD_CULTURE, "within_hours": 24}}],
            "age": {"min_years": 18},
        },
        "card": {
            "indicator": INDICATORS[number % len(INDICATORS)],
            "summary": text(f"Synthetic finding {{finding}} (module {number})"),
            "detail": text("Synthetic teaching point for the benchmark library."),
            "override_reasons": [{"code": "not-applicable", "display": text("Not applicable")}],
        },
        "guideline": {
            "organization": "Bedside benchmark",
            "title": f"Synthetic guideline {number}",
            "year": 2025,
            "url": f"https://bench.bedside.example/guideline/{number}",
            "recommendation": text("A synthetic recommendation."),
            "strength": "Synthetic",
        },
        "case": {"vignette": text("A synthetic vignette."), "questions": questions()},
        "pass_mark_percent": 75,
        "credit": [{"type": "ama-pra-category-1", "amount": 0.25}],
        "disclosures": {
            "people": [{"name": "Benchmark", "role": "Generator", "relationships": "none"}],
            "commercial_support": "none",
            "statement": text("Synthetic benchmark content; not for learners."),
        },
        "editorial": {
            "status": "draft",
            "authors": [
                {
                    "name": "Benchmark",
                    "role": "Generator",
                    "date": "2026-01-01",
                    "relationships": "none",
                }
            ],
            "reviewers": [],
            "ai_assistance": {"used": False, "reviewed_by": None},
            "review_by": "2099-12-31",
            "superseded_by": None,
            "guideline_watch": {"watch_for": "Synthetic: none", "last_checked": "2026-01-01"},
        },
        "expires": "2099-12-31",
    }


def questions() -> list[dict]:
    """Three minimal single-best-answer questions."""
    options = [{"id": letter, "text": text(f"Option {letter}")} for letter in "abc"]
    return [
        {
            "id": f"q{n}",
            "stem": text(f"Synthetic question {n}?"),
            "options": options,
            "answer": "a",
            "rationale": text("Synthetic rationale."),
            "reference": "Synthetic reference",
        }
        for n in (1, 2, 3)
    ]
