"""Keep patient data out of the ledger: a guard over everything a caller can write into it.

The interface already takes no patient argument; this guard catches a patient identifier smuggled
into free text, answers or evidence (FHIR Patient/Encounter references, MRN-like digit runs,
social security numbers, e-mail addresses, phone numbers) and patient-shaped keys. Where a page
knows the launched patient, it also passes that patient's own identifying terms (names, FHIR id,
identifiers, birth date as clinicians write it), which no pattern can guess.

Names come from each HumanName's given and family parts and its text ("Maeve J. Harlow"), split
into words (the text's titles and suffixes, "Mr", "Jr", "III", left out); a single letter (an
initial) never counts. How a name word counts depends on how prose could use it:
- a word of five letters or more that is no ordinary word counts as a whole word in any case, as
  clinicians write names: "Mrs HARLOW", "HARLOW, MAEVE" (the banner), "harlow's lactate";
- a shorter name, or one that is also an ordinary word (ORDINARY_WORDS: "Will", "May", "Brown",
  "Still"), counts in Title Case, and in ALL CAPS when it has five letters or more: a short
  capitalised word is as often an abbreviation ("AKI", "ANA", "TIA", "URI", "COX-2") and a
  lower-case one a word ("theo level", "still febrile"); after a title it counts as written
  ("Mrs AKI", "Mr Still");
- a two-letter name ("Li", "Ng") counts in Title Case only, since two capitals are an
  abbreviation ("NG tube", "ED"); one that is an ordinary short word of the UI languages ("He",
  "Le"), and a surname particle ("de", "los", "van", "der"), counts only after a title;
- a full name counts in Title Case or ALL CAPS ("Theo Marsh", "MARSH, THEO", "de los Santos").
The word lists err short: a name missing from them counts in more cases, refusing more text,
never less. A birth date counts in the numeric forms clinicians write (ISO, month or day first,
padded or not, four- or two-digit year) and with the month named (English, Spanish or French, in
full or short, day-month-year or month-day-year): "22 Jul 1958", "July 22nd, '58", "22-JUL-58";
a two-digit year after a space or comma does not ("July 22, 58 mL/kg" is a count).
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
# from two letters; codes from three, and a single letter (an initial) never. Two-letter names
# that are also ordinary capitalised words in the UI languages ("He", "An", "Do", "Le" — common
# Vietnamese, Chinese and Korean surnames) count only after a title ("Mr Le", "Mme Le") or in the
# full name: matching them alone would refuse every sentence that starts with them.
MIN_NAME_LENGTH, MIN_CODE_LENGTH = 2, 3
# A name word shorter than this is as often a clinical abbreviation (AKI, ANA, TIA, GERD, URI,
# COX-2) or a short word (theo for theophylline, tan sputum): it counts in Title Case only.
MIN_TELLING_LENGTH = 5
# Words of a name's text that are not the person's name: titles and suffixes ("Mr. Gordon A.
# Pryce Jr.": Gordon, Pryce). Only the text is read for them: a given name may be "Don".
NOT_NAMES = frozenset(
    word
    for words in ("mr mrs ms miss mx dr prof sr sra srta don doña", "mme mlle jr ii iii iv md phd")
    for word in words.split()
)
# The particles of compound surnames ("de los Santos", "van der Berg"), words prose uses in
# every sentence: alone they count only after a title; the full name counts as written.
PARTICLES = frozenset(
    word
    for words in (
        "al bin da das de del della den der di do dos du el ibn",
        "la las le les los ten ter van von",
    )
    for word in words.split()
)
ORDINARY_SHORT_WORDS = frozenset(
    word
    for words in (
        "am an as at be by do go he if in is it me my no of oh ok on or so to up us we",  # English
        "al da de di el en es ha la le lo mi ni se si su te tu un va ya yo",  # Spanish
        "ce ça du et il je la le ma ne on ou où sa se si ta te tu un",  # French
    )
    for word in words.split()
)
# Words of the UI languages that are also given names or surnames, so prose uses them in lower
# case ("will", "may", "brown", "rosa"): as names they count only in Title Case or ALL CAPS.
ORDINARY_WORDS = frozenset(
    " ".join(
        (
            # English given names
            "amber angel april art august autumn bill bob buck bud candy carol chance charity "
            "chase cliff crystal daisy dawn dean destiny don dot drew dusty earl eve faith fern "
            "frank gene grace grant guy harmony hazel heather holly honey honor hope iris ivy "
            "jack jade jewel joy june lance lily mark max may melody mercy miles misty olive "
            "pat patience pearl penny poppy prudence rain ray reed river robin rock rod rose "
            "ruby rusty sage sandy sky sonny star sterling storm summer sunny sue violet wade "
            "will willow winter",
            # English surnames
            "archer ash baker ball banks bell berry best birch bird bishop black bliss blood "
            "bond bone bones booth bright brook brooks brown bull burns bush butler cannon "
            "carpenter case cash castle cherry church coffin cook cotton crane cross crow day "
            "drake driver duke early east elm english fair field fields finch fisher ford forest "
            "fox free french frost fry gates glass gold good gray green grey gross hale hall "
            "hand hardy hart hawk hay head heart heath hill hills house hull hunt hunter judge "
            "bland graves mild nurse pace still stroke "
            "king kind knight lake lamb lane little long lord love luck lung major marsh mason "
            "mill miller mills monk moon moss money night noble north oak page pain park parks "
            "peach pine plum pool pope porter post potter power price prior rice rich rider "
            "rush salt savage shepherd sharp short silver small snow south steel stone street "
            "strong sugar swan sweet swift tanner temple tower turner usher walker wall ward "
            "water waters weaver wells west white wild wing wise wolf wood woods wren young",
            # Spanish and French words that are names
            "amparo blanca blanco blanche blanc bravo calvo campo campos clément constant "
            "consuelo cruz delgado dolores esperanza fleur flores franco fuentes grand "
            "luz mar milagros montes mora moreno nieves olivier paz perle petit pierre pilar "
            "prado remedios rey reyes rosa rubio santos socorro sol vega",
        )
    ).split()
)
# Titles and honorifics that put a name after them, in the UI languages and a few more; "M." (the
# French Monsieur) only with its full stop. Matched in any case, with a full stop or a space.
TITLED = (
    r"(?i:(?:mr|mrs|ms|mx|miss|dr|pr|prof|sr|sra|srta|don|doña|mme|mlle|herr|frau)(?:\.\s*|\s+)"
    r"|m\.\s*)"
)
# A name's words: letters, joined by an apostrophe or hyphen ("O'Brien", "Smith-Jones").
NAME_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
FULL_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Month names, January first: English in full and short, then Spanish and French in full.
MONTH_NAMES = (
    "january jan enero janvier",
    "february feb febrero février fevrier",
    "march mar marzo mars",
    "april apr abril avril",
    "may mayo mai",
    "june jun junio juin",
    "july jul julio juillet",
    "august aug agosto août aout",
    "september sept sep septiembre setiembre septembre",
    "october oct octubre octobre",
    "november nov noviembre novembre",
    "december dec diciembre décembre decembre",
)
# Between a written date's parts: up to three spaces or punctuation marks, or "of" / "de".
DATE_GAP = r"(?:[\s,./-]{0,3}|\s{1,3}(?:of|de)\s{1,3})"


@dataclass(frozen=True)
class IdentifyingTerms:
    """One patient's own identifying words, each matched in the cases it is written in."""

    names: frozenset[str] = frozenset()  # distinctive name words: any case
    codes: frozenset[str] = frozenset()  # id, identifiers, numeric birth dates: any case
    titled_names: frozenset[str] = frozenset()  # names not telling alone: after a title
    spelled: frozenset[str] = frozenset()  # names not telling alone: exactly as spelled
    birth_date: re.Pattern[str] | None = None  # the birth date with its month named

    def found_in(self, text: str) -> bool:
        """Tell whether the text names this patient or carries one of their codes."""
        return (
            any(whole_word(name, text, ignore_case=True) for name in self.names)
            or any(whole_word(code, text, ignore_case=True) for code in self.codes)
            or any(whole_word(name, text, ignore_case=False) for name in self.spelled)
            or any(after_title(name, text) for name in self.titled_names)
            or (self.birth_date is not None and self.birth_date.search(text) is not None)
        )


