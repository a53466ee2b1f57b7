"""HIPAA Safe Harbor de-identification of a patient's FHIR data, as pure functions.

45 CFR 164.514(b)(2) lists eighteen kinds of identifiers of the individual (and of relatives,
employers and household members) that must be removed. Here: names; geography below the state
(street, city, county, ZIP code); every element of a date but the year, which becomes a day
relative to the case's day 0 ("day 2"), or is removed with its month ("March 2024", "03/2023");
ages over 89 ("90 or older", in coded data and in free text: "94-year-old", "aged 94") and a
birth year that could make someone over 89 ("born 1931"); phone and fax numbers (a local
"555-1234" too); e-mail addresses; street addresses and ZIP codes written as such;
social security, medical record, health plan, account, certificate or licence numbers; vehicle
and device identifiers and serial numbers; URLs; IP addresses; and any other unique identifying
number or code. Biometric identifiers and photographs never enter the text:
only coded facts and free text are read.

Two nets catch them: the identifying values the record itself holds (names, identifier values,
telecom, address parts, ids, device numbers, the birth date in the forms people write it), removed
wherever they appear; and patterns for identifiers of people the record does not name (an e-mail
address, a phone number, a URL, a date). Removal errs on the side of removing: a teaching case
loses a word, never a patient's privacy.

The same steps, run without removing anything (`identifier_kinds`), say which kinds of identifier
a text still holds: a teaching case's every save is checked with them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from app.fhir_json import as_str, dicts_in, strings_in
from app.ledger.privacy import NAME_WORD

REMOVED = "[removed]"
AGE_CEILING = 89  # Safe Harbor: ages over 89 are aggregated into one group
OLDEST_GROUP = "90 or older"
MIN_TERM_LENGTH = 3
MIN_NAME_LENGTH = 2  # two-letter surnames (Li, Wu, Ng, Ho), matched only as whole words
SUBSTRING_TERM_LENGTH = 4  # shorter terms only as whole words (they hide inside ordinary words)
MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")
DOSE_UNITS = "mcg|ug|mg|g|kg|ml|l|dl|mmol|mol|meq|iu|u|units|mmhg|mosm|ng|pg|h|hr|min"
# month/day/year; not a part of a longer run of numbers (a blood gas: 7.30/55/60)
US_DATE = re.compile(r"(?<![\d.])\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b(?![/.]\d)")
NAMED_DATE = re.compile(
    rf"\b(?:(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})\.?(?:,?\s+\d{{4}})?)\b",
    re.IGNORECASE,
)
SPANISH_MONTHS = (
    "ene(?:ro)?|feb(?:rero)?|marzo|abr(?:il)?|mayo|jun(?:io)?|jul(?:io)?|ago(?:sto)?|"
    "sep(?:t(?:iembre)?)?|setiembre|oct(?:ubre)?|nov(?:iembre)?|dic(?:iembre)?"
)
MONTH_YEAR = re.compile(
    rf"\b(?:{MONTHS}|{SPANISH_MONTHS})\.?,?\s+(?:(?:of|de(?:l)?)\s+)?(?:19|20)\d{{2}}\b"
    r"|\b(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}\b",
    re.IGNORECASE,
)
# titles are not words of a name written as text ("Mrs. Maeve J. Harlow")
TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "sr", "jr", "sra", "srta", "don", "doña"}
)
# an age in free text: "94-year-old", "94 years", "94 yo", "94 y/o", "94 años"; "aged 94", "age 94"
# (a number of years alone is not an age: "100 years ago", "hace 95 años")
AGE_WITH_UNIT = re.compile(
    r"(?<![\w.])(\d{2,3})(?:\s*-\s*|\s+)(?:years?|yrs?)\s*-?\s*old\b"
    r"|(?<![\w.])(?<!hace )(\d{2,3})\s+(?:años|ans)\b"
    r"|(?<![\w.])(\d{2,3})\s*(?:y/o|y\.o\.?|yo\b)",
    re.IGNORECASE,
)
AGE_AFTER_WORD = re.compile(
    r"\b(aged?|edad(?:\s+de)?|âgée?)\s+(\d{2,3})(?:\s+(?:years?|yrs?|años|ans)(?:\s+old)?)?\b",
    re.IGNORECASE,
)
# a birth year next to what says it is one: "born 1931", "DOB: 1931", "nacida en 1931", "née 1931"
BIRTH_YEAR = re.compile(
    r"\b(born|née?|nacid[oa]|d\.?o\.?b\.?|(?:year|date) of birth|birth year"
    r"|año de nacimiento|année de naissance)(\W{1,3}(?:(?:in|en)\s+)?)((?:18|19|20)\d{2})\b",
    re.IGNORECASE,
)
# the age group itself, as the vignette writes it in each UI language ("aged 90 or older")
OLDEST_GROUP_WRITTEN = re.compile(
    r"\b90\s+(?:or\s+older|años\s+o\s+más|ans\s+ou\s+plus)\b", re.IGNORECASE
)
# as written after a street's name (not "Dr", "Ct" or "Pl": a doctor, a PCR's cycle threshold)
STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Court|Way|Place|Terrace|"
    "Highway|Hwy|Parkway|Pkwy|Circle"
)
STATE_CODES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    "NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR|GU|VI|AS|MP"
)
PATTERNS = (
    ("[url]", re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+|\burn:\S+", re.IGNORECASE)),
    ("[e-mail]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (
        "[ip address]",
        re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){4,7}\b"),
    ),
    ("[id]", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),  # a social security number
    ("[phone]", re.compile(r"(?:\+\d{1,3}[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b")),
    # a local number (555-1234), not a part of a longer number or a decimal
    ("[phone]", re.compile(r"(?<![\w-])(?<!\d\.)\d{3}-\d{4}(?![\w-])(?!\.\d)")),
    ("[zip]", re.compile(r"\b\d{5}-\d{4}\b")),
    # a ZIP code said to be one, or after a state's code ("ZIP 97201", "código postal 28001",
    # "OR 97201"); a bare five-digit number is as often a count
    (
        "[zip]",
        re.compile(
            r"(?i:\b(?:zip(?:\s*code)?|post(?:al)?\s*code|c[oó]digo\s+postal|code\s+postal)\s*:?\s*)"
            r"\d{5}\b"
            rf"|\b(?:{STATE_CODES})\s+\d{{5}}\b"
        ),
    ),
    # a street address: "14 Elm Street", "221B Baker St.", "12 rue de la Paix", "Calle Mayor 5",
    # "PO Box 12"
    (
        "[address]",
        re.compile(
            rf"\b\d{{1,6}}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){{1,3}}(?:{STREET_TYPES})\b\.?"
            r"|\b\d{1,5}(?:\s+(?:bis|ter))?,?\s+(?i:rue|avenue|boulevard|bd|allée|chemin|impasse"
            r"|place|quai)\s+(?:(?:de|du|des|la|le|l'|d')\s*){0,3}[A-ZÀ-Ý]\w*"
            r"|\b(?i:calle|avenida|avda\.?|paseo|plaza|camino|carrera)\s+"
            r"(?:(?:de|del|la|las|los)\s+){0,3}[A-ZÁÉÍÓÚÑ]\w*(?:\s+[A-ZÁÉÍÓÚÑ]\w*)*,?\s+"
            r"(?:n[º°o]\.?\s*)?\d{1,5}\b"
            r"|\b(?i:p\.?\s?o\.?\s+box)\s+\d+\b"
        ),
    ),
    # record, account, plan, licence, device or vehicle numbers: letters with 3+ digits (not a
    # decade, "1950s", nor an amount with its unit, "2000mg"), or 7+ digits in a row (a lab
    # value has fewer)
    (
        "[id]",
        re.compile(
            rf"\b(?!(?:1[89]|20)\d0s\b)(?!\d+(?:\.\d+)?(?i:{DOSE_UNITS})\b)"
            r"(?=[A-Za-z0-9-]*[A-Za-z])(?=(?:[A-Za-z0-9-]*\d){3})"
            r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b"
        ),
    ),
    ("[id]", re.compile(r"\b\d{7,}\b")),
)
IDENTIFYING_RESOURCES = {"Patient", "RelatedPerson", "Practitioner", "Person"}
Step = tuple[str, Callable[[str], str]]  # the kind of identifier a step removes, and the step


@dataclass(frozen=True)
class Identifiers:
    """The identifying values a patient's record holds, to remove wherever they appear."""

    terms: frozenset[str]

    def pattern(self) -> re.Pattern[str] | None:
        """One pattern matching every term (longest first), or None when there are none."""
        parts = [term_pattern(term) for term in sorted(self.terms, key=len, reverse=True)]
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def record_identifiers(resources: Iterable[Mapping[str, object]]) -> Identifiers:
    """Every identifying value the resources hold: people, ids, contacts, places, devices."""
    terms: set[str] = set()
    for resource in resources:
        kind = as_str(resource.get("resourceType"))
        terms |= {as_str(resource.get("id")) or ""}
        terms |= {as_str(i.get("value")) or "" for i in dicts_in(resource.get("identifier"))}
        if kind in IDENTIFYING_RESOURCES:
            terms |= person_terms(resource)
        if kind == "Device":
            terms |= device_terms(resource)
        for contact in dicts_in(resource.get("contact")):
            terms |= person_terms(contact)
    return Identifiers(frozenset(t.strip() for t in terms if long_enough(t.strip())))


