"""FHIR R4 date handling for the fixture store: implicit ranges, search prefixes, time-shifting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

DateRange = tuple[datetime, datetime]

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le")
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
_OFFSET = r"(?:Z|[+-]\d{2}:\d{2})"
_TIME = r"T(\d{2}):\d{2}(?::(\d{2})(\.\d+)?)?"
_DATE_RE = re.compile(rf"(\d{{4}})(?:-(\d{{2}})(?:-(\d{{2}})(?:{_TIME}{_OFFSET}?)?)?)?")
_SHIFTABLE_RE = re.compile(
    rf"(\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)({_OFFSET})?"
)


def parse_date_range(text: str) -> DateRange:
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


def element_range(element: object) -> DateRange | None:
    """The range of a date string or Period (open ends unbounded); None if not a date element."""
    if isinstance(element, str):
        return parse_date_range(element)
    if isinstance(element, dict):
        start, end = element.get("start"), element.get("end")
        low = parse_date_range(start)[0] if start else EARLIEST
        return low, parse_date_range(end)[1] if end else LATEST
    return None


def date_match(prefix: str, wanted: DateRange, target: DateRange) -> bool:
    """FHIR R4 prefix semantics between the search range and the target range."""
    low, high = wanted
    contained = low <= target[0] and target[1] <= high
    if prefix in ("eq", "ne"):
        return contained == (prefix == "eq")
    above, below = target[1] > high, target[0] < low
    return {"gt": above, "lt": below, "ge": above or contained, "le": below or contained}[prefix]


def shift_resource(node: object, delta: timedelta) -> object:
    """Shift every dateTime/instant string that has a time part; dates stay as they are."""
    if isinstance(node, dict):
        return {key: shift_resource(value, delta) for key, value in node.items()}
    if isinstance(node, list):
        return [shift_resource(value, delta) for value in node]
    if isinstance(node, str):
        return _shift_string(node, delta)
    return node


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
