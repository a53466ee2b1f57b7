"""Generic drug names only (ACCME): find brand names from brand_names.txt in a module's text."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from app.library.findings import (
    Finding,
    ModuleFile,
    action_resources,
    criteria,
    each_language,
    strings,
    translatable_texts,
)
from app.library.text_checks import summary_placeholders

BRAND_NAMES_PATH = Path(__file__).with_name("brand_names.txt")


@cache
def brand_names() -> dict[str, tuple[str, str]]:
    """{lowercase brand: (brand, generic)} from brand_names.txt (`Brand = generic`, # comments)."""
    names: dict[str, tuple[str, str]] = {}
    for line in BRAND_NAMES_PATH.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            brand, _, generic = (part.strip() for part in line.partition("="))
            names[brand.casefold()] = (brand, generic)
    return names


@cache
def brand_pattern() -> re.Pattern:
    """One case-insensitive pattern for every brand name, on word boundaries."""
    alternatives = "|".join(
        re.escape(brand)
        for _, (brand, _) in sorted(brand_names().items(), key=lambda item: -len(item[0]))
    )
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def brands_in(text: str) -> list[tuple[str, str]]:
    """(brand, generic) for every brand name in text, once each, in order."""
    found = dict.fromkeys(match.group(0).casefold() for match in brand_pattern().finditer(text))
    return [brand_names()[name] for name in found]


def brand_message(brand: str, generic: str) -> str:
    """The fix for a brand name."""
    instead = f" ({generic})" if generic else ""
    return f"brand name {brand!r}; use the generic name{instead} (ACCME: generic names only)."


def check_brand_names(entry: ModuleFile) -> list[Finding]:
    """No brand drug names in any learner-facing text or suggestion resource."""
    texts = list(each_language(translatable_texts(entry.data)))
    for prefix, resource in action_resources(entry.data):
        texts.extend(strings(resource, prefix))
    findings = [
        entry.error(path, brand_message(brand, generic))
        for path, text in texts
        for brand, generic in brands_in(text)
    ]
    return findings + summary_brand_warnings(entry)


def summary_brand_warnings(entry: ModuleFile) -> list[Finding]:
    """Warn when a value set whose display fills a summary placeholder has brand-name displays."""
    used = summary_placeholders(entry.data)
    findings = []
    for path, kind, body in criteria(entry.data):
        value_set = entry.library.value_sets.get(str(body.get("value_set")))
        if path[1] != "all_of" or kind == "observation" or body.get("as") not in used:
            continue
        displays = value_set.displays.values() if value_set else ()
        brands = sorted({brand for text in displays for brand, _ in brands_in(text)})
        if brands:
            message = (
                f"displays in this value set name brands ({', '.join(brands)}) and can appear in "
                f"the card summary as {{{body['as']}}}; prefer generic (SCD/IN) displays."
            )
            findings.append(entry.warning([*path, "value_set"], message))
    return findings
