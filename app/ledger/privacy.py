"""Keep patient data out of the ledger: a guard over everything a caller can write into it.

The interface already takes no patient argument; this guard catches a patient identifier smuggled
into free text, answers or evidence (FHIR Patient/Encounter references, MRN-like digit runs,
social security numbers, e-mail addresses, phone numbers) and patient-shaped keys. Where a page
knows the launched patient, it also passes that patient's own identifying terms (names, FHIR id,
identifiers, birth date as clinicians write it), which no pattern can guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.fhir_json import as_dict, as_str, dicts_in
from app.ledger.models import PatientDataRefused

PATIENT_KEYS = frozenset(
    {
        "patient",
        "patientid",
        "patient_id",
        "mrn",
        "subject",
        "encounter",
        "encounterid",
        "encounter_id",
        "birthdate",
        "birth_date",
        "ssn",
    }
)
PATIENT_PATTERNS = (
    ("a FHIR patient or encounter reference", re.compile(r"\b(Patient|Encounter)/[A-Za-z0-9\-.]+")),
    ("a social security number", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    # Tried only where a run of address characters starts (the lookbehind), so a long run with
    # no @ costs its length once, not once per position in it; it needs a letter or digit
    # before the @, as the word boundary of `\b[\w.+-]+@` did.
    (
        "an e-mail address",
        re.compile(r"(?<![\w.+-])[.+-]*\w[\w.+-]*@[\w-]+\.[\w.-]+\b"),
    ),
    ("a phone number", re.compile(r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b")),
    ("a record number (7 or more digits)", re.compile(r"\b\d{7,}\b")),
)


CHECKED = (str, Mapping, list, tuple)  # what check_free_of_patient_data looks into


# A two-letter surname ("Li", "Ng") identifies a patient as well as a long one, so names count
# from two letters (matched as written, so "NG tube" is not "Ng"); codes from three, and a single
# letter (an initial) never. Two-letter names that are also ordinary capitalised words in the UI
# languages ("He", "An", "Do", "Le" — common Vietnamese, Chinese and Korean surnames) count only
# after a title ("Mr Le", "Mme Le") or as the full name, which stays a term: matching them alone
# would refuse every sentence that starts with them.
MIN_NAME_LENGTH, MIN_CODE_LENGTH = 2, 3
ORDINARY_SHORT_WORDS = frozenset(
    word
    for words in (
        "am an as at be by do go he if in is it me my no of oh ok on or so to up us we",  # English
        "al da de di el en es ha la le lo mi ni se si su te tu un va ya yo",  # Spanish
        "ce ça du et il je la le ma ne on ou où sa se si ta te tu un",  # French
    )
    for word in words.split()
)
# Titles and honorifics that put a name after them, in the UI languages and a few more; "M." (the
# French Monsieur) only with its full stop. Matched in any case, with a full stop or a space.
TITLED = (
    r"(?i:(?:mr|mrs|ms|mx|miss|dr|pr|prof|sr|sra|srta|don|doña|mme|mlle|herr|frau)(?:\.\s*|\s+)"
    r"|m\.\s*)"
)


@dataclass(frozen=True)
class IdentifyingTerms:
    """One patient's own identifying words: names match as written, codes in any case."""

    names: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    titled_names: frozenset[str] = frozenset()  # ordinary words as names: only after a title

    def found_in(self, text: str) -> bool:
        """Tell whether the text names this patient or carries one of their codes."""
        return (
            any(whole_word(name, text, ignore_case=False) for name in self.names)
            or any(whole_word(code, text, ignore_case=True) for code in self.codes)
            or any(after_title(name, text) for name in self.titled_names)
        )


NO_TERMS = IdentifyingTerms()