NO_TERMS = IdentifyingTerms()


def identifying_terms(patient: Mapping[str, object]) -> IdentifyingTerms:
    """A FHIR Patient's names, id, identifier values and birth date in the forms people write."""
    names = dicts_in(patient.get("name"))
    words = {word for name in names for word in name_words(name)}
    codes = {as_str(patient.get("id"))} | {
        as_str(identifier.get("value")) for identifier in dicts_in(patient.get("identifier"))
    }
    birth_date = as_str(patient.get("birthDate")) or ""
    return IdentifyingTerms(
        names=telling_names(words),
        codes=telling_codes(codes | birth_date_forms(birth_date)),
        titled_names=titled_names(words),
        spelled=spelled_names(words) | weak_full_names(names),
        birth_date=named_month_date(birth_date),
    )


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
    """Find the name, as spelled, right after a title ("Mr Le", "MME. LE", "dr Do")."""
    pattern = rf"(?<![\w-]){TITLED}{re.escape(name)}(?![\w-])"
    return re.search(pattern, text) is not None


def given_names(name: Mapping[str, object]) -> list[object]:
    """The given names of a HumanName (a list of strings)."""
    given = as_dict(name).get("given")
    return list(given) if isinstance(given, list) else []


def words_in(text: str | None) -> list[str]:
    """The words of a name string of two letters or more ("Maeve J. Harlow" → Maeve, Harlow)."""
    return [word for word in NAME_WORD.findall(text or "") if len(word) >= MIN_NAME_LENGTH]


def text_words(text: str | None) -> list[str]:
    """The words of a name's text but its titles and suffixes ("Mr. Gordon Pryce Jr." → 2)."""
    return [word for word in words_in(text) if word.casefold() not in NOT_NAMES]