NO_IDENTIFIERS = Identifiers(frozenset())


def scrub_text(text: str, identifiers: Identifiers, day0: date | None) -> str:
    """Free text with every identifier removed and every date made relative to day 0."""
    for _, step in scrub_steps(identifiers, day0):
        text = step(text)
    return text


def identifier_kinds(
    text: str, identifiers: Identifiers = NO_IDENTIFIERS, day0: date | None = None
) -> list[str]:
    """The kinds of identifier the scrubber would remove from a text, in its order (none: clean).

    Without day 0 every date finer than the year counts, and a birth year counts from today.
    """
    text = OLDEST_GROUP_WRITTEN.sub(" ", text)
    kinds = (kind for kind, step in scrub_steps(identifiers, day0) if step(text) != text)
    return list(dict.fromkeys(kinds))


def scrub_steps(identifiers: Identifiers, day0: date | None) -> list[Step]:
    """The scrubber's steps in the order they run, each with the kind of identifier it removes."""
    known = identifiers.pattern()
    on = day0 or date.today()
    record: list[Step] = [] if known is None else [("record", partial(known.sub, REMOVED))]
    return [
        *record,
        ("date", partial(ISO_DATE.sub, lambda m: relative_or_removed(iso_date(m), day0))),
        ("date", partial(US_DATE.sub, lambda m: relative_or_removed(us_date(m), day0))),
        ("date", partial(NAMED_DATE.sub, "[date]")),
        ("date", partial(MONTH_YEAR.sub, "[date]")),
        ("age", partial(AGE_AFTER_WORD.sub, grouped_age_after_word)),
        ("age", partial(AGE_WITH_UNIT.sub, grouped_age_with_unit)),
        ("birth year", partial(BIRTH_YEAR.sub, lambda m: birth_year_or_removed(m, on))),
        *((marker.strip("[]"), partial(pattern.sub, marker)) for marker, pattern in PATTERNS),
    ]


