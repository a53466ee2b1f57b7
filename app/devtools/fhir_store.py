"""In-memory, read-only FHIR R4 store over fixture Bundles, with a small but faithful search."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Result-shaping parameters: the HTTP layer pages and formats; search() accepts and ignores them.
RESULT_PARAMS = frozenset({"_count", "_getpagesoffset", "_format", "_pretty"})
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le")
_MIN = datetime.min.replace(tzinfo=UTC)
_MAX = datetime.max.replace(tzinfo=UTC)
_OFFSET = r"(?:Z|[+-]\d{2}:\d{2})"
_TIME = r"T(\d{2}):\d{2}(?::(\d{2})(\.\d+)?)?"
_DATE_RE = re.compile(rf"(\d{{4}})(?:-(\d{{2}})(?:-(\d{{2}})(?:{_TIME}{_OFFSET}?)?)?)?")
_SHIFTABLE_RE = re.compile(
    rf"(\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)({_OFFSET})?"
)

Filter = Callable[[dict], bool]
Params = list[tuple[str, str]]
SortKey = tuple[Callable[[dict], datetime | None], bool]


class FixtureError(ValueError):
    """A fixture file cannot be served: bad JSON, not a Bundle, or a conflicting duplicate id."""


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


def _param(name: str, type_: str, *paths: str, target: str | None = None) -> SearchParam:
    """Shorthand constructor for the SEARCH_PARAMS table."""
    return SearchParam(name, type_, paths, target)


_ID = _param("_id", "token", "id")
_PATIENT = _param("patient", "reference", "subject", target="Patient")
_SUBJECT = _param("subject", "reference", "subject")
_STATUS = _param("status", "token", "status")
_CATEGORY = _param("category", "token", "category")
_CODE = _param("code", "token", "code")
_CLINICAL = _param("clinical-status", "token", "clinicalStatus")
_ONSET = _param("onset-date", "date", "onsetDateTime", "onsetPeriod")
_EFFECTIVE = _param("date", "date", "effectiveDateTime", "effectivePeriod", "effectiveInstant")
_MEDICATION = _param("code", "token", "medicationCodeableConcept")
_AUTHORED = _param("authoredon", "date", "authoredOn")
_PERIOD = _param("date", "date", "period")
_PERFORMED = _param("date", "date", "performedDateTime", "performedPeriod")
_ALLERGY_PATIENT = _param("patient", "reference", "patient", target="Patient")
_RECORDED = _param("date", "date", "recordedDate")
SEARCH_PARAMS: dict[str, tuple[SearchParam, ...]] = {
    "Patient": (),
    "Condition": (_PATIENT, _SUBJECT, _CLINICAL, _CATEGORY, _CODE, _ONSET),
    "Observation": (_PATIENT, _SUBJECT, _STATUS, _CATEGORY, _CODE, _EFFECTIVE),
    "MedicationRequest": (_PATIENT, _SUBJECT, _STATUS, _CATEGORY, _MEDICATION, _AUTHORED),
    "Encounter": (_PATIENT, _SUBJECT, _STATUS, _PERIOD),
    "ServiceRequest": (_PATIENT, _SUBJECT, _STATUS, _CATEGORY, _CODE),
    "Procedure": (_PATIENT, _SUBJECT, _STATUS, _CODE, _PERFORMED),
    "AllergyIntolerance": (_ALLERGY_PATIENT, _CLINICAL, _CODE, _RECORDED),
}


class FixtureStore:
    """Fixture resources by type and id; read() and search() return deep copies."""

    def __init__(self, resources: Iterable[dict] = ()):
        self._by_type: dict[str, dict[str, dict]] = {}
        self._origin: dict[tuple[str, str], str] = {}
        for resource in resources:
            self.add(resource, origin="<constructor>")

    @classmethod
    def from_directory(cls, directory: Path, *, now: datetime | None = None) -> FixtureStore:
        """Load every *.json Bundle under directory, time-shifted to `now` when given."""
        directory = Path(directory)
        if not directory.is_dir():
            raise FixtureError(f"Fixture directory {directory} does not exist.")
        store = cls()
        for path in sorted(directory.rglob("*.json")):
            for resource in _bundle_resources(path, now):
                store.add(resource, origin=str(path))
        return store

    @property
    def resource_types(self) -> set[str]:
        """The resource types present in the fixtures."""
        return set(self._by_type)

    def supported_types(self) -> set[str]:
        """Types the store answers for: those present plus those with search parameters."""
        return self.resource_types | set(SEARCH_PARAMS)

    def search_params(self, resource_type: str) -> list[SearchParam]:
        """The search parameters supported for resource_type, `_id` first."""
        return [_ID, *SEARCH_PARAMS.get(resource_type, ())]

    def add(self, resource: dict, *, origin: str) -> None:
        """Add one resource; an identical duplicate is ignored, a differing one is an error."""
        key = (resource["resourceType"], resource["id"])
        existing = self._by_type.setdefault(key[0], {}).get(key[1])
        if existing is None:
            self._by_type[key[0]][key[1]] = resource
            self._origin[key] = origin
        elif existing != resource:
            raise FixtureError(
                f"{key[0]}/{key[1]} is defined differently in {self._origin[key]} and {origin}; "
                "a resource id may repeat across bundles only if the resources are identical."
            )

    def read(self, resource_type: str, resource_id: str) -> dict | None:
        """Return a copy of one resource, or None when it is not in the fixtures."""
        found = self._by_type.get(resource_type, {}).get(resource_id)
        return copy.deepcopy(found) if found is not None else None

    def search(self, resource_type: str, params: Params) -> list[dict]:
        """Return copies of every match (sorted by `_sort`, else fixture order)."""
        filters, sort_keys = self._compile(resource_type, params)
        candidates = self._by_type.get(resource_type, {}).values()
        matches = [r for r in candidates if all(f(r) for f in filters)]
        return [copy.deepcopy(r) for r in _sorted(matches, sort_keys)]

    def _compile(self, resource_type: str, params: Params) -> tuple[list[Filter], list[SortKey]]:
        """Validate every parameter and turn it into a filter or sort key."""
        by_name = {p.name: p for p in self.search_params(resource_type)}
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


def parse_date_range(text: str) -> tuple[datetime, datetime]:
    """Parse a FHIR date/dateTime/instant into its implicit half-open range [start, end)."""
    match = _DATE_RE.fullmatch(text)
    if not match:
        raise ValueError(f"'{text}' is not a FHIR date or dateTime")
    year, month, day, hour, second, fraction = match.groups()
    if hour is None:
        start = datetime(int(year), int(month or 1), int(day or 1), tzinfo=UTC)
        return start, _next_date(start, month, day)
    start = datetime.fromisoformat(text)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    if second is None:
        return start, start + timedelta(minutes=1)
    return start, start + timedelta(microseconds=10 ** max(0, 7 - len(fraction or ".")))


def shift_resource(node: object, delta: timedelta) -> object:
    """Shift every dateTime/instant string that has a time part; dates stay as they are."""
    if isinstance(node, dict):
        return {key: shift_resource(value, delta) for key, value in node.items()}
    if isinstance(node, list):
        return [shift_resource(value, delta) for value in node]
    if isinstance(node, str):
        return _shift_string(node, delta)
    return node


def _bundle_resources(path: Path, now: datetime | None) -> Iterator[dict]:
    """Yield the (possibly time-shifted) resources of one fixture Bundle file."""
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FixtureError(f"Cannot read fixture {path}: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FixtureError(f"Fixture {path} is not a FHIR Bundle.")
    delta = _shift_delta(path, bundle, now)
    for index, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not (isinstance(resource, dict) and resource.get("resourceType") and resource.get("id")):
            raise FixtureError(f"Fixture {path} entry {index} has no resource with a type and id.")
        yield shift_resource(resource, delta) if delta is not None else resource


def _shift_delta(path: Path, bundle: dict, now: datetime | None) -> timedelta | None:
    """How far to move this Bundle's times so that its timestamp lands on `now`."""
    if now is None:
        return None
    try:
        stamp = parse_date_range(bundle["timestamp"])[0]
    except (KeyError, TypeError, ValueError) as exc:
        raise FixtureError(f"Fixture {path} needs a valid Bundle.timestamp to shift.") from exc
    return (now if now.tzinfo else now.replace(tzinfo=UTC)) - stamp


