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
