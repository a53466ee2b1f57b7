"""Checks of a module's text: summary templating and length, Markdown, links, brand names and
translations. Each takes a ModuleFile and returns findings.

Brand names: ACCME allows generic drug names only; the brands and their generic names are listed
in brand_names.txt beside this file."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from app.library.findings import (
    FieldPath,
    Finding,
    ModuleFile,
    action_resources,
    criteria,
    each_language,
    get,
    items,
    markdown_texts,
    strings,
    translatable_texts,
)
from app.library.markdown import (
    bare_urls,
    links_in,
    raw_html_in,
    render_markdown,
    structure_of,
)

SUMMARY_LIMIT = 139  # CDS Hooks: a card summary is "<140 characters"
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
OBSERVATION_VALUE = "9999.9"
STRUCTURE_WORDS = {
    "heading_open": "heading",
    "list_item_open": "list item",
    "table_open": "table",
    "tr_open": "table row",
}
BRAND_NAMES_PATH = Path(__file__).with_name("brand_names.txt")


def longest_values(entry: ModuleFile) -> tuple[dict[str, str], dict[str, str]]:
    """({name: longest plausible text} for `as:` names bound in all_of, {name: where} elsewhere)."""
    bound: dict[str, str] = {}
    elsewhere: dict[str, str] = {}
    value_sets = entry.library.value_sets
    for path, kind, body in criteria(entry.data):
        name = body.get("as")
        if not isinstance(name, str):
            continue
        if path[1] != "all_of":
            elsewhere.setdefault(name, str(path[1]))
            continue
        if kind == "observation":
            units = [body.get("unit"), *(body.get("also_units") or {})]
            units = [unit for unit in units if isinstance(unit, str)]
            longest_unit = max(units, key=len) if units else ""
            bound[name] = f"{OBSERVATION_VALUE} {longest_unit}".strip()
        else:
            value_set = value_sets.get(str(body.get("value_set")))
            displays = list(value_set.displays.values()) if value_set else []
            bound[name] = max(displays, key=len) if displays else "{" + name + "}"
    return bound, elsewhere


def check_summary(entry: ModuleFile) -> list[Finding]:
    """Placeholders are bound in all_of; the summary is <140 characters after templating."""
    summary = get(entry.data, "card", "summary")
    if not isinstance(summary, dict):
        return []
    bound, elsewhere = longest_values(entry)
    findings = []
    names_by_language = {}
    for language, text in summary.items():
        if not isinstance(text, str):
            continue
        path = ["card", "summary", language]
        names = PLACEHOLDER.findall(text)
        names_by_language[language] = set(names)
        for name in dict.fromkeys(names):
            if name not in bound:
                findings.append(entry.error(path, unbound(name, bound, elsewhere)))
        if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
            findings.append(entry.error(path, "a stray { or }; placeholders are written {name}."))
        filled = PLACEHOLDER.sub(lambda match: bound.get(match.group(1), match.group(0)), text)
        if len(filled) > SUMMARY_LIMIT:
            used = "; ".join(
                f"{{{n}}} = {shorten(bound[n])!r}" for n in dict.fromkeys(names) if n in bound
            )
            detail = f"; longest values {used}" if used else ""
            message = (
                f"{len(filled)} characters after templating (limit {SUMMARY_LIMIT}{detail}); "
                "shorten it."
            )
            findings.append(entry.error(path, message))
    english = names_by_language.get("en", set())
    for language, names in names_by_language.items():
        if names != english:
            findings.append(
                entry.warning(
                    ["card", "summary", language],
                    "uses placeholders "
                    f"{sorted(names)} but en uses {sorted(english)}; "
                    "translations should show the same evidence.",
                )
            )
    return findings


def summary_placeholders(module: dict) -> set[str]:
    """The placeholder names used in the card summary, in any language."""
    summary = get(module, "card", "summary")
    texts = summary.values() if isinstance(summary, dict) else ()
    return {name for text in texts if isinstance(text, str) for name in PLACEHOLDER.findall(text)}


def unbound(name: str, bound: dict, elsewhere: dict) -> str:
    """Explain why a {name} placeholder cannot be filled."""
    if not NAME.match(name):
        return f"{{{name}}} is not a valid placeholder; write {{name}} with an `as:` name."
    names = ", ".join(sorted(bound)) or "none"
    if name in elsewhere:
        return (
            f"{{{name}}} is bound in triggers.{elsewhere[name]}, not all_of; only all_of evidence "
            f"is sure to exist (bound in all_of: {names})."
        )
    return (
        f"{{{name}}} is not an `as:` name bound in triggers.all_of (bound: {names}); add "
        f"`as: {name}` to an all_of criterion or fix the placeholder."
    )


def shorten(text: str, limit: int = 60) -> str:
    """text, cut to limit characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_markdown(entry: ModuleFile) -> list[Finding]:
    """Markdown fields contain no raw HTML and render to something."""
    findings = []
    for path, text in each_language(markdown_texts(entry.data)):
        tags = list(dict.fromkeys(raw_html_in(text)))
        if tags:
            shown = ", ".join(shorten(tag, 40) for tag in tags[:5])
            message = (
                f"raw HTML is not allowed ({shown}); use Markdown (**bold**, - lists) instead."
            )
            findings.append(entry.error(path, message))
        try:
            html = render_markdown(text)
        except Exception as error:
            message = f"the Markdown does not render ({error!r}); simplify it."
            findings.append(entry.error(path, message))
            continue
        if text.strip() and not html.strip():
            message = "the Markdown renders to nothing; write the text as paragraphs or lists."
            findings.append(entry.error(path, message))
    return findings


