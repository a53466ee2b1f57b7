"""Checks of one module's structure: references, codes, suggestions, and what CME credit depends on
(disclosures, expiry, the assessment). Each takes a ModuleFile and returns findings; checks of its
text live in text_checks, of its editorial record in editorial_checks."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from app.library.codes import coding_problems
from app.library.findings import (
    ContentFile,
    Finding,
    ModuleFile,
    action_resources,
    codings,
    criteria,
    field_path,
    get,
    items,
    strings,
)

SAMPLE_IDS = {
    "{{context.patientId}}": "example-patient",
    "{{context.encounterId}}": "example-visit",
}
TEMPLATE = re.compile(r"\{\{.*?\}\}")
EXPIRY_WARNING_DAYS = 60
LIBRARY_FOLDERS = ("content/valuesets",)


def check_references(entry: ModuleFile) -> list[Finding]:
    """The file is named after the id; every value set URL resolves; `as:` names are unique."""
    module = entry.data
    findings = id_matches_file_name(entry, module.get("id"))
    references = [(path, body.get("value_set")) for path, _, body in criteria(module)]
    references = [((*path, "value_set"), url) for path, url in references]
    facts = [
        (("case", "patient_facts", i), url)
        for i, url in items(get(module, "case", "patient_facts"))
    ]
    known = entry.library.value_sets
    for path, url in references + facts:
        if isinstance(url, str) and url not in known:
            findings.append(entry.error(path, unknown_value_set(url, known)))
    seen: dict[str, str] = {}
    for path, _, body in criteria(module):
        name = body.get("as")
        if isinstance(name, str):
            if name in seen:
                message = (
                    f"`as: {name}` is also bound at {seen[name]}; give each evidence its own name."
                )
                findings.append(entry.error([*path, "as"], message))
            seen.setdefault(name, field_path(path))
    return findings


def id_matches_file_name(entry: ContentFile, content_id: object) -> list[Finding]:
    """A string id must be the file's name (loaders and links find content by it)."""
    if not isinstance(content_id, str) or content_id == entry.path.stem:
        return []
    message = (
        f"id {content_id!r} does not match the file name {entry.path.name}; "
        f"rename the file to {content_id}{entry.path.suffix} or fix the id."
    )
    return [entry.error(["id"], message)]


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """` (did you mean x?)` with the closest known value, or nothing."""
    close = difflib.get_close_matches(value, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_value_set(url: str, known: dict, folders: Sequence[str] = LIBRARY_FOLDERS) -> str:
    """Say that a value set URL resolves to nothing, with the closest existing one if any."""
    value_set_id = url.rsplit("/", 1)[-1]
    return (
        f"no value set with URL {url} in {' or '.join(folders)}{did_you_mean(url, known)}; add "
        f"{folders[-1]}/{value_set_id}.json or fix the URL."
    )


def check_codes(entry: ModuleFile) -> list[Finding]:
    """The topic and every coding in suggestion resources is a well-formed, real code."""
    findings: list[Finding] = []
    topic = entry.data.get("topic")
    if isinstance(topic, dict):
        for severity, message in coding_problems(
            topic.get("system"), topic.get("code"), clinical=True, header_ok=True
        ):
            findings.append(entry.finding(severity, ["topic"], message))
    for prefix, resource in action_resources(entry.data):
        for path, coding in codings(resource, prefix):
            for severity, message in coding_problems(
                coding.get("system"), coding.get("code"), clinical=False
            ):
                findings.append(entry.finding(severity, path, message))
    return findings


def fill_templates(data: Any) -> Any:
    """A resource template with {{context.patientId}} / {{context.encounterId}} filled in."""
    if isinstance(data, str):
        for placeholder, sample in SAMPLE_IDS.items():
            data = data.replace(placeholder, sample)
        return data
    if isinstance(data, dict):
        return {key: fill_templates(value) for key, value in data.items()}
    if isinstance(data, list):
        return [fill_templates(value) for value in data]
    return data


def check_suggestions(entry: ModuleFile) -> list[Finding]:
    """selection_behavior comes with suggestions; each action resource is valid FHIR R4."""
    findings = []
    card = entry.data.get("card")
    if get(card, "suggestions") and not get(card, "selection_behavior"):
        findings.append(
            entry.error(
                ["card", "selection_behavior"],
                "suggestions need selection_behavior (any or at-most-one); add it.",
            )
        )
    for path, template in action_resources(entry.data):
        findings.extend(check_resource(entry, path, fill_templates(template)))
    return findings


def check_resource(entry: ModuleFile, path: tuple, resource: dict) -> list[Finding]:
    """Validate one filled-in resource with fhir.resources (R4B models, the R4 structures)."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    leftovers = sorted(
        {match for _, text in strings(resource, ()) for match in TEMPLATE.findall(text)}
    )
    if leftovers:
        allowed = " and ".join(SAMPLE_IDS)
        return [
            entry.error(
                path, f"unknown template {', '.join(leftovers)}; only {allowed} are filled in."
            )
        ]
    resource_type = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(resource_type))
    except (ValueError, KeyError):
        return [
            entry.error(
                [*path, "resourceType"],
                f"{resource_type!r} is not a FHIR R4 "
                "resource type; check the spelling (e.g. ServiceRequest).",
            )
        ]
    try:
        model.model_validate(resource)
    except ValidationError as error:
        return [
            entry.error(
                [*path, *(part for part in problem["loc"] if part != "__root__")],
                f"not a valid FHIR R4 {resource_type}: {problem['msg'].rstrip('.')}; see "
                f"https://hl7.org/fhir/R4/{str(resource_type).lower()}.html.",
            )
            for problem in error.errors()
        ]
    return []


def check_disclosures(entry: ModuleFile) -> list[Finding]:
    """Everyone who controlled content is disclosed, with relationships or an explicit 'none'."""
    disclosures = entry.data.get("disclosures")
    if not isinstance(disclosures, dict):
        return [
            entry.error(
                ["disclosures"],
                "disclosures are missing; add people, "
                "commercial_support and statement (ACCME: shown before the activity).",
            )
        ]
    findings = []
    people = disclosures.get("people")
    if not isinstance(people, list) or not people:
        findings.append(
            entry.error(
                ["disclosures", "people"],
                "no one is disclosed; list everyone "
                "who controlled content (authors, reviewers, planners).",
            )
        )
    for index, person in items(people):
        for key in ("name", "role"):
            if blank(get(person, key)):
                findings.append(
                    entry.error(["disclosures", "people", index, key], f"{key} is empty.")
                )
        if blank(get(person, "relationships")):
            findings.append(
                entry.error(
                    ["disclosures", "people", index, "relationships"],
                    "relationships is empty; state the relevant financial relationships of the "
                    "prior 24 months, or write 'none' explicitly.",
                )
            )
    if blank(disclosures.get("commercial_support")):
        findings.append(
            entry.error(
                ["disclosures", "commercial_support"],
                "commercial support is not stated; name the supporter or write 'none'.",
            )
        )
    if not isinstance(disclosures.get("statement"), dict):
        findings.append(
            entry.error(
                ["disclosures", "statement"],
                "the disclosure statement shown "
                "before the activity is missing; add it in every language.",
            )
        )
    return findings


def blank(value: Any) -> bool:
    """Missing, not a string, or only whitespace."""
    return not isinstance(value, str) or not value.strip()


def as_date(value: Any) -> date | None:
    """A YAML date or an ISO date string as a date; None when it is neither."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check_expiry(entry: ModuleFile) -> list[Finding]:
    """The module has not expired, with a warning EXPIRY_WARNING_DAYS before it does."""
    expires = as_date(entry.data.get("expires"))
    today = entry.library.today
    if expires is None:
        return []  # the schema reports a missing or malformed date
    if expires < today:
        return [
            entry.error(
                ["expires"],
                f"expired on {expires}; re-review the module against the "
                "current guideline, then set a new expiry date.",
            )
        ]
    if (expires - today).days <= EXPIRY_WARNING_DAYS:
        days = (expires - today).days
        return [
            entry.warning(
                ["expires"], f"expires on {expires} (in {days} days); schedule its review now."
            )
        ]
    return []


def check_questions(entry: ModuleFile) -> list[Finding]:
    """3 or more questions, unique ids, unique option ids, a valid answer, a reachable pass mark."""
    questions = get(entry.data, "case", "questions")
    if not isinstance(questions, list):
        return []  # the schema reports it
    findings = []
    if len(questions) < 3:
        findings.append(
            entry.error(
                ["case", "questions"],
                f"{len(questions)} question(s); a case "
                "needs at least 3 so the pass mark means something.",
            )
        )
    findings.extend(
        duplicates(
            entry,
            [(["case", "questions", i, "id"], get(q, "id")) for i, q in enumerate(questions)],
            "question id",
        )
    )
    for index, question in enumerate(questions):
        options = get(question, "options")
        option_ids = [get(option, "id") for _, option in items(options)]
        findings.extend(
            duplicates(
                entry,
                [
                    (["case", "questions", index, "options", i, "id"], oid)
                    for i, oid in enumerate(option_ids)
                ],
                "option id",
            )
        )
        answer = get(question, "answer")
        if answer is not None and answer not in option_ids:
            listed = ", ".join(str(oid) for oid in option_ids)
            findings.append(
                entry.error(
                    ["case", "questions", index, "answer"],
                    f"answer {answer!r} is not one of the option ids ({listed}); fix the answer.",
                )
            )
    pass_mark = entry.data.get("pass_mark_percent")
    count = len(questions)
    if (
        isinstance(pass_mark, int | float)
        and count
        and not any(100 * correct >= pass_mark * count for correct in range(count + 1))
    ):
        findings.append(
            entry.error(
                ["pass_mark_percent"],
                f"{pass_mark}% cannot be reached with {count} questions; lower it.",
            )
        )
    return findings


def duplicates(entry: ModuleFile, values: list[tuple[list, Any]], what: str) -> list[Finding]:
    """An error for each repeated value (naming where it was first used)."""
    counts = Counter(value for _, value in values if value is not None)
    first: dict[Any, str] = {}
    findings = []
    for path, value in values:
        if value is None or counts[value] < 2:
            continue
        if value in first:
            findings.append(
                entry.error(
                    path,
                    f"duplicate {what} {value!r} (also at {first[value]}); ids must be unique.",
                )
            )
        first.setdefault(value, field_path(path))
    return findings
