"""JSON Schema errors of a content file (module or measure) as findings that say how to fix them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import jsonschema

from app.library.findings import ContentFile, Finding

MAX_MESSAGE = 300
REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")
MODULE_SCHEMA_HINT = "see content/FORMAT.md and content/schema/module.schema.json."

Hint = Callable[[Sequence[str | int]], str]


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