def https_problem(url: str) -> str | None:
    """Why url is not an absolute https link, or None."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "http":
        return f"link {url} uses http; use https://{url[len('http://') :]}."
    return f"link {url!r} is not an absolute https URL; write the full https://… address."


def check_links(entry: ModuleFile) -> list[Finding]:
    """guideline.url, every URL in Markdown text and in question references are absolute https."""
    links: list[tuple[FieldPath, str]] = [
        (("guideline", "url"), get(entry.data, "guideline", "url"))
    ]
    for path, text in each_language(markdown_texts(entry.data)):
        links.extend((path, link) for link in dict.fromkeys(links_in(text)))
    for index, question in items(get(entry.data, "case", "questions")):
        reference = get(question, "reference")
        for link in bare_urls(reference if isinstance(reference, str) else ""):
            links.append((("case", "questions", index, "reference"), link))
    return [
        entry.error(path, problem)
        for path, link in links
        if isinstance(link, str) and (problem := https_problem(link))
    ]


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


def brands_in(text: str) -> list[tuple[str, str]]:
    """(brand, generic) for every brand name in text, once each, in order."""
    found = dict.fromkeys(match.group(0).casefold() for match in brand_pattern().finditer(text))
    return [brand_names()[name] for name in found]


def brand_message(brand: str, generic: str) -> str:
    """The fix for a brand name."""
    instead = f" ({generic})" if generic else ""
    return f"brand name {brand!r}; use the generic name{instead} (ACCME: generic names only)."


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


def check_translations(entry: ModuleFile) -> list[Finding]:
    """Every translatable text has exactly the module's languages, non-empty; Markdown lines up."""
    languages = entry.languages
    findings: list[Finding] = []
    for path, texts in translatable_texts(entry.data):
        for language in languages:
            if language not in texts:
                findings.append(
                    entry.error(
                        [*path, language],
                        f"the {language} text is missing; "
                        f"add the translation (languages: {', '.join(languages)}).",
                    )
                )
            elif not isinstance(texts[language], str) or not texts[language].strip():
                findings.append(entry.error([*path, language], "is empty; write the text."))
        for language in texts:
            if language not in languages:
                findings.append(
                    entry.error(
                        [*path, language],
                        f"{language!r} is not in the "
                        f"module's languages; remove it or add it to languages.",
                    )
                )
    for path, texts in markdown_texts(entry.data):
        findings.extend(compare_structure(entry, path, texts))
    return findings


def compare_structure(entry: ModuleFile, path: tuple, texts: dict) -> list[Finding]:
    """Warn when a translation's Markdown has other counts of headings, list items or tables."""
    if not isinstance(texts.get("en"), str):
        return []
    english = structure_of(texts["en"])
    findings = []
    for language, text in texts.items():
        if language == "en" or not isinstance(text, str):
            continue
        other = structure_of(text)
        if other != english:
            findings.append(
                entry.warning(
                    [*path, language],
                    f"Markdown structure differs from en "
                    f"({describe(other)} vs {describe(english)}); check the "
                    "translation is complete.",
                )
            )
    return findings


def describe(counts) -> str:
    """`3 list items, 1 heading`."""
    parts = [
        f"{counts[key]} {word}{'s' if counts[key] != 1 else ''}"
        for key, word in STRUCTURE_WORDS.items()
        if counts[key]
    ]
    return ", ".join(parts) or "plain paragraphs"
