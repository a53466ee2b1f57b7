"""The checker on the editorial process: workflow, honest provenance, currency (#18: 13, 14)."""

from __future__ import annotations

from datetime import date

from app.library import editorial
from app.library.source_attributes import source_attributes
from cds_hooks.cards import draft_footer
from tests.library.helpers import (
    MODULE_FILE,
    assert_fails,
    finding_at,
    good_module,
    listing,
    run_check,
)
from tests.library.test_check_scenario import scenario_module

REVIEWER = {
    "name": "B. Reviewer",
    "credentials": "MD, FCCM",
    "role": "Clinical reviewer (critical care)",
    "date": "2026-02-20",
    "relationships": "none",
}


def approved_module(**reviewer_changes) -> dict:
    """The good module approved by an independent reviewer who also checked the AI-drafted text."""
    module = good_module()
    reviewer = {**REVIEWER, **reviewer_changes}
    module["editorial"]["status"] = "approved"
    module["editorial"]["reviewers"] = [reviewer]
    module["editorial"]["ai_assistance"]["reviewed_by"] = reviewer["name"]
    module["disclosures"]["people"].append(
        {"name": reviewer["name"], "role": "reviewer", "relationships": "none"}
    )
    return module


def errors_at(report, field: str) -> list:
    """The errors about one field of the module."""
    return [f for f in report.findings if f.severity == "error" and f.field == field]


# workflow: draft → in-review → approved → retired


def test_an_approval_by_an_independent_credentialed_reviewer_passes(tmp_path):
    module = approved_module()
    report = run_check(tmp_path, module)
    assert report.ok, listing(report)
    assert not [f for f in report.findings if f.field == "editorial.status"], listing(report)
    assert editorial.is_approved(module)
    review = editorial.latest_review(module)
    assert review is not None and review.signed == "B. Reviewer, MD, FCCM"


def test_approved_without_a_reviewer_is_refused(tmp_path):
    module = good_module()
    module["editorial"]["status"] = "approved"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.status", "at least one reviewer")


def test_a_reviewer_without_credentials_neither_counts_nor_passes(tmp_path):
    module = approved_module(credentials=" ")
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.reviewers[0].credentials", "credentials")
    finding_at(report, MODULE_FILE, "editorial.status", "at least one reviewer")


def test_approval_by_the_only_author_is_refused(tmp_path):
    module = approved_module(name="A. Author, MD")
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.status", "sole author")


def test_one_of_two_authors_may_review_the_others_text(tmp_path):
    module = approved_module(name="A. Author, MD")
    second = {**REVIEWER, "name": "C. Coauthor", "role": "author"}
    module["editorial"]["authors"].append(second)
    module["disclosures"]["people"].append(
        {"name": "C. Coauthor", "role": "author", "relationships": "none"}
    )
    report = run_check(tmp_path, module)
    assert report.ok, listing(report)


def test_in_review_names_its_reviewer(tmp_path):
    module = good_module()
    module["editorial"]["status"] = "in-review"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.status", "names nobody reviewing")
    module["editorial"]["reviewers"] = [{**REVIEWER}]
    module["disclosures"]["people"].append(
        {"name": "B. Reviewer", "role": "reviewer", "relationships": "none"}
    )
    assert run_check(tmp_path, module).ok


def test_a_review_dated_in_the_future_is_refused(tmp_path):
    report = run_check(tmp_path, approved_module(date="2026-04-01"))
    assert_fails(report, MODULE_FILE, "editorial.reviewers[0].date", "in the future")


def test_an_unknown_status_fails_the_schema(tmp_path):
    module = good_module()
    module["editorial"]["status"] = "reviewed"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.status", "schema")


def test_the_old_review_block_is_refused_by_the_schema(tmp_path):
    module = good_module()
    del module["editorial"]
    module["review"] = {"status": "draft"}
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial", "required")
    finding_at(report, MODULE_FILE, "(top level)", "'review' was unexpected")


# honest provenance (item 14)


