"""FHIR R4 search for the fixture store: supported parameters, validation, matching and _sort."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.devtools.fhir_dates import (
    DATE_PREFIXES,
    EARLIEST,
    DateRange,
    date_match,
    element_range,
    parse_date_range,
)

# Result-shaping parameters: the HTTP layer pages and formats; search accepts and ignores them.
RESULT_PARAMS = frozenset({"_count", "_getpagesoffset", "_format", "_pretty"})

Filter = Callable[[dict], bool]
Params = list[tuple[str, str]]
SortKey = tuple[Callable[[dict], datetime | None], bool]


class SearchError(ValueError):
    """A search the store refuses; `param` names the offending parameter."""

    def __init__(self, param: str, message: str | None = None):
        super().__init__(message or f"Search parameter '{param}' is not supported.")
        self.param = param


class UnsupportedSearch(SearchError):
    """A parameter, modifier, prefix or _sort key this store does not support."""


class InvalidSearchValue(SearchError):
    """A supported parameter whose value is malformed (e.g. an unparseable date)."""


@dataclass(frozen=True)
class SearchParam:
    """One supported search parameter: its FHIR type and the resource elements it reads."""

    name: str
    type: str
    paths: tuple[str, ...]
    target: str | None = None


_ID = SearchParam("_id", "token", ("id",))
_PATIENT = SearchParam("patient", "reference", ("subject",), target="Patient")
_SUBJECT = SearchParam("subject", "reference", ("subject",))
_STATUS = SearchParam("status", "token", ("status",))
_CATEGORY = SearchParam("category", "token", ("category",))
_CODE = SearchParam("code", "token", ("code",))
_CLINICAL = SearchParam("clinical-status", "token", ("clinicalStatus",))
_ONSET = SearchParam("onset-date", "date", ("onsetDateTime", "onsetPeriod"))
_EFFECTIVE = SearchParam(
    "date", "date", ("effectiveDateTime", "effectivePeriod", "effectiveInstant")
)
_MEDICATION = SearchParam("code", "token", ("medicationCodeableConcept",))
_AUTHORED = SearchParam("authoredon", "date", ("authoredOn",))
_PERIOD = SearchParam("date", "date", ("period",))
_PERFORMED = SearchParam("date", "date", ("performedDateTime", "performedPeriod"))
_ALLERGY_PATIENT = SearchParam("patient", "reference", ("patient",), target="Patient")
_RECORDED = SearchParam("date", "date", ("recordedDate",))
_EFFECTIVE_TIME = SearchParam("effective-time", "date", ("effectiveDateTime", "effectivePeriod"))
_PRACTITIONER = SearchParam("practitioner", "reference", ("practitioner",), target="Practitioner")
SEARCH_PARAMS: dict[str, tuple[SearchParam, ...]] = {
    "Patient": (),
    "Condition": (_PATIENT, _SUBJECT, _CLINICAL, _CATEGORY, _CODE, _ONSET),
    "Observation": (_PATIENT, _SUBJECT, _STATUS, _CATEGORY, _CODE, _EFFECTIVE),
    "MedicationRequest": (_PATIENT, _SUBJECT, _STATUS, _CATEGORY, _MEDICATION, _AUTHORED),
    "Encounter": (_PATIENT, _SUBJECT, _STATUS, _PERIOD),
    "ServiceRequest": (_PATIENT, _SUBJECT, _STATUS, _CATEGORY, _CODE),
    "Procedure": (_PATIENT, _SUBJECT, _STATUS, _CODE, _PERFORMED),
    "AllergyIntolerance": (_ALLERGY_PATIENT, _CLINICAL, _CODE, _RECORDED),
    "MedicationAdministration": (_PATIENT, _SUBJECT, _STATUS, _MEDICATION, _EFFECTIVE_TIME),
    "PractitionerRole": (_PRACTITIONER,),
}


def search_params(resource_type: str) -> list[SearchParam]:
    """The search parameters supported for resource_type, `_id` first."""
    return [_ID, *SEARCH_PARAMS.get(resource_type, ())]


def find_matches(resource_type: str, resources: Iterable[dict], params: Params) -> list[dict]:
    """Validate params, then return the matches sorted by `_sort` (else in the given order)."""
    filters, sort_keys = _compile(resource_type, params)
    matches = [r for r in resources if all(f(r) for f in filters)]
    return _sorted(matches, sort_keys)


def _compile(resource_type: str, params: Params) -> tuple[list[Filter], list[SortKey]]:
    """Validate every parameter and turn it into a filter or sort key."""
    by_name = {p.name: p for p in search_params(resource_type)}
    filters: list[Filter] = []
    sort_keys: list[SortKey] = []
    for name, raw in params:
        if name in RESULT_PARAMS or raw == "":
            continue
        if name == "_sort":
            sort_keys = [_sort_key(by_name, key) for key in raw.split(",") if key]
        elif name in by_name:
            filters.append(_compile_filter(by_name[name], _split_or(raw)))
        else:
            supported = ", ".join(by_name)
            message = f"Search parameter '{name}' is not supported for {resource_type}"
            raise UnsupportedSearch(name, f"{message} (supported: {supported}).")
    return filters, sort_keys


def _split_or(raw: str) -> list[str]:
    """Split a parameter value on unescaped commas (OR), unescaping `\\,`."""
    parts = re.split(r"(?<!\\),", raw)
    return [part.replace("\\,", ",") for part in parts if part]


def _sort_key(by_name: dict[str, SearchParam], key: str) -> SortKey:
    """Compile one `_sort` key (`date` or `-date`) into (extractor, descending)."""
    name = key.lstrip("-")
    param = by_name.get(name)
    if param is None or param.type != "date":
        dates = ", ".join(p.name for p in by_name.values() if p.type == "date") or "none"
        raise UnsupportedSearch(
            "_sort", f"_sort by '{name}' is not supported (supported: {dates})."
        )
    return (lambda r: min((rng[0] for rng in _date_ranges(param, r)), default=None)), key[0] == "-"


def _sorted(resources: list[dict], keys: list[SortKey]) -> list[dict]:
    """Sort by the keys (missing values last in either direction), ties broken by id."""

    def order(resource: dict) -> tuple:
        """The sort key: per _sort key (missing?, signed microseconds), then id."""
        parts = []
        for extract, descending in keys:
            value = extract(resource)
            micros = 0 if value is None else (value - EARLIEST) // timedelta(microseconds=1)
            parts.append((value is None, -micros if descending else micros))
        return (*parts, resource["id"])

    return sorted(resources, key=order) if keys else resources


def _compile_filter(param: SearchParam, values: list[str]) -> Filter:
    """Build the filter for one parameter occurrence; its comma-separated values OR together."""
    if param.type == "token":
        tokens = [_parse_token(param, v) for v in values]
        return lambda r: any(_token_match(t, el) for el in _elements(param, r) for t in tokens)
    if param.type == "reference":
        refs = [_parse_reference(v, param.target) for v in values]
        return lambda r: any(
            _reference_match(ref, el) for el in _elements(param, r) for ref in refs
        )
    dates = [_parse_date_value(param, v) for v in values]
    return lambda r: any(date_match(p, d, rng) for rng in _date_ranges(param, r) for p, d in dates)


def _elements(param: SearchParam, resource: dict) -> Iterator[object]:
    """Yield the values of the parameter's elements, flattening lists."""
    for path in param.paths:
        value = resource.get(path)
        yield from value if isinstance(value, list) else ([] if value is None else [value])


