"""What `bedside content check` reports and what each check looks at.

The findings and the report; the content files a check reads (a module, a measure, a value set
file) and the library around them; JSON Schema errors as findings that say how to fix them; and
the small walkers the checks use to find fields in a module or measure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import jsonschema

from app.library.loader import ValueSet

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
FieldPath = tuple[str | int, ...]

# Markdown fields (translatable), as paths; `*` stands for every item of a list.
MARKDOWN_FIELDS: tuple[FieldPath, ...] = (
    ("card", "detail"),
    ("case", "vignette"),
    ("guideline", "summary"),
    ("case", "questions", "*", "rationale"),
)
CRITERIA_LISTS = ("all_of", "any_of", "none_of")
MAX_MESSAGE = 300
REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")
MODULE_SCHEMA_HINT = "see content/FORMAT.md and content/schema/module.schema.json."

Hint = Callable[[Sequence[str | int]], str]


@dataclass(frozen=True)
class Finding:
    """One problem: how bad, which file, which field (dotted path) and what to do about it."""

    severity: Severity
    file: str
    field: str
    message: str

    def line(self) -> str:
        """The one-line text form: `ERROR content/modules/x.yaml: card.summary.es: …`."""
        return f"{self.severity.upper()} {self.file}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {
            "severity": self.severity,
            "file": self.file,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class CheckReport:
    """Every finding of one run, with what was checked; `ok` when there is no error."""

    findings: list[Finding] = field(default_factory=list)
    modules: int = 0
    value_sets: int = 0
    measures: int = 0

    @property
    def ok(self) -> bool:
        """True when no finding is an error (warnings and infos do not fail the check)."""
        return not any(finding.severity == "error" for finding in self.findings)

    def count(self, severity: Severity) -> int:
        """How many findings have this severity."""
        return sum(finding.severity == severity for finding in self.findings)

    def summary(self) -> str:
        """`12 modules, 30 value sets, 4 measures: 0 errors, 2 warnings` (and infos if any)."""
        parts = [plural(self.count("error"), "error"), plural(self.count("warning"), "warning")]
        if self.count("info"):
            parts.append(plural(self.count("info"), "info"))
        nouns = {"module": self.modules, "value set": self.value_sets, "measure": self.measures}
        checked = ", ".join(plural(count, noun) for noun, count in nouns.items())
        return f"{checked}: {', '.join(parts)}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ok, counts, what was checked and every finding."""
        return {
            "ok": self.ok,
            "modules": self.modules,
            "value_sets": self.value_sets,
            "measures": self.measures,
            "counts": {severity: self.count(severity) for severity in SEVERITIES},
            "findings": [finding.as_dict() for finding in self.findings],
        }


@dataclass
class ValueSetFile:
    """One value set file: its raw JSON (None when unreadable) and the loaded ValueSet."""

    path: Path
    file: str
    resource: dict | None = None
    value_set: ValueSet | None = None


@dataclass
class ContentFile:
    """A content file the checks report on: its path and how findings name it (`content/…`)."""

    path: Path
    file: str

    def finding(self, severity: Severity, parts: Iterable[str | int], message: str) -> Finding:
        """A finding about a field of this file."""
        return Finding(severity, self.file, field_path(parts), message)

    def error(self, parts: Iterable[str | int], message: str) -> Finding:
        """An error about a field of this file."""
        return self.finding("error", parts, message)

    def warning(self, parts: Iterable[str | int], message: str) -> Finding:
        """A warning about a field of this file."""
        return self.finding("warning", parts, message)


@dataclass
class ModuleFile(ContentFile):
    """One module file and what the checks need around it."""

    library: LibraryContext
    module: dict | None = None
    schema_ok: bool = False

    @property
    def data(self) -> dict:
        """The module mapping (empty when it could not be read)."""
        return self.module or {}

    @property
    def languages(self) -> list[str]:
        """The module's declared languages (English when missing or malformed)."""
        languages = self.data.get("languages")
        if not isinstance(languages, list) or not languages:
            return ["en"]
        return [language for language in languages if isinstance(language, str)]


@dataclass
class MeasureFile(ContentFile):
    """One measure file and what the checks need around it."""

    library: LibraryContext
    measure: dict | None = None
    schema_ok: bool = False

    @property
    def data(self) -> dict:
        """The measure mapping (empty when it could not be read)."""
        return self.measure or {}

    def value_set_references(self) -> Iterator[tuple[FieldPath, Any]]:
        """(path, url) for every value set URL the criteria list."""
        return value_set_references(get(self.data, "criteria"), ("criteria",))


@dataclass
class LibraryContext:
    """Everything loaded from one content folder, for the checks."""

    content_dir: Path
    today: date
    value_set_files: list[ValueSetFile] = field(default_factory=list)
    modules: list[ModuleFile] = field(default_factory=list)
    measure_value_set_files: list[ValueSetFile] = field(default_factory=list)
    measures: list[MeasureFile] = field(default_factory=list)

    @property
    def value_sets(self) -> dict[str, ValueSet]:
        """The library's value sets by canonical URL: the only ones modules may use."""
        return by_url(self.value_set_files)

    @property
    def all_value_set_files(self) -> list[ValueSetFile]:
        """The library's value set files, then the measure-only ones."""
        return [*self.value_set_files, *self.measure_value_set_files]

    @property
    def measure_value_sets(self) -> dict[str, ValueSet]:
        """What measures may use: the library's value sets and the measure-only ones, by URL."""
        return by_url(self.all_value_set_files)


def module_hint(parts: Sequence[str | int]) -> str:
    """Where to read about any module field."""
    return MODULE_SCHEMA_HINT


