"""In-memory, read-only FHIR R4 store over fixture Bundles, with a small but faithful search."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.devtools.fhir_dates import parse_date_range, shift_resource
from app.devtools.fhir_search import (
    RESULT_PARAMS,
    SEARCH_PARAMS,
    InvalidSearchValue,
    Params,
    SearchError,
    SearchParam,
    UnsupportedSearch,
    find_matches,
    search_params,
)

__all__ = [
    "RESULT_PARAMS",
    "SEARCH_PARAMS",
    "FixtureError",
    "FixtureStore",
    "InvalidSearchValue",
    "SearchError",
    "SearchParam",
    "UnsupportedSearch",
    "parse_date_range",
    "shift_resource",
]


class FixtureError(ValueError):
    """A fixture file cannot be served: bad JSON, not a Bundle, or a conflicting duplicate id."""


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
        return search_params(resource_type)

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
        candidates = self._by_type.get(resource_type, {}).values()
        return [copy.deepcopy(r) for r in find_matches(resource_type, candidates, params)]


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
