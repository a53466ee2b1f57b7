"""Robust reads of FHIR R4 JSON (EHR data can be malformed): never raise, return empty or None.

Shared by the CDS Hooks service and the practice measures; it knows nothing of either.
"""

from __future__ import annotations

import math
from collections.abc import Container
from datetime import UTC, date, datetime
from typing import Any, TypeGuard

JsonObject = dict[str, Any]  # a FHIR resource or element, as parsed from JSON

Coding = tuple[str, str, str]  # (system, code, display)

REFUTED_VERIFICATION = {"refuted", "entered-in-error"}
USABLE_OBSERVATION_STATUS = {"final", "amended", "corrected", "preliminary"}
# An observation in any other status still says the test happened (e.g. a culture registered or
# still growing); only these say it did not.
VOID_OBSERVATION_STATUS = {"cancelled", "entered-in-error"}
PLACED_ORDER_STATUS = {"active", "completed"}


def as_dict(value: object) -> JsonObject:
    """Return value if it is a JSON object, else an empty one (EHR data can be malformed)."""
    return value if isinstance(value, dict) else {}


def as_str(value: object) -> str | None:
    """Return value if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def dicts_in(value: object) -> list[JsonObject]:
    """Return the JSON objects in a list (nothing when value is not a list)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number: an int or float, not a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def finite_float(value: object) -> float | None:
    """A JSON number as a finite float; None for a boolean, NaN, infinity or too large an int."""
    if not is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def strings_in(value: object) -> list[str]:
    """Return the non-empty strings in a list (nothing when value is not a list)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str) and item]


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


def status_code(concept: object) -> str | None:
    """Return the first code of a status CodeableConcept."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if isinstance(codings, list):  # read in place: the measures ask this of every resource
        for coding in codings:
            code = coding.get("code") if isinstance(coding, dict) else None
            if isinstance(code, str) and code:
                return code
    return None


def first_coding_in(concept: object, codes: Container[tuple[str, str]]) -> Coding | None:
    """The first (system, code, display) of a CodeableConcept whose (system, code) is in codes.

    The same codings as `coding_triples`, read in place without building them: the measures
    ask this of every resource for each of their value sets.
    """
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        return None
    for coding in codings:
        if not isinstance(coding, dict):
            continue
        system, code = coding.get("system"), coding.get("code")
        try:  # looked up first: most codings are in no value set, and codes hold only strings
            known = (system, code) in codes
        except TypeError:  # a list or object where a string belongs
            continue
        if known and isinstance(system, str) and isinstance(code, str) and system and code:
            display = coding.get("display")
            return system, code, display if isinstance(display, str) else ""
    return None


def codings_of(concept: JsonObject | None) -> tuple[Coding, ...]:
    """Return (system, code, display) for each complete coding of a CodeableConcept."""
    return tuple(coding_triples(concept))


def parse_time(text: object) -> datetime | None:
    """Parse a FHIR date, dateTime or instant; assume UTC when no offset is given."""
    if not isinstance(text, str) or not text:
        return None
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def age_in_years(birth_date: object, now: datetime) -> float | None:
    """Return age in whole years on the date of `now` (None when birthDate is unknown)."""
    born = parse_time(birth_date)
    if born is None:
        return None
    today: date = now.date()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return float(years)


def reference_id(reference: object, resource_type: str) -> str | None:
    """Return the id in a Reference to the type (relative, absolute or versioned), else None."""
    text = as_str(as_dict(reference).get("reference"))
    if not text:
        return None
    if text.count("/") == 1:  # the usual relative "Type/id", without splitting
        kind, _, logical_id = text.partition("/")
        return logical_id if kind == resource_type and logical_id else None
    parts = text.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) >= 2 and parts[-2] == resource_type and parts[-1]:
        return parts[-1]
    return None