def name_words(name: Mapping[str, object]) -> set[str]:
    """Every word of a HumanName: given, family and text, and each half of a hyphenated one."""
    parts = [as_str(name.get("family")), *map(as_str, given_names(name))]
    words = [word for part in parts for word in words_in(part)]
    words += text_words(as_str(name.get("text")))
    return {half for word in words for half in [word, *words_in(word.replace("-", " "))]}


def is_telling(word: str) -> bool:
    """Tell whether a name word is long and no ordinary word: it names the patient in any case."""
    return len(word) >= MIN_TELLING_LENGTH and word.casefold() not in ORDINARY_WORDS | PARTICLES


def is_weak(word: str) -> bool:
    """A particle or ordinary two-letter word: alone it names no one but after a title."""
    folded = word.casefold()
    return folded in PARTICLES or (len(word) == MIN_NAME_LENGTH and folded in ORDINARY_SHORT_WORDS)


def title_case(words: str) -> str:
    """Each word with a capital first letter and the rest in lower case ("Le, An")."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in words.split(" "))


def as_names_are_written(words: str) -> set[str]:
    """Title Case and ALL CAPS of a name ("Rose", "ROSE"; "Le, An", "LE, AN")."""
    return {title_case(words), words.upper()}


def telling_names(words: Iterable[str]) -> frozenset[str]:
    """The name words matched in any case: five letters or more, no ordinary word."""
    return frozenset(word for word in words if is_telling(word))


def spelled_names(words: Iterable[str]) -> frozenset[str]:
    """Names not telling alone: in Title Case, and long ones in ALL CAPS too (not AKI, ANA)."""
    spelled: set[str] = set()
    for word in words:
        if is_telling(word) or is_weak(word):
            continue
        spelled.add(title_case(word))
        if len(word) >= MIN_TELLING_LENGTH:
            spelled.add(word.upper())
    return frozenset(spelled)


def titled_names(words: Iterable[str]) -> frozenset[str]:
    """Names not telling alone, particles and short words included, as written after a title."""
    weak = (word for word in words if not is_telling(word))
    return frozenset(spelling for word in weak for spelling in as_names_are_written(word))


def full_names(name: Mapping[str, object]) -> list[str]:
    """A HumanName in full: 'Given Family' and 'Family, Given' for each given word, and its text."""
    family = words_in(as_str(name.get("family")))
    given = [word for part in given_names(name) for word in words_in(as_str(part))]
    pairs = [(first, last) for first in given for last in family]
    in_order = [f"{first} {last}" for first, last in pairs]
    banner_order = [f"{last}, {first}" for first, last in pairs]
    return [*in_order, *banner_order, " ".join(text_words(as_str(name.get("text"))))]


def weak_full_names(names: Iterable[Mapping[str, object]]) -> frozenset[str]:
    """The full names none of whose words tells alone ("An Le"), as names are written."""
    forms = {form for name in names for form in full_names(name) if " " in form}
    weak = (form for form in forms if not any(map(is_telling, words_in(form))))
    return frozenset(spelling for form in weak for spelling in as_names_are_written(form))


def birth_date_forms(birth_date: str) -> set[str]:
    """A full FHIR birthDate in numbers: ISO, month or day first, padded or not, yyyy or yy."""
    match = FULL_DATE.fullmatch(birth_date)
    if not match:
        return set()
    year, month, day = match.groups()
    forms = {birth_date}
    for m in {month, str(int(month))}:
        for d in {day, str(int(day))}:
            for y in (year, year[2:]):
                forms |= {f"{m}/{d}/{y}", f"{d}/{m}/{y}", f"{d}.{m}.{y}"}
                forms |= {f"{m}-{d}-{y}", f"{d}-{m}-{y}"}
    return forms


def named_month_date(birth_date: str) -> re.Pattern[str] | None:
    """The birth date with its month named, day or month first: "22 Jul 1958", "July 22nd, '58".

    A two-digit year counts after an apostrophe or joined by a hyphen, slash or dot ("22-JUL-58"),
    not after a space or comma: "July 22, 58 mL/kg" and "Dec 2, 21 puffs" are counts.
    """
    match = FULL_DATE.fullmatch(birth_date)
    if not match or not 1 <= int(match.group(2)) <= len(MONTH_NAMES):
        return None
    year, month, day = match.groups()
    names = sorted(MONTH_NAMES[int(month) - 1].split(), key=len, reverse=True)
    month_ = "(?:" + "|".join(map(re.escape, names)) + r")\.?"
    day_ = rf"0?{int(day)}(?:st|nd|rd|th)?"
    year_ = rf"(?:{DATE_GAP}(?:{year}|'{year[2:]})|[-/.]{year[2:]})"
    day_first = f"{day_}{DATE_GAP}{month_}{year_}"
    month_first = rf"{month_}{DATE_GAP}{day_}{year_}"
    return re.compile(rf"(?<!\w)(?:{day_first}|{month_first})(?!\w)", re.IGNORECASE)


def telling_codes(codes: Iterable[str | None]) -> frozenset[str]:
    """Drop codes too short to tell apart from ordinary words (matched in any case)."""
    return frozenset(code for code in codes if code and len(code) >= MIN_CODE_LENGTH)
