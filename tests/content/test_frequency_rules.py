"""Every module says how often its card may appear, in a shape the checker holds it to."""

from __future__ import annotations

import pytest

from app.library.loader import load_library
from app.settings import REPO_ROOT
from cds_hooks.frequency import ENCOUNTER, PATIENT, FrequencyRule, frequency_rule
from tests.library.helpers import MODULE_FILE, assert_fails, good_module, listing, run_check

HOUR, DAY = 3600, 86_400


def test_every_shipped_module_declares_its_frequency():
    library = load_library(REPO_ROOT / "content")
    undeclared = [id for id, module in library.modules.items() if "frequency" not in module["card"]]
    assert undeclared == []


def test_a_declared_rule_is_read_and_an_absent_one_is_the_documented_default():
    module = good_module()
    assert frequency_rule(module, HOUR) == FrequencyRule(ENCOUNTER, HOUR)
    module["card"]["frequency"] = {"once_per": "encounter", "every_days": 7}
    assert frequency_rule(module, HOUR) == FrequencyRule(ENCOUNTER, 7 * DAY)
    module["card"]["frequency"] = {"once_per": "patient", "every_days": 1}
    assert frequency_rule(module, HOUR) == FrequencyRule(PATIENT, DAY)


def test_a_valid_rule_passes_the_check(tmp_path):
    module = good_module()
    module["card"]["frequency"] = {"once_per": "patient", "every_days": 30}
    report = run_check(tmp_path, module)
    assert report.ok, listing(report)


@pytest.mark.parametrize(
    ("frequency", "field"),
    [
        ({"once_per": "patient"}, "card.frequency.every_days"),  # its window is required
        ({"once_per": "visit"}, "card.frequency.once_per"),
        ({"once_per": "encounter", "every_days": 0}, "card.frequency.every_days"),
        ({"once_per": "encounter", "hours": 4}, "card.frequency"),
    ],
)
def test_a_malformed_rule_fails_the_schema(tmp_path, frequency, field):
    module = good_module()
    module["card"]["frequency"] = frequency
    assert_fails(run_check(tmp_path, module), MODULE_FILE, field, "schema")
