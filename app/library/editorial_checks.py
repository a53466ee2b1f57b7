"""Checks of a module's editorial record: the workflow, honest provenance and currency.

- Workflow (errors): draft → in-review → approved → retired. `in-review` names its reviewer;
  `approved` needs a reviewer with credentials and a review date who is not the only author.
- Provenance (errors): every reviewer has credentials; AI-assisted text is approved only once a
  named reviewer checked it, and `ai_assistance.reviewed_by` names a listed reviewer; a recorded
  translation (`translations`) is one of the module's languages, is approved only once a named
  reviewer checked it when AI-assisted, and its `reviewed_by` names a listed reviewer; no review is
  dated in the future; every author and reviewer is in `disclosures.people`; a
  relationship other than `none` states its mitigation; a scenario marked reviewed names one of
  the module's listed reviewers, and an approved version's scenario is reviewed (a walk through it
  earns the module's credit, so it is content like any other).
- Currency (warnings): `review_by` has passed; the guideline is older than
  GUIDELINE_REVIEW_YEARS and no search for its successor was recorded (guideline_watch.last_checked)
  in the last GUIDELINE_WATCH_DAYS; a superseding publication is recorded but the version is not
  retired.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.library import editorial
from app.library.findings import Finding, ModuleFile, get, items
from app.library.module_checks import as_date, blank

GUIDELINE_REVIEW_YEARS = 5  # a guideline this many years old is re-checked for a successor
GUIDELINE_WATCH_DAYS = 365  # ... at least this often (editorial.guideline_watch.last_checked)
NO_RELATIONSHIPS = "none"


def check_editorial(entry: ModuleFile) -> list[Finding]:
    """The editorial record: workflow, reviewers, AI provenance, dates and disclosures."""
    record = entry.data.get("editorial")
    if not isinstance(record, Mapping):
        return []  # the schema reports a missing or malformed block
    return [
        *check_workflow(entry, record),
        *check_people(entry),
        *check_ai_assistance(entry, record),
        *check_translation_provenance(entry, record),
        *check_disclosed(entry),
        *check_scenario_review(entry),
        *check_approved_scenario(entry),
    ]


def check_currency(entry: ModuleFile) -> list[Finding]:
    """Warn when the review is overdue, the guideline old, or a successor already published."""
    record, today = entry.data.get("editorial"), entry.library.today
    if not isinstance(record, Mapping) or editorial.status(entry.data) == "retired":
        return []
    findings = []
    review_by = as_date(record.get("review_by"))
    if review_by is not None and review_by < today:
        findings.append(
            entry.warning(
                ["editorial", "review_by"],
                f"review was due by {review_by}; review this version against its guideline "
                "and set the next review_by date.",
            )
        )
    year = get(entry.data, "guideline", "year")
    if isinstance(year, int) and today.year - year > GUIDELINE_REVIEW_YEARS:
        checked = as_date(get(record, "guideline_watch", "last_checked"))
        if checked is None or (today - checked).days > GUIDELINE_WATCH_DAYS:
            findings.append(
                entry.warning(
                    ["guideline", "year"],
                    f"the guideline is from {year}, older than the {GUIDELINE_REVIEW_YEARS}-year "
                    "review interval, and no search for a successor is recorded in the last "
                    f"{GUIDELINE_WATCH_DAYS} days; look for one and record the check in "
                    "editorial.guideline_watch.last_checked.",
                )
            )
    if not blank(record.get("superseded_by")):
        findings.append(
            entry.warning(
                ["editorial", "superseded_by"],
                f"the cited guideline is superseded ({record['superseded_by']}); re-verify the "
                "module against the new publication and cite it, or retire this version.",
            )
        )
    return findings


def check_workflow(entry: ModuleFile, record: Mapping[str, Any]) -> list[Finding]:
    """A status beyond draft is backed by the reviewers it needs."""
    status = editorial.status(entry.data)
    where = ["editorial", "status"]
    if status == "in-review" and not any(
        not blank(p.get("name")) for p in editorial.reviewers(entry.data)
    ):
        return [entry.error(where, "in-review names nobody reviewing it; add the reviewer.")]
    if status != editorial.APPROVED:
        return []
    signed = editorial.signed_reviews(entry.data)
    if not signed:
        message = (
            "approved needs at least one reviewer with a name, credentials and the review "
            "date; until a clinician has reviewed it, the status stays draft or in-review."
        )
        return [entry.error(where, message)]
    author_names = {str(p.get("name", "")).strip() for p in editorial.authors(entry.data)}
    if all(author_names == {review.reviewer} for review in signed):
        message = (
            f"approved only by its sole author ({signed[0].reviewer}); a reviewer other than "
            "the author must approve it."
        )
        return [entry.error(where, message)]
    return []


def check_people(entry: ModuleFile) -> list[Finding]:
    """Reviewers have credentials and past dates; relationships state their mitigation."""
    findings = []
    for role in ("authors", "reviewers"):
        for index, person in items(get(entry.data, "editorial", role)):
            if isinstance(person, Mapping):
                findings.extend(check_person(entry, ["editorial", role, index], role, person))
    return findings


def check_person(
    entry: ModuleFile, path: list, role: str, person: Mapping[str, Any]
) -> list[Finding]:
    """One author or reviewer: a reviewer's credentials and past date; mitigated relationships."""
    findings = []
    if role == "reviewers" and blank(person.get("credentials")):
        findings.append(
            entry.error(
                [*path, "credentials"],
                "a reviewer's credentials are required (e.g. MD, PharmD); add them.",
            )
        )
    signed_on = as_date(person.get("date"))
    if role == "reviewers" and signed_on is not None and signed_on > entry.library.today:
        findings.append(
            entry.error([*path, "date"], f"{signed_on} is in the future; use the day it happened.")
        )
    relationships = person.get("relationships")
    if (
        isinstance(relationships, str)
        and relationships.strip().lower() != NO_RELATIONSHIPS
        and blank(person.get("mitigation"))
    ):
        findings.append(
            entry.error(
                [*path, "mitigation"],
                "a relevant financial relationship needs its mitigation (e.g. an independent "
                "review of the content); add it, or write relationships: none.",
            )
        )
    return findings


