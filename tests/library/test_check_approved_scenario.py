"""`bedside content check` refuses an approved module version whose scenario is not reviewed."""

from __future__ import annotations

from tests.library.helpers import MODULE_FILE, assert_fails, good_module, listing, run_check
from tests.library.test_check_editorial import approved_module
from tests.library.test_check_scenario import scenario_module


def approved_with_scenario() -> dict:
    """An approved module version carrying the small valid scenario, its review still draft."""
    module = approved_module()
    module["scenario"] = scenario_module()["scenario"]
    return module


def test_an_approved_version_with_a_draft_scenario_is_refused(tmp_path):
    module = approved_with_scenario()
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.review.status", f"{module['id']} is approved")
    assert_fails(report, MODULE_FILE, "scenario.review.status", "reviewed")


def test_the_same_version_passes_once_a_listed_reviewer_reviewed_the_scenario(tmp_path):
    module = approved_with_scenario()
    module["scenario"]["review"] = {
        "status": "reviewed",
        "reviewer": "B. Reviewer",
        "date": "2026-02-20",
    }
    report = run_check(tmp_path, module)
    assert report.ok, listing(report)


def test_a_draft_version_may_carry_a_draft_scenario(tmp_path):
    module = good_module()
    module["scenario"] = scenario_module()["scenario"]
    report = run_check(tmp_path, module)
    assert report.ok, listing(report)