def identifying_terms(patient: Mapping[str, object]) -> IdentifyingTerms:
    """A FHIR Patient's names, id, identifier values and birth date in the forms people write."""
    names = {
        part
        for name in dicts_in(patient.get("name"))
        for part in [as_str(name.get("family")), *(as_str(g) for g in given_names(name))]
        if part
    }
    codes = {as_str(patient.get("id"))} | {
        as_str(identifier.get("value")) for identifier in dicts_in(patient.get("identifier"))
    }
    codes |= birth_date_forms(as_str(patient.get("birthDate")) or "")
    codes |= {full for name in dicts_in(patient.get("name")) for full in full_names(name)}
    kept = telling_names(names)
    return IdentifyingTerms(kept, telling_codes(codes), titled_names(names) - kept)


def check_free_of_patient_data(
    value: object, where: str, known: IdentifyingTerms = NO_TERMS
) -> None:
    """Raise PatientDataRefused when text, a mapping or a list looks like patient data."""
    if isinstance(value, str):
        check_text(value, where, known)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower() in PATIENT_KEYS:
                raise PatientDataRefused(f"{where}: {key!r} would put patient data in the ledger.")
            if isinstance(item, CHECKED):  # numbers, booleans and None carry no text to check
                check_free_of_patient_data(item, f"{where}.{key}", known)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, CHECKED):
                check_free_of_patient_data(item, f"{where}[{index}]", known)


def check_text(text: str, where: str, known: IdentifyingTerms = NO_TERMS) -> None:
    """Refuse text that contains something shaped like a patient identifier."""
    for description, pattern in PATIENT_PATTERNS:
        if pattern.search(text):
            raise PatientDataRefused(
                f"{where} contains {description}; the ledger never holds patient data."
            )
    if known.found_in(text):
        raise PatientDataRefused(
            f"{where} names the patient or one of their identifiers; "
            "the ledger never holds patient data."
        )


def whole_word(term: str, text: str, *, ignore_case: bool) -> bool:
    """Find term in text as a whole word (not inside a longer word or number)."""
    flags = re.IGNORECASE if ignore_case else 0
    return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text, flags) is not None


def after_title(name: str, text: str) -> bool:
    """Find the name, as written, right after a title ("Mr Le", "Mme. Le", "dr Do")."""
    pattern = rf"(?<![\w-]){TITLED}{re.escape(name)}(?![\w-])"
    return re.search(pattern, text) is not None


def given_names(name: Mapping[str, object]) -> list[object]:
    """The given names of a HumanName (a list of strings)."""
    given = as_dict(name).get("given")
    return list(given) if isinstance(given, list) else []


def full_names(name: Mapping[str, object]) -> set[str]:
    """'Given Family' for each given name, matched in any case (names alone match as written)."""
    family = as_str(name.get("family"))
    given = [as_str(part) for part in given_names(name)]
    return {f"{part} {family}" for part in given if part and family}


def birth_date_forms(birth_date: str) -> set[str]:
    """A full FHIR birthDate as clinicians write it: ISO, US and day-first, padded or not."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", birth_date)
    if not match:
        return set()
    year, month, day = match.groups()
    short_month, short_day = str(int(month)), str(int(day))
    forms = {birth_date}
    for m, d in ((month, day), (short_month, short_day)):
        forms |= {f"{m}/{d}/{year}", f"{d}/{m}/{year}", f"{d}.{m}.{year}"}
        forms |= {f"{m}-{d}-{year}", f"{d}-{m}-{year}"}
    return forms


def telling_names(names: Iterable[str | None]) -> frozenset[str]:
    """Keep the name parts that tell this patient apart: two letters or more, no ordinary word."""
    return frozenset(
        name
        for name in names
        if name and len(name) >= MIN_NAME_LENGTH and name.casefold() not in ORDINARY_SHORT_WORDS
    )


def titled_names(names: Iterable[str | None]) -> frozenset[str]:
    """Every name part of two letters or more, ordinary words included (matched after titles)."""
    return frozenset(name for name in names if name and len(name) >= MIN_NAME_LENGTH)


def telling_codes(codes: Iterable[str | None]) -> frozenset[str]:
    """Drop codes too short to tell apart from ordinary words (matched in any case)."""
    return frozenset(code for code in codes if code and len(code) >= MIN_CODE_LENGTH)
