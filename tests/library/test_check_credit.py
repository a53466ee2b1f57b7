"""The checker on what credit depends on: disclosures, expiry, questions (review: see editorial)."""

from __future__ import annotations

from datetime import date

from tests.library.helpers import (
    MODULE_FILE,
    assert_fails,
    finding_at,
    good_module,
    listing,
    run_check,
)

# 7. disclosures


def test_disclosure_with_empty_relationships(tmp_path):
    module = good_module()
    module["disclosures"]["people"][0]["relationships"] = "  "
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "disclosures.people[0].relationships", "write 'none'")


def test_disclosure_without_commercial_support(tmp_path):
    module = good_module()
    module["disclosures"]["commercial_support"] = ""
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "disclosures.commercial_support", "not stated")


# 9. expiry


def test_expired_module(tmp_path):
    report = run_check(tmp_path, today=date(2028, 1, 1))
    assert_fails(report, MODULE_FILE, "expires", "expired on 2027-12-31")


def test_module_expiring_within_60_days_is_a_warning(tmp_path):
    report = run_check(tmp_path, today=date(2027, 11, 15))
    assert report.ok, listing(report)
    finding_at(report, MODULE_FILE, "expires", "in 46 days", "warning")


# 12. questions


def test_answer_not_among_options(tmp_path):
    module = good_module()
    module["case"]["questions"][2]["answer"] = "d"
    report = run_check(tmp_path, module)
    finding = assert_fails(report, MODULE_FILE, "case.questions[2].answer", "'d' is not one")
    assert "(a, b, c)" in finding.message


def test_duplicate_question_and_option_ids(tmp_path):
    module = good_module()
    module["case"]["questions"][2]["id"] = "q1"
    module["case"]["questions"][1]["options"][2]["id"] = "a"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "case.questions[2].id", "duplicate question id 'q1'")
    finding_at(report, MODULE_FILE, "case.questions[1].options[2].id", "duplicate option id 'a'")
