"""Checks across the library: value set files (name, id, url, FHIR shape, codes), unique ids,
unused value sets, how many modules are draft. Each takes a LibraryContext and returns findings.
Measure-only value sets (content/measures/valuesets) get the same value set checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from app.library import editorial
from app.library.codes import KNOWN_SYSTEMS, coding_problems
from app.library.findings import (
    Finding,
    LibraryContext,
    ValueSetFile,
    criteria,
    field_path,
    get,
    items,
)
from app.library.loader import CANONICAL_BASE


def check_value_set_files(library: LibraryContext) -> list[Finding]:
    """Each value set file: named after its id, canonical url, valid FHIR ValueSet, real codes."""
    findings: list[Finding] = []
    for entry in library.all_value_set_files:
        if isinstance(entry.resource, dict):
            findings.extend(check_value_set_identity(entry))
            findings.extend(check_value_set_resource(entry))
            findings.extend(check_value_set_codes(entry))
    return findings


def check_value_set_identity(entry: ValueSetFile) -> list[Finding]:
    """The file stem is the id, and the url is the canonical URL made from the id."""
    resource, findings = entry.resource or {}, []
    value_set_id = resource.get("id")
    if value_set_id != entry.path.stem:
        findings.append(
            Finding(
                "error",
                entry.file,
                "id",
                f"id {value_set_id!r} does not match the file name "
                f"{entry.path.name}; set id to {entry.path.stem!r} or rename the file.",
            )
        )
    expected = f"{CANONICAL_BASE}/ValueSet/{value_set_id or entry.path.stem}"
    if resource.get("url") != expected:
        findings.append(
            Finding(
                "error",
                entry.file,
                "url",
                f"url {resource.get('url')!r} must be {expected} "
                "(the canonical base plus the id); modules refer to it by that URL.",
            )
        )
    return findings


def check_value_set_resource(entry: ValueSetFile) -> list[Finding]:
    """The file is a valid FHIR R4 ValueSet (fhir.resources R4B model)."""
    from fhir.resources.R4B.valueset import ValueSet
    from pydantic import ValidationError

    try:
        ValueSet.model_validate(entry.resource)
    except ValidationError as error:
        return [
            Finding(
                "error",
                entry.file,
                field_path(part for part in problem["loc"] if part != "__root__"),
                f"not a valid FHIR R4 ValueSet: {problem['msg'].rstrip('.')}.",
            )
            for problem in error.errors()
        ]
    return []


def check_value_set_codes(entry: ValueSetFile) -> list[Finding]:
    """Every concept: a known clinical system, a real well-formed code, a display, listed once."""
    findings: list[Finding] = []
    seen: Counter = Counter()
    for i, include in items(get(entry.resource, "compose", "include")):
        system = get(include, "system")
        if not isinstance(system, str):
            continue  # the FHIR shape check reports it (a system is a string)
        if system not in KNOWN_SYSTEMS:
            problems = coding_problems(system, "", clinical=True)
            findings.extend(
                Finding(severity, entry.file, f"compose.include[{i}].system", message)
                for severity, message in problems
            )
            continue
        for j, concept in items(get(include, "concept")):
            where = f"compose.include[{i}].concept[{j}]"
            code = get(concept, "code")
            for severity, message in coding_problems(system, code, clinical=True):
                findings.append(Finding(severity, entry.file, f"{where}.code", message))
            if not isinstance(get(concept, "display"), str) or not concept["display"].strip():
                findings.append(
                    Finding(
                        "warning",
                        entry.file,
                        f"{where}.display",
                        f"code {code} has "
                        "no display; add the official display (card summaries use it).",
                    )
                )
            seen[(system, str(code))] += 1
            if seen[(system, str(code))] == 2:
                findings.append(
                    Finding(
                        "warning",
                        entry.file,
                        f"{where}.code",
                        f"code {code} is listed more than once; remove the repeat.",
                    )
                )
    return findings


def check_unique_ids(library: LibraryContext) -> list[Finding]:
    """Module ids, value set ids and URLs (measure-only ones too) and measure ids are unique."""
    findings: list[Finding] = []
    value_sets = library.all_value_set_files
    keyed = [
        ("module id", "id", [(m.file, get(m.module, "id")) for m in library.modules]),
        ("value set id", "id", [(v.file, get(v.resource, "id")) for v in value_sets]),
        ("value set url", "url", [(v.file, get(v.resource, "url")) for v in value_sets]),
        ("measure id", "id", [(m.file, get(m.measure, "id")) for m in library.measures]),
    ]
    for what, field, values in keyed:
        first: dict[str, str] = {}
        for file, value in values:
            if not isinstance(value, str):
                continue
            if value in first:
                findings.append(
                    Finding(
                        "error",
                        file,
                        field,
                        f"{what} {value!r} is also used by {first[value]}; {what}s must be unique.",
                    )
                )
            first.setdefault(value, file)
    return findings


def check_unused_value_sets(library: LibraryContext) -> list[Finding]:
    """Value sets no module or measure uses (info: they may be for content still being written)."""
    used = set(used_value_sets(library))
    return [
        Finding("info", entry.file, "url", "no module or measure uses this value set yet.")
        for entry in library.all_value_set_files
        if entry.value_set is not None and entry.value_set.url not in used
    ]


def used_value_sets(library: LibraryContext) -> Iterator[str]:
    """The value set URLs modules and measures name (not-a-string ones are schema errors)."""
    named = [body.get("value_set") for m in library.modules for _, _, body in criteria(m.data)]
    named += [
        url for m in library.modules for _, url in items(get(m.module, "case", "patient_facts"))
    ]
    named += [url for m in library.measures for _, url in m.value_set_references()]
    return (url for url in named if isinstance(url, str))


def check_drafts(library: LibraryContext) -> list[Finding]:
    """How many modules are not approved (info: they are labelled draft, not an error)."""
    drafts = [m for m in library.modules if not editorial.is_approved(m.data)]
    if not drafts:
        return []
    folder = f"{library.content_dir.name}/modules"
    message = (
        f"{len(drafts)} of {len(library.modules)} modules are not approved (not yet reviewed by "
        "a named clinician; cards label them as draft and production awards them no credit)."
    )
    return [Finding("info", folder, "editorial.status", message)]