def check_ai_assistance(entry: ModuleFile, record: Mapping[str, Any]) -> list[Finding]:
    """AI-assisted text is approved only once a named reviewer checked it; no invented reviewer."""
    assistance = record.get("ai_assistance")
    if not isinstance(assistance, Mapping):
        return []
    where = ["editorial", "ai_assistance", "reviewed_by"]
    checked_by = assistance.get("reviewed_by")
    if not blank(checked_by):
        listed = {str(p.get("name", "")).strip() for p in editorial.reviewers(entry.data)}
        if str(checked_by).strip() not in listed:
            message = (
                f"claims a review by {checked_by!r}, who is not among editorial.reviewers; "
                "list the reviewer (with credentials and date) or set reviewed_by: null."
            )
            return [entry.error(where, message)]
        return []
    if assistance.get("used") is True and editorial.status(entry.data) == editorial.APPROVED:
        message = (
            "approved with AI-assisted text that no named reviewer has checked; name the "
            "reviewer who checked it (ACCME: AI-assisted content is reviewed by a human)."
        )
        return [entry.error(where, message)]
    return []


def check_translation_provenance(entry: ModuleFile, record: Mapping[str, Any]) -> list[Finding]:
    """Each recorded translation exists, and its review is by a listed reviewer, or says none."""
    translations = record.get("translations")
    if not isinstance(translations, Mapping):
        return []
    listed = {str(p.get("name", "")).strip() for p in editorial.reviewers(entry.data)}
    findings = []
    for language, made in translations.items():
        where = ["editorial", "translations", language]
        if language not in entry.languages:
            message = f"records a {language} translation the module's languages do not list."
            findings.append(entry.error(where, message))
        if not isinstance(made, Mapping):
            continue  # the schema reports it
        checked_by = made.get("reviewed_by")
        if not blank(checked_by) and str(checked_by).strip() not in listed:
            message = (
                f"claims a review by {checked_by!r}, who is not among editorial.reviewers; "
                "list the reviewer (with credentials and date) or set reviewed_by: null."
            )
            findings.append(entry.error([*where, "reviewed_by"], message))
        elif (
            blank(checked_by)
            and made.get("method") == "ai-assisted"
            and editorial.status(entry.data) == editorial.APPROVED
        ):
            message = (
                f"approved with an AI-assisted {language} translation that no named reviewer "
                "has checked; name the reviewer who checked it."
            )
            findings.append(entry.error([*where, "reviewed_by"], message))
    return findings


def check_disclosed(entry: ModuleFile) -> list[Finding]:
    """Every author and reviewer appears by name in disclosures.people."""
    listed = get(entry.data, "disclosures", "people")
    disclosed = {str(get(person, "name")).strip() for _, person in items(listed)}
    findings = []
    for role in ("authors", "reviewers"):
        for index, person in items(get(entry.data, "editorial", role)):
            name = get(person, "name")
            if isinstance(name, str) and name.strip() and name.strip() not in disclosed:
                findings.append(
                    entry.error(
                        ["editorial", role, index, "name"],
                        f"{name} is not in disclosures.people; disclose everyone who controlled "
                        "content (name, role and relationships) before the activity.",
                    )
                )
    return findings


def check_scenario_review(entry: ModuleFile) -> list[Finding]:
    """A scenario marked reviewed names one of the module's listed reviewers."""
    review = get(entry.data, "scenario", "review")
    if get(review, "status") != "reviewed":
        return []
    reviewer = get(review, "reviewer")
    listed = {str(p.get("name", "")).strip() for p in editorial.reviewers(entry.data)}
    if isinstance(reviewer, str) and reviewer.strip() in listed:
        return []
    message = (
        f"the scenario claims a review by {reviewer!r}, who is not among editorial.reviewers; "
        "list the reviewer there (with credentials and date) or set the scenario back to draft."
    )
    return [entry.error(["scenario", "review", "reviewer"], message)]


def check_approved_scenario(entry: ModuleFile) -> list[Finding]:
    """An approved version's scenario is reviewed: a walk through it earns the module's credit."""
    if not isinstance(entry.data.get("scenario"), Mapping):
        return []
    status = get(entry.data, "scenario", "review", "status")
    if status == "reviewed" or editorial.status(entry.data) != editorial.APPROVED:
        return []
    message = (
        f"{entry.data.get('id')} is approved, but its scenario is {status or 'not reviewed'}; "
        "a listed reviewer reviews the scenario and records it (review: {status: reviewed, "
        "reviewer, date}), or the version goes back to in-review until then."
    )
    return [entry.error(["scenario", "review", "status"], message)]
