"""Code validators: check-digit algorithms on real codes and one-digit corruptions; ICD-10-CM."""

from __future__ import annotations

import pytest

from app.library.codes import (
    ICD10CM,
    LOINC,
    RXNORM,
    SNOMED,
    coding_problems,
    icd10cm_billable,
    icd10cm_exists,
    icd10cm_problem,
    loinc_check_digit,
    loinc_check_digit_ok,
    loinc_problem,
    rxnorm_problem,
    snomed_problem,
    verhoeff_check_digit,
    verhoeff_ok,
)

REAL_LOINC = ["2524-7", "600-7", "8480-6", "10230-1", "98979-8", "2160-0", "33914-3", "32693-4"]
REAL_SNOMED = ["91302008", "703272007", "44054006", "82272006", "15781000119107", "373270004"]


def one_digit_changes(digits: str):
    """Every string that differs from digits in exactly one position."""
    for index, original in enumerate(digits):
        for replacement in "0123456789":
            if replacement != original:
                yield digits[:index] + replacement + digits[index + 1 :]


@pytest.mark.parametrize("code", REAL_LOINC)
def test_real_loinc_codes_pass(code):
    assert loinc_check_digit_ok(code)
    assert loinc_problem(code) is None


def test_loinc_wrong_check_digit_fails_and_says_the_right_one():
    assert not loinc_check_digit_ok("2524-8")
    assert "-7" in loinc_problem("2524-8")


@pytest.mark.parametrize("code", REAL_LOINC)
def test_loinc_catches_every_one_digit_corruption(code):
    number, check = code.split("-")
    for corrupted in one_digit_changes(number):
        assert not loinc_check_digit_ok(f"{corrupted}-{check}"), corrupted
    for digit in "0123456789":
        assert loinc_check_digit_ok(f"{number}-{digit}") == (digit == check)


@pytest.mark.parametrize("code", ["2524", "2524-77", "12345678-0", "LP1234-5", "2524 -7", ""])
def test_loinc_format(code):
    assert not loinc_check_digit_ok(code)
    assert "form 12345-6" in loinc_problem(code)


def test_loinc_check_digit_follows_the_published_example():
    # LOINC manual: 12345 → odd positions from the right 5,3,1 doubled → 531*2 = 1062; with the
    # even positions 4,2 in front: 421062 → 4+2+1+0+6+2 = 15 → 20 - 15 = 5.
    assert loinc_check_digit("12345") == 5


@pytest.mark.parametrize("code", REAL_SNOMED)
def test_real_snomed_codes_pass(code):
    assert verhoeff_ok(code)
    assert snomed_problem(code) is None
    assert verhoeff_check_digit(code[:-1]) == int(code[-1])


@pytest.mark.parametrize("code", REAL_SNOMED)
def test_verhoeff_catches_every_one_digit_corruption_and_transposition(code):
    for corrupted in one_digit_changes(code):
        assert not verhoeff_ok(corrupted), corrupted
    for index in range(len(code) - 1):
        swapped = code[:index] + code[index + 1] + code[index] + code[index + 2 :]
        if swapped != code:
            assert not verhoeff_ok(swapped), swapped


def test_snomed_bad_check_digit():
    assert not verhoeff_ok("91302009")
    assert "Verhoeff" in snomed_problem("91302009")


def test_snomed_partition_must_be_a_concept():
    description_id = "12345601" + str(verhoeff_check_digit("12345601"))  # partition 01
    assert verhoeff_ok(description_id)
    assert "description id" in snomed_problem(description_id)
    extension_concept = "15781000119107"  # partition 10: a concept id in an extension
    assert snomed_problem(extension_concept) is None


@pytest.mark.parametrize("code", ["12345", "0913020080", "9130200a", "1" * 19, "91302008 "])
def test_snomed_format(code):
    assert "6 to 18 digits" in snomed_problem(code)


@pytest.mark.parametrize("code", ["A41.9", "J06.9", "E11.65", "N18.30", "S72.001A", "U07.1"])
def test_icd10cm_real_billable_codes(code):
    assert icd10cm_exists(code)
    assert icd10cm_billable(code)
    assert icd10cm_problem(code) is None


@pytest.mark.parametrize("code", ["J06.99", "A41.99", "R99.9", "J6.9", "j06.9"])
def test_icd10cm_codes_that_do_not_exist(code):
    assert not icd10cm_exists(code)
    severity, message = icd10cm_problem(code)
    assert severity == "error"
    assert "does not exist" in message


def test_icd10cm_needs_the_dot():
    assert not icd10cm_exists("J069")
    assert icd10cm_problem("J069") == (
        "error",
        "ICD-10-CM code J069 must be written with its dot: J06.9.",
    )


@pytest.mark.parametrize("code", ["J06", "N18.3"])
def test_icd10cm_headers_are_real_but_warned_in_value_sets(code):
    assert icd10cm_exists(code)
    assert not icd10cm_billable(code)
    severity, message = icd10cm_problem(code)
    assert severity == "warning"
    assert "billable" in message
    assert icd10cm_problem(code, header_ok=True) is None


@pytest.mark.parametrize("code", ["10", "J00-J06"])
def test_icd10cm_chapters_and_blocks_are_not_codes(code):
    assert icd10cm_problem(code)[0] == "error"


@pytest.mark.parametrize(
    ("code", "ok"),
    [("1191", True), ("12345678", True), ("123456789", False), ("1191a", False), ("", False)],
)
def test_rxnorm_format(code, ok):
    assert (rxnorm_problem(code) is None) == ok


def test_coding_problems_systems():
    assert coding_problems(LOINC, "2524-7", clinical=True) == []
    assert coding_problems(SNOMED, "91302008", clinical=True) == []
    assert coding_problems(ICD10CM, "A41.9", clinical=True) == []
    assert coding_problems(RXNORM, "1191", clinical=True) == []
    [(severity, message)] = coding_problems("https://loinc.org", "2524-7", clinical=True)
    assert severity == "error"
    assert "did you mean http://loinc.org" in message
    administrative = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
    assert coding_problems(administrative, "inpatient", clinical=False) == []
    assert coding_problems(administrative, "inpatient", clinical=True)[0][0] == "error"
    assert "quote it" in coding_problems(SNOMED, 91302008, clinical=True)[0][1]
    assert "needs a system" in coding_problems(None, "x", clinical=False)[0][1]
