"""Checks of what CME credit depends on: disclosures, expiry, the assessment and the review.
Each takes a ModuleFile and returns findings."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from app.library.findings import Finding, ModuleFile, field_path, get, items

EXPIRY_WARNING_DAYS = 60


def blank(value: Any) -> bool:
    """Missing, not a string, or only whitespace."""
    return not isinstance(value, str) or not value.strip()


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


def check_review(entry: ModuleFile) -> list[Finding]:
    """A reviewed module names its reviewer and a real review date that is not in the future."""
    review = entry.data.get("review")
    if get(review, "status") != "reviewed":
        return []
    findings = []
    if blank(get(review, "reviewer")):
        findings.append(
            entry.error(
                ["review", "reviewer"],
                "a reviewed module names its reviewer (the clinician who reviewed it); add it.",
            )
        )
    reviewed_on = as_date(get(review, "date"))
    if reviewed_on is None:
        findings.append(
            entry.error(
                ["review", "date"],
                "a reviewed module needs the review date (YYYY-MM-DD, a real date); add it.",
            )
        )
    elif reviewed_on > entry.library.today:
        findings.append(
            entry.error(
                ["review", "date"],
                f"review date {reviewed_on} is in the future; use the date the review happened.",
            )
        )
    return findings