def schema_findings(
    entry: ContentFile, document: Any, validator: jsonschema.Validator, hint: Hint = module_hint
) -> list[Finding]:
    """Every schema error of a document (not just the first) once, in field order."""
    errors = sorted(
        validator.iter_errors(document),
        key=lambda error: ([str(part) for part in error.absolute_path], error.message),
    )
    return list(dict.fromkeys(schema_finding(entry, error, hint) for error in errors))


def schema_finding(
    entry: ContentFile, error: jsonschema.ValidationError, hint: Hint = module_hint
) -> Finding:
    """One schema error as a finding naming the field and saying how to fix it."""
    parts = list(error.absolute_path)
    message = error.message
    if error.validator == "required" and (match := REQUIRED.match(message)):
        parts.append(match.group("name"))
        message = "is required but missing; add it (see content/FORMAT.md)."
    elif error.validator == "additionalProperties":
        message += "; remove it or fix its spelling."
    elif error.validator == "type" and isinstance(error.instance, date):
        message = f"YAML read a date here; quote it: '{error.instance.isoformat()}'."
    else:
        message += f"; {hint(parts)}"
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return entry.error(parts, f"schema: {message}")


def plural(count: int, noun: str) -> str:
    """`1 error`, `2 errors`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def field_path(parts: Iterable[str | int]) -> str:
    """`("card", "suggestions", 0, "label", "en")` → `card.suggestions[0].label.en`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def by_url(entries: Iterable[ValueSetFile]) -> dict[str, ValueSet]:
    """Loaded value sets by canonical URL (the first file wins when two share a URL)."""
    found: dict[str, ValueSet] = {}
    for entry in entries:
        if entry.value_set is not None:
            found.setdefault(entry.value_set.url, entry.value_set)
    return found


def get(data: Any, *keys: str | int) -> Any:
    """data[k1][k2]… or None when any step is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int) and isinstance(data, list) and -len(data) <= key < len(data):
            data = data[key]
        elif isinstance(key, str) and isinstance(data, dict):
            data = data.get(key)
        else:
            return None
    return data


def items(data: Any) -> Iterator[tuple[int, Any]]:
    """enumerate(data) when data is a list, nothing otherwise."""
    if isinstance(data, list):
        yield from enumerate(data)


def resolve(
    data: Any, pattern: FieldPath, prefix: FieldPath = ()
) -> Iterator[tuple[FieldPath, Any]]:
    """Every (path, value) matching a field pattern whose `*` parts stand for every list item."""
    if not pattern:
        if data is not None:
            yield prefix, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        for index, item in items(data):
            yield from resolve(item, rest, (*prefix, index))
    elif isinstance(data, dict) and head in data:
        yield from resolve(data[head], rest, (*prefix, head))


def is_translatable(value: Any) -> bool:
    """A translatable text is a mapping with an `en` entry."""
    return isinstance(value, dict) and "en" in value


def translatable_texts(data: Any, prefix: FieldPath = ()) -> Iterator[tuple[FieldPath, dict]]:
    """Every translatable mapping in a module (FHIR resource templates are not translatable)."""
    if is_translatable(data):
        yield prefix, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key != "resource":
                yield from translatable_texts(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from translatable_texts(value, (*prefix, index))


def markdown_texts(module: dict) -> Iterator[tuple[FieldPath, dict]]:
    """Every translatable Markdown field of a module."""
    for pattern in MARKDOWN_FIELDS:
        for path, value in resolve(module, pattern):
            if is_translatable(value):
                yield path, value


def criteria(module: dict) -> Iterator[tuple[FieldPath, str, dict]]:
    """(path, kind, criterion) for every trigger criterion, `unless` ones included."""
    for list_name in CRITERIA_LISTS:
        yield from criteria_in(get(module, "triggers", list_name), ("triggers", list_name))


def criteria_in(listed: Any, prefix: FieldPath) -> Iterator[tuple[FieldPath, str, dict]]:
    """(path, kind, criterion) for a list of criteria and, recursively, their `unless` lists."""
    for index, criterion in items(listed):
        if isinstance(criterion, dict):
            for kind, body in criterion.items():
                if isinstance(body, dict):
                    yield (*prefix, index, kind), kind, body
                    yield from criteria_in(body.get("unless"), (*prefix, index, kind, "unless"))


def codings(data: Any, prefix: FieldPath) -> Iterator[tuple[FieldPath, dict]]:
    """Every coding (an item of any `coding` list) inside a FHIR resource template."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "coding":
                for index, coding in items(value):
                    if isinstance(coding, dict):
                        yield (*prefix, key, index), coding
            else:
                yield from codings(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from codings(value, (*prefix, index))


def strings(data: Any, prefix: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every string value inside nested data, with its path."""
    if isinstance(data, str):
        yield prefix, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from strings(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from strings(value, (*prefix, index))


def action_resources(module: dict) -> Iterator[tuple[FieldPath, dict]]:
    """Every suggestion action's resource template, with its path."""
    for s_index, suggestion in items(get(module, "card", "suggestions")):
        for a_index, action in items(get(suggestion, "actions")):
            resource = get(action, "resource")
            if isinstance(resource, dict):
                yield ("card", "suggestions", s_index, "actions", a_index, "resource"), resource


def each_language(texts: Iterable[tuple[FieldPath, dict]]) -> Iterator[tuple[FieldPath, str]]:
    """(path ending in the language, text) for every language of every translatable text."""
    for path, mapping in texts:
        for language, text in mapping.items():
            if isinstance(text, str):
                yield (*path, language), text


def value_set_references(node: Any, prefix: FieldPath) -> Iterator[tuple[FieldPath, Any]]:
    """(path, url) for every item of every `value_sets` list in the criteria."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "value_sets":
                for index, url in items(value):
                    yield (*prefix, key, index), url
            else:
                yield from value_set_references(value, (*prefix, key))
