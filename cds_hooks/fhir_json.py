"""Typed reads of FHIR JSON from EHRs, which can be malformed: never raise, return empty."""

from __future__ import annotations


def as_dict(value: object) -> dict:
    """Return value if it is a JSON object, else an empty one (EHR data can be malformed)."""
    return value if isinstance(value, dict) else {}


def as_str(value: object) -> str | None:
    """Return value if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def dicts_in(value: object) -> list[dict]:
    """Return the JSON objects in a list (nothing when value is not a list)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def coding_triples(concept: object) -> list[tuple[str, str, str]]:
    """(system, code, display) of each coding that has a system and a code (display may be '')."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        return []
    found = []
    for coding in codings:
        if not isinstance(coding, dict):
            continue
        system, code = coding.get("system"), coding.get("code")
        if system and code and isinstance(system, str) and isinstance(code, str):
            display = coding.get("display")
            found.append((system, code, display if isinstance(display, str) else ""))
    return found
