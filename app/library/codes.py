"""Offline checks of clinical codes: LOINC, SNOMED CT, ICD-10-CM and RxNorm.

Each `*_problem` function returns None for a good code, or a sentence saying what is wrong and
how to fix it. The severity is the caller's business, except for `icd10cm_problem`, which returns
(severity, sentence) because an ICD-10-CM header code is valid but deserves only a warning.

ICD-10-CM policy: a code must be a category or subcategory of the official code set bundled with
simple-icd-10-cm (FY2026, April 2026 release), written with its dot as FHIR's
`http://hl7.org/fhir/sid/icd-10-cm` system requires (`J06.9`, not `J069`). Chapters ("10") and
blocks ("J00-J06") are not codes: error. A category or subcategory that has children (`J06`,
`N18.3`) is real but not billable; patient data carry billable codes and the matching engine
compares codes exactly, so in a value set it matches nothing: warning naming its billable children.
As a module `topic` a header code is fine (it classifies a subject, it does not match data).
"""

from __future__ import annotations

import re
import warnings
from functools import cache

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
KNOWN_SYSTEMS = {SNOMED: "SNOMED CT", ICD10CM: "ICD-10-CM", RXNORM: "RxNorm", LOINC: "LOINC"}

# Code systems of FHIR's own administrative vocabularies (categories, statuses, roles): not clinical
# codes, so they are neither required to be one of KNOWN_SYSTEMS nor checked.
ADMINISTRATIVE_PREFIXES = ("http://terminology.hl7.org/", "http://hl7.org/fhir/", "urn:ietf:bcp:")

LOINC_FORMAT = re.compile(r"^(\d{1,7})-(\d)$")
RXNORM_FORMAT = re.compile(r"^\d{1,8}$")
SNOMED_FORMAT = re.compile(r"^[1-9]\d{5,17}$")
SNOMED_PARTITIONS = {
    "00": "a concept id",
    "01": "a description id",
    "02": "a relationship id",
    "10": "a concept id (extension)",
    "11": "a description id (extension)",
    "12": "a relationship id (extension)",
}

# Verhoeff tables: dihedral group D5 multiplication, position permutation, inverse.
VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
VERHOEFF_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def loinc_check_digit(number: str) -> int:
    """The LOINC mod-10 check digit of a code's number part (Luhn, doubling from the right).

    LOINC's recipe: take the digits in odd positions counting from the right, multiply by 2, put the
    even-position digits in front, add all the digits of the result, and subtract the sum from the
    next multiple of 10.
    """
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 0:  # 1st, 3rd, 5th… from the right
            digit *= 2
            digit = digit - 9 if digit > 9 else digit  # the sum of the digits of 10..18
        total += digit
    return (10 - total % 10) % 10


def loinc_check_digit_ok(code: str) -> bool:
    """Whether a LOINC code is well formed (`2524-7`) and its check digit is right."""
    match = LOINC_FORMAT.match(code)
    return bool(match) and loinc_check_digit(match.group(1)) == int(match.group(2))