def test_ai_assisted_text_is_not_approved_until_a_named_reviewer_checked_it(tmp_path):
    module = approved_module()
    module["editorial"]["ai_assistance"]["reviewed_by"] = None
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.ai_assistance.reviewed_by", "AI-assisted")
    module["editorial"]["ai_assistance"]["used"] = False
    assert run_check(tmp_path, module).ok


def test_a_claimed_review_by_someone_not_listed_is_refused(tmp_path):
    module = good_module()  # a draft: no reviewer listed
    module["editorial"]["ai_assistance"]["reviewed_by"] = "Dr Nobody"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.ai_assistance.reviewed_by", "'Dr Nobody'")


def test_a_scenario_marked_reviewed_names_a_listed_reviewer(tmp_path):
    module = approved_module()
    module["scenario"] = scenario_module()["scenario"]
    module["scenario"]["review"] = {
        "status": "reviewed",
        "reviewer": "Dr Nobody",
        "date": "2026-02-20",
    }
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.review.reviewer", "'Dr Nobody'")
    module["scenario"]["review"]["reviewer"] = "B. Reviewer"
    assert run_check(tmp_path, module).ok


def test_every_author_and_reviewer_is_disclosed(tmp_path):
    module = approved_module()
    module["disclosures"]["people"].pop()  # the reviewer
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.reviewers[0].name", "disclosures.people")


def test_a_financial_relationship_states_its_mitigation(tmp_path):
    module = approved_module(relationships="Speaker's bureau, Company X (ended 2025)")
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.reviewers[0].mitigation", "mitigation")
    module["editorial"]["reviewers"][0]["mitigation"] = "Content checked by a second reviewer."
    assert run_check(tmp_path, module).ok


# currency: warnings, not errors


def test_a_passed_review_by_date_is_a_warning(tmp_path):
    module = good_module()
    module["editorial"]["review_by"] = "2026-02-28"
    report = run_check(tmp_path, module)
    assert report.ok, listing(report)
    finding_at(report, MODULE_FILE, "editorial.review_by", "due by 2026-02-28", "warning")


def test_an_old_guideline_is_a_warning_until_a_search_for_its_successor_is_recorded(tmp_path):
    report = run_check(tmp_path, today=date(2026, 12, 1))  # cites a 2021 guideline: 5 years
    assert not [f for f in report.findings if f.field == "guideline.year"], listing(report)
    report = run_check(tmp_path, today=date(2027, 1, 2))  # 6 years, watch checked 2026-02-01
    assert not [f for f in report.findings if f.field == "guideline.year"], listing(report)
    report = run_check(tmp_path, today=date(2027, 3, 1))  # the last check is over a year old
    assert report.ok, listing(report)
    finding_at(report, MODULE_FILE, "guideline.year", "5-year review interval", "warning")


def test_a_recorded_successor_is_a_warning_until_the_version_is_retired(tmp_path):
    module = good_module()
    module["editorial"]["superseded_by"] = "A newer guideline (2026)"
    module["editorial"]["review_by"] = "2026-01-01"
    report = run_check(tmp_path, module)
    finding_at(report, MODULE_FILE, "editorial.superseded_by", "newer guideline", "warning")
    module["editorial"]["status"] = "retired"
    report = run_check(tmp_path, module)
    assert report.ok and report.count("warning") == 0, listing(report)
    assert not editorial.is_approved(module)


# the source-attributes page data says the status


def test_source_attributes_carry_the_status_and_the_signed_review():
    draft = source_attributes(good_module(), {}).as_json()["developer"]["review"]
    assert draft == {"status": "draft", "reviewer": None, "date": None}
    approved = source_attributes(approved_module(), {}).as_json()["developer"]["review"]
    assert approved == {
        "status": "approved",
        "reviewer": "B. Reviewer, MD, FCCM",
        "date": "2026-02-20",
    }


def test_cards_are_labelled_draft_until_a_named_reviewer_approves():
    assert "not yet reviewed" in draft_footer(good_module(), "en")
    in_review = approved_module()
    in_review["editorial"]["status"] = "in-review"
    assert "not yet reviewed" in draft_footer(in_review, "en")
    assert draft_footer(approved_module(), "en") == ""