def birth_year_or_removed(match: re.Match[str], on: date) -> str:
    """'born 1931' as 'born [year]' when it could make someone over 89 on a day; else as written."""
    word, gap, year = match.groups()
    return f"{word}{gap}[year]" if could_be_over_89(int(year), on) else match.group(0)


def could_be_over_89(birth_year: int, on: date) -> bool:
    """Tell whether someone born in a year could be over 89 on a day (their birthday unknown)."""
    return on.year - birth_year > AGE_CEILING


def grouped_age_with_unit(match: re.Match[str]) -> str:
    """'94-year-old' or '94 y/o' as '90 or older' (Safe Harbor); a younger age as written."""
    years = int(next(number for number in match.groups() if number))
    return OLDEST_GROUP if years > AGE_CEILING else match.group(0)


def grouped_age_after_word(match: re.Match[str]) -> str:
    """'aged 94 (years)' as 'aged 90 or older' (Safe Harbor); a younger age as written."""
    word, years = match.groups()
    return f"{word} {OLDEST_GROUP}" if int(years) > AGE_CEILING else match.group(0)


def relative_day(when: date, day0: date) -> str:
    """A date as its day relative to the case's day 0: 'day 0', 'day 2', 'day -3'."""
    return f"day {(when - day0).days}"


def age_group(birth_date: date, on: date) -> str:
    """The age in whole years on a day, with every age over 89 grouped as '90 or older'."""
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return OLDEST_GROUP if years > AGE_CEILING else str(max(years, 0))