def verhoeff_ok(number: str) -> bool:
    """Whether a string of digits ends in its correct Verhoeff check digit (SNOMED CT uses it)."""
    if not number.isdigit():
        return False
    check = 0
    for position, char in enumerate(reversed(number)):
        check = VERHOEFF_D[check][VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def verhoeff_check_digit(number: str) -> int:
    """The Verhoeff check digit to append to a string of digits."""
    check = 0
    for position, char in enumerate(reversed(number)):
        check = VERHOEFF_D[check][VERHOEFF_P[(position + 1) % 8][int(char)]]
    return VERHOEFF_INV[check]


def loinc_problem(code: str) -> str | None:
    """What is wrong with a LOINC code, or None."""
    match = LOINC_FORMAT.match(code)
    if not match:
        return f"LOINC code {code!r} is not in the form 12345-6; copy it from loinc.org."
    expected = loinc_check_digit(match.group(1))
    if expected != int(match.group(2)):
        return (
            f"LOINC code {code} has a wrong check digit (the number {match.group(1)} needs "
            f"-{expected}); a digit is mistyped: copy the code from loinc.org."
        )
    return None


def snomed_problem(code: str) -> str | None:
    """What is wrong with a SNOMED CT concept id, or None."""
    if not SNOMED_FORMAT.match(code):
        return (
            f"SNOMED CT code {code!r} must be 6 to 18 digits without a leading zero; "
            "copy the concept id from the SNOMED CT browser."
        )
    partition = code[-3:-1]
    if partition not in {"00", "10"}:
        kind = SNOMED_PARTITIONS.get(partition, "not a valid identifier")
        return (
            f"SNOMED CT code {code} has partition {partition} ({kind}), not a concept id; "
            "use the concept id from the SNOMED CT browser."
        )
    if not verhoeff_ok(code):
        return (
            f"SNOMED CT code {code} fails its Verhoeff check digit; a digit is mistyped: "
            "copy the concept id from the SNOMED CT browser."
        )
    return None


def rxnorm_problem(code: str) -> str | None:
    """What is wrong with an RxNorm RXCUI, or None (only the format can be checked offline)."""
    if not RXNORM_FORMAT.match(code):
        return f"RxNorm code {code!r} must be 1 to 8 digits (an RXCUI); copy it from RxNav."
    return None


@cache
def icd10cm():
    """The simple-icd-10-cm module, imported once (its import parses the code set and warns)."""
    with warnings.catch_warnings():
        # The package still uses importlib.resources.read_text, deprecated since Python 3.11.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


def icd10cm_exists(code: str) -> bool:
    """Whether code is a category or subcategory of the official ICD-10-CM code set, dotted form."""
    cm = icd10cm()
    return (
        cm.is_valid_item(code)
        and cm.is_category_or_subcategory(code)
        and ("." in code or len(code) == 3)
    )


def icd10cm_billable(code: str) -> bool:
    """Whether an existing ICD-10-CM code is billable (has no children)."""
    return icd10cm_exists(code) and icd10cm().is_leaf(code)


def icd10cm_problem(code: str, *, header_ok: bool = False) -> tuple[str, str] | None:
    """(severity, sentence) for an unreal, undotted or header ICD-10-CM code; else None."""
    cm = icd10cm()
    if cm.is_valid_item(code) and not cm.is_category_or_subcategory(code):
        return "error", f"ICD-10-CM {code!r} is a chapter or block, not a code; list its codes."
    if not icd10cm_exists(code):
        dotted = cm.add_dot(code) if cm.is_valid_item(code) else None
        if dotted and dotted != code:
            return "error", f"ICD-10-CM code {code} must be written with its dot: {dotted}."
        return "error", (
            f"ICD-10-CM code {code!r} does not exist in the official code set (FY2026); "
            "check it in the ICD-10-CM tabular list."
        )
    if not header_ok and not cm.is_leaf(code):
        children = cm.get_children(code)
        listed = ", ".join(children[:6]) + (", …" if len(children) > 6 else "")
        return "warning", (
            f"ICD-10-CM {code} is a header, not a billable code; patient data carry billable "
            f"codes, so it matches nothing: list the billable codes under it ({listed})."
        )
    return None


def system_problem(system: str) -> str | None:
    """What is wrong with the system of a clinical code, or None when it is one of the four."""
    if system in KNOWN_SYSTEMS:
        return None
    near = [known for known in KNOWN_SYSTEMS if known.rstrip("/").split("//")[-1] in system]
    hint = f" (did you mean {near[0]}?)" if near else ""
    known = ", ".join(KNOWN_SYSTEMS)
    return f"unknown code system {system!r}{hint}; clinical codes use one of {known}."


def is_administrative(system: str) -> bool:
    """Whether a coding system is one of FHIR's administrative vocabularies (not checked)."""
    return system.startswith(ADMINISTRATIVE_PREFIXES) and system != ICD10CM


def code_problem(system: str, code: str, *, header_ok: bool = False) -> tuple[str, str] | None:
    """(severity, sentence) for a clinical code in a known system, or None when it checks out."""
    if not code or code != code.strip():
        return "error", f"code {code!r} is empty or has surrounding spaces; remove them."
    if system == ICD10CM:
        return icd10cm_problem(code, header_ok=header_ok)
    checker = {LOINC: loinc_problem, SNOMED: snomed_problem, RXNORM: rxnorm_problem}.get(system)
    message = checker(code) if checker else None
    return ("error", message) if message else None


def coding_problems(
    system: object, code: object, *, clinical: bool, header_ok: bool = False
) -> list[tuple[str, str]]:
    """(severity, sentence) problems of one coding.

    `clinical` codings (value sets, topics) must use one of the four known systems; in FHIR resource
    templates, FHIR's own administrative vocabularies are allowed and left unchecked.
    """
    if not isinstance(system, str) or not system:
        return [("error", "a coding needs a system; use one of " + ", ".join(KNOWN_SYSTEMS) + ".")]
    if not clinical and is_administrative(system):
        return []
    if (message := system_problem(system)) is not None:
        return [("error", message)]
    if not isinstance(code, str):
        return [("error", f"code {code!r} must be a string; quote it.")]
    problem = code_problem(system, code, header_ok=header_ok)
    return [problem] if problem else []