def _shift_string(text: str, delta: timedelta) -> str:
    """Shift one string if it is a dateTime with a time, keeping its precision and offset."""
    match = _SHIFTABLE_RE.fullmatch(text)
    if not match:
        return text
    local, offset = match.groups()
    shifted = (datetime.fromisoformat(local) + delta).isoformat(timespec="microseconds")
    return shifted[: len(local)].ljust(len(local), "0") + (offset or "")


def _next_date(start: datetime, month: str | None, day: str | None) -> datetime:
    """The end of a date-only value's range: next day, month or year."""
    if day:
        return start + timedelta(days=1)
    if month:
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.replace(year=start.year + 1)


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
            micros = 0 if value is None else (value - _MIN) // timedelta(microseconds=1)
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
    return lambda r: any(_date_match(d, rng) for rng in _date_ranges(param, r) for d in dates)


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


def _parse_date_value(param: SearchParam, raw: str) -> tuple[str, tuple[datetime, datetime]]:
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


def _date_ranges(param: SearchParam, resource: dict) -> Iterator[tuple[datetime, datetime]]:
    """Yield the implicit range of each date/dateTime/Period element (malformed ones skipped)."""
    for element in _elements(param, resource):
        try:
            if isinstance(element, str):
                yield parse_date_range(element)
            elif isinstance(element, dict):
                start, end = element.get("start"), element.get("end")
                low = parse_date_range(start)[0] if start else _MIN
                yield low, parse_date_range(end)[1] if end else _MAX
        except (ValueError, OverflowError):
            continue


def _date_match(wanted: tuple[str, tuple[datetime, datetime]], target: tuple) -> bool:
    """FHIR R4 prefix semantics between the search range and the target range."""
    prefix, (low, high) = wanted
    contained = low <= target[0] and target[1] <= high
    if prefix in ("eq", "ne"):
        return contained == (prefix == "eq")
    above, below = target[1] > high, target[0] < low
    return {"gt": above, "lt": below, "ge": above or contained, "le": below or contained}[prefix]