def state_of(patient: Mapping[str, object]) -> str | None:
    """The only geography Safe Harbor keeps: the state of the patient's first address."""
    for address in dicts_in(patient.get("address")):
        state = as_str(address.get("state"))
        if state:
            return state
    return None


def fhir_date(value: object) -> date | None:
    """The calendar date of a FHIR date or dateTime (None when absent or partial)."""
    text = as_str(value) or ""
    match = ISO_DATE.match(text)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def person_terms(person: Mapping[str, object]) -> set[str]:
    """A person's names, contacts, address below the state and birth date forms."""
    terms: set[str] = set()
    for name in [*dicts_in(person.get("name")), *dicts_in([person.get("name")])]:
        given = strings_in(name.get("given"))
        family = as_str(name.get("family")) or ""
        terms |= {family, as_str(name.get("text")) or "", *given, *name_words(name.get("text"))}
        terms |= {f"{g} {family}" for g in given if g and family}
    terms |= {as_str(t.get("value")) or "" for t in dicts_in(person.get("telecom"))}
    for address in [*dicts_in(person.get("address")), *dicts_in([person.get("address")])]:
        lines = strings_in(address.get("line"))
        terms |= {*lines, *(as_str(address.get(k)) or "" for k in ("city", "district", "text"))}
        postal = as_str(address.get("postalCode")) or ""
        terms |= {postal, postal[:5]}
    terms |= birth_date_forms(as_str(person.get("birthDate")) or "")
    return terms


def name_words(text: object) -> set[str]:
    """The words of a name written as text, but titles (a name given only as text has parts too)."""
    words = NAME_WORD.findall(as_str(text) or "")
    return {word for word in words if word.lower().rstrip(".") not in TITLES}


def device_terms(device: Mapping[str, object]) -> set[str]:
    """A device's serial, lot and UDI numbers."""
    terms = {
        as_str(device.get(k)) or "" for k in ("serialNumber", "lotNumber", "distinctIdentifier")
    }
    for carrier in dicts_in(device.get("udiCarrier")):
        terms |= {as_str(carrier.get(k)) or "" for k in ("deviceIdentifier", "carrierHRF")}
    return terms


def birth_date_forms(birth_date: str) -> set[str]:
    """A birth date as people write it: ISO, US and day-first, padded or not."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", birth_date)
    if not match:
        return set()
    year, month, day = match.groups()
    forms = {birth_date}
    for m, d in ((month, day), (str(int(month)), str(int(day)))):
        for separator in "/.-":
            forms |= {f"{m}{separator}{d}{separator}{year}", f"{d}{separator}{m}{separator}{year}"}
    return forms


def long_enough(term: str) -> bool:
    """A term long enough to remove: three characters, or a name of two letters."""
    return len(term) >= MIN_TERM_LENGTH or (len(term) >= MIN_NAME_LENGTH and term.isalpha())


def term_pattern(term: str) -> str:
    """A known value as a pattern: anywhere when long enough, else as a whole word."""
    escaped = re.escape(term)
    if len(term) >= SUBSTRING_TERM_LENGTH:
        return escaped
    return rf"(?<![\w-]){escaped}(?![\w-])"


def relative_or_removed(when: date | None, day0: date | None) -> str:
    """A date in text as a relative day, or removed when it or day 0 is unknown."""
    return relative_day(when, day0) if when and day0 else "[date]"


def iso_date(match: re.Match[str]) -> date | None:
    """The date an ISO 8601 match names (None when it is no real date)."""
    try:
        return date(*(int(part) for part in match.groups()[:3]))
    except ValueError:
        return None


def us_date(match: re.Match[str]) -> date | None:
    """The date a month/day/year match names (None when it is no real date)."""
    month, day, year = (int(part) for part in match.groups())
    year += 2000 if year < 100 else 0
    try:
        return date(year, month, day)
    except ValueError:
        return None


def as_date(moment: object) -> date | None:
    """A date from a date, a datetime or FHIR text."""
    if isinstance(moment, datetime):
        return moment.date()
    if isinstance(moment, date):
        return moment
    return fhir_date(moment)
