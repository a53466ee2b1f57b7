"""The credit policy comes from BEDSIDE_LEDGER_* settings; bad values fail with a clear sentence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.errors import ConfigError
from app.ledger.rules import CREDIT_TYPES
from app.ledger.wiring import policy_from_config


def test_defaults_half_a_credit_72_hours_and_a_cap_of_20_ama_credits():
    policy = policy_from_config({})
    assert policy.poc_credit == (("ama-pra-category-1", Decimal("0.50")),)
    assert policy.poc_application_window == timedelta(hours=72)
    assert policy.annual_cap == {"ama-pra-category-1": Decimal("20")}
    assert policy.awarded_types == frozenset(CREDIT_TYPES)


def test_settings_map_several_types_and_caps():
    policy = policy_from_config(
        {
            "LEDGER_POC_CREDIT": "ama-pra-category-1:0.5 aafp-prescribed:0.5",
            "LEDGER_POC_WINDOW_HOURS": "24",
            "LEDGER_ANNUAL_CAP": "ama-pra-category-1:20 aafp-prescribed:15.5",
            "LEDGER_CREDIT_TYPES": "ama-pra-category-1 aafp-prescribed",
        }
    )
    assert policy.poc_credit[1] == ("aafp-prescribed", Decimal("0.5"))
    assert policy.poc_application_window == timedelta(hours=24)
    assert policy.cap_for("aafp-prescribed") == Decimal("15.5")
    assert policy.cap_for("ancc-contact-hours") is None


def test_journal_club_credit_defaults_to_one_ama_credit_and_is_configurable():
    assert policy_from_config({}).journal_club_credit == (("ama-pra-category-1", Decimal("1.00")),)
    policy = policy_from_config({"LEDGER_JOURNAL_CLUB_CREDIT": "ancc-contact-hours:1.25"})
    assert policy.journal_club_credit == (("ancc-contact-hours", Decimal("1.25")),)


def test_an_empty_cap_means_no_cap():
    assert policy_from_config({"LEDGER_ANNUAL_CAP": ""}).annual_cap == {}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LEDGER_POC_CREDIT", "ama:0.5", "unknown credit type 'ama'"),
        ("LEDGER_POC_CREDIT", "ama-pra-category-1:half", "not a positive amount"),
        ("LEDGER_POC_CREDIT", "ama-pra-category-1:0.125", "at most two decimals"),
        ("LEDGER_ANNUAL_CAP", "ama-pra-category-1:-1", "not a positive amount"),
        ("LEDGER_ANNUAL_CAP", "ama-pra-category-1:1 ama-pra-category-1:2", "twice"),
        ("LEDGER_CREDIT_TYPES", "cme", "unknown credit type 'cme'"),
        ("LEDGER_JOURNAL_CLUB_CREDIT", "ama-pra-category-1:0", "not a positive amount"),
        ("LEDGER_POC_WINDOW_HOURS", 0, "at least 1"),
    ],
)
def test_bad_settings_fail_with_their_name(name, value, message):
    with pytest.raises(ConfigError, match=message) as caught:
        policy_from_config({name: value})
    assert f"BEDSIDE_{name}" in str(caught.value)