def _parse_token(param: SearchParam, raw: str) -> tuple[str | None, str | None]:
    """Parse `code`, `system|code`, `|code` or `system|` into (system, code); None = any."""
    if "|" not in raw:
        return None, raw
    system, code = raw.split("|", 1)
    if not system and not code:
        raise InvalidSearchValue(param.name, f"'{raw}' is not a valid token for '{param.name}'.")
    return system, code or None


def _token_match(token: tuple[str | None, str | None], element: object) -> bool:
    """Match a token against a code string (system implicit), Coding or CodeableConcept."""
    system, code = token
    if isinstance(element, str):
        return code is None or element == code
    if not isinstance(element, dict):
        return False
    codings = element.get("coding", []) if "coding" in element else [element]
    return any(
        (system is None or (c.get("system") or "") == system)
        and (code is None or c.get("code") == code)
        for c in codings
    )


def _parse_reference(raw: str, target: str | None) -> tuple[str | None, str]:
    """Parse `123`, `Patient/123` or an absolute URL into (type or None, id)."""
    parts = raw.rstrip("/").split("/")
    ref_type, ref_id = (parts[-2], parts[-1]) if len(parts) > 1 else (None, parts[0])
    if target and ref_type is None:
        ref_type = target
    return ref_type, ref_id


def _reference_match(wanted: tuple[str | None, str], element: object) -> bool:
    """Match a parsed reference against a Reference element."""
    if not isinstance(element, dict) or not element.get("reference"):
        return False
    ref_type, ref_id = _parse_reference(element["reference"], None)
    return ref_id == wanted[1] and wanted[0] in (None, ref_type)


def _parse_date_value(param: SearchParam, raw: str) -> tuple[str, DateRange]:
    """Parse a date search value with its optional prefix into (prefix, range)."""
    prefix, text = (
        (raw[:2], raw[2:]) if raw[:2] in (*DATE_PREFIXES, "sa", "eb", "ap") else ("eq", raw)
    )
    if prefix not in DATE_PREFIXES:
        message = f"Prefix '{prefix}' in {param.name}={raw} is not supported"
        raise UnsupportedSearch(param.name, f"{message} (use {', '.join(DATE_PREFIXES)}).")
    try:
        return prefix, parse_date_range(text)
    except (ValueError, OverflowError) as exc:
        raise InvalidSearchValue(
            param.name, f"'{raw}' is not a valid date for '{param.name}'."
        ) from exc


def _date_ranges(param: SearchParam, resource: dict) -> Iterator[DateRange]:
    """Yield the implicit range of each date/dateTime/Period element (malformed ones skipped)."""
    for element in _elements(param, resource):
        try:
            found = element_range(element)
        except (ValueError, OverflowError):
            continue
        if found is not None:
            yield found
