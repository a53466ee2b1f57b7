"""Suggestion resource templates: fill {{context.x}} tokens, compiled once per template."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

CONTEXT_TOKEN = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")

Filler = Callable[[Mapping[str, str]], object]


def fill_resource(template: object, context: Mapping[str, str]) -> object:
    """Fill {{context.x}} tokens in a resource template; drop elements whose value is missing."""
    if isinstance(template, dict):
        filled = {key: fill_resource(value, context) for key, value in template.items()}
        kept = {key: value for key, value in filled.items() if value is not None}
        return kept or None
    if isinstance(template, list):
        items = [fill_resource(item, context) for item in template]
        return [item for item in items if item is not None] or None
    if isinstance(template, str) and CONTEXT_TOKEN.search(template):
        names = CONTEXT_TOKEN.findall(template)
        if not all(isinstance(context.get(name), str) and context[name] for name in names):
            return None
        return CONTEXT_TOKEN.sub(lambda found: context[found.group(1)], template)
    return template


def with_concept_text(template: object) -> object:
    """Copy a resource template; a CodeableConcept without text takes its first coding's display.

    Clients such as the CDS Hooks sandbox apply a suggestion only when its concepts carry text.
    """
    if isinstance(template, list):
        return [with_concept_text(item) for item in template]
    if not isinstance(template, dict):
        return template
    copied = {key: with_concept_text(value) for key, value in template.items()}
    if isinstance(copied.get("coding"), list) and not copied.get("text"):
        display = first_display(copied["coding"])
        if display:
            copied["text"] = display
    return copied


def first_display(codings: list) -> str | None:
    """The display of the first coding that has one."""
    for coding in codings:
        display = coding.get("display") if isinstance(coding, dict) else None
        if isinstance(display, str) and display.strip():
            return display
    return None


def compile_resource(template: object) -> Filler:
    """Return a filler equal to fill_resource(template, ·) whose token-free parts are constants."""
    if not has_tokens(template):
        constant = fill_resource(template, {})
        return lambda _context: constant
    if isinstance(template, dict):
        parts = [(key, compile_resource(value)) for key, value in template.items()]
        return lambda context: filled_dict(parts, context)
    if isinstance(template, list):
        items = [compile_resource(item) for item in template]
        return lambda context: filled_list(items, context)
    return compile_string(str(template))


def compile_string(template: str) -> Filler:
    """A filler for a string with tokens, split once into its literal pieces and token names."""
    pieces = CONTEXT_TOKEN.split(template)  # literal, name, literal, …, name, literal
    head, pairs = pieces[0], list(zip(pieces[1::2], pieces[2::2], strict=True))

    def fill(context: Mapping[str, str]) -> str | None:
        filled = [head]
        for name, literal in pairs:
            value = context.get(name)
            if not isinstance(value, str) or not value:
                return None
            filled += (value, literal)
        return "".join(filled)

    return fill


def has_tokens(template: object) -> bool:
    """Tell whether any string in the template holds a {{context.x}} token."""
    if isinstance(template, dict):
        return any(has_tokens(value) for value in template.values())
    if isinstance(template, list):
        return any(has_tokens(item) for item in template)
    return isinstance(template, str) and CONTEXT_TOKEN.search(template) is not None


def filled_dict(parts: list[tuple[str, Filler]], context: Mapping[str, str]) -> dict | None:
    """Fill each member; drop the missing ones (and the dict when nothing is left)."""
    kept = {}
    for key, filler in parts:
        value = filler(context)
        if value is not None:
            kept[key] = value
    return kept or None


def filled_list(items: list[Filler], context: Mapping[str, str]) -> list | None:
    """Fill each item; drop the missing ones (and the list when nothing is left)."""
    kept = [value for value in (filler(context) for filler in items) if value is not None]
    return kept or None
