"""The identifying terms of a case's source patient, as keyed hashes: every edit is checked on them.

A case keeps no identifier in clear. When it is drafted, each identifying term of the record it
was drafted from (what the Safe Harbor scrubber removes: names, ids, contacts, places, devices),
of the patient (what the patient-data guard refuses), and the birth year of a patient over 89,
is hashed with the app's key (`app.identity.keyed_hash`). An edit's words (WORD), alone and in
runs of up to MAX_WORDS, are hashed the same way and looked up, whichever patient its author
launched since; once the case is approved (no longer edited), its hashes are dropped.

A name word counts as the patient-data guard counts it (`app.ledger.privacy`): a telling one in
any case, an ordinary word ("Rose", "Will") in Title Case or ALL CAPS, a particle or ordinary
short word ("de", "Le") only after a title; numbers and longer terms count in any case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.case_conferences.deidentify import (
    OLDEST_GROUP,
    age_group,
    as_date,
    could_be_over_89,
    record_identifiers,
)
from app.case_conferences.vignette import case_day0, first_of
from app.fhir_json import as_str
from app.identity import keyed_hash
from app.ledger.privacy import (
    NAME_WORD,
    TITLED,
    as_names_are_written,
    identifying_terms,
    is_telling,
    spelled_names,
    telling_names,
    titled_names,
)

# a word, or a code joined by hyphens, dots, slashes ("SYN-SEP-000101", "7/22/58"); an apostrophe
# splits ("Harlow's": Harlow, s)
WORD = re.compile(r"\w+(?:[-./@+]\w+)*")
MAX_WORDS = 8  # a longer term (an address written as one text) counts through its parts
TITLE_BEFORE = re.compile(rf"(?<![\w-]){TITLED}\Z")
TITLE_REACH = 12  # characters before a word where its title may start ("Mlle. ")
PURPOSE = "case-source-term"


@dataclass(frozen=True)
class SourceTerms:
    """Keyed hashes of a source patient's terms, by how a text must write them to count."""

    key: bytes = field(default=b"", repr=False)
    any_case: frozenset[str] = frozenset()
    as_spelled: frozenset[str] = frozenset()
    after_title: frozenset[str] = frozenset()
    longest: int = 0  # the most words in one term

    def found_in(self, text: str) -> bool:
        """Tell whether the text holds one of the terms, written as it must be to count."""
        words = list(WORD.finditer(text))
        for start, first in enumerate(words):
            for end in range(start + 1, min(start + self.longest, len(words)) + 1):
                run = " ".join(word.group(0) for word in words[start:end])
                if self.counts(run, text, first.start()):
                    return True
        return False

    def counts(self, run: str, text: str, at: int) -> bool:
        """Tell whether a run of words starting at a place in the text is one of the terms."""
        if self.hashed("any", run.casefold()) in self.any_case:
            return True
        spelled = self.as_spelled and run != run.lower()
        if spelled and self.hashed("spelled", run) in self.as_spelled:
            return True
        titled = TITLE_BEFORE.search(text, max(0, at - TITLE_REACH), at) is not None
        return titled and self.hashed("titled", run) in self.after_title

    def hashed(self, how: str, run: str) -> str:
        """A run of words as the keyed hash it is kept as."""
        return keyed_hash(self.key, PURPOSE, how, run)

    def as_json(self) -> str:
        """The hashes as JSON, to keep with the case (never the key)."""
        return json.dumps(
            {
                "any": sorted(self.any_case),
                "spelled": sorted(self.as_spelled),
                "titled": sorted(self.after_title),
                "longest": self.longest,
            }
        )

    @classmethod
    def from_json(cls, key: bytes, kept: str | None) -> SourceTerms:
        """The hashes a case keeps (none for a case drafted before they were kept)."""
        found = json.loads(kept) if kept else {}
        return cls(
            key,
            frozenset(found.get("any", ())),
            frozenset(found.get("spelled", ())),
            frozenset(found.get("titled", ())),
            int(found.get("longest", 0)),
        )


def source_terms(key: bytes, resources: Iterable[Mapping[str, object]]) -> SourceTerms:
    """The hashed terms of the record a case is drafted from."""
    resources = list(resources)
    patient = first_of(resources, "Patient")
    record = record_identifiers(resources).terms
    names = {term for term in record if all(map(NAME_WORD.fullmatch, term.split(" ")))}
    words = {name for name in names if " " not in name}
    weak = {name for name in names - words if not any(map(is_telling, name.split(" ")))}
    guard = identifying_terms(patient)
    any_case = {*telling_names(words), *(names - words - weak), *(record - names)}
    any_case |= {*guard.names, *guard.codes, *oldest_birth_year(patient, resources)}
    spelled = {form for name in weak for form in as_names_are_written(name)}
    written = {
        "any": runs_of(term.casefold() for term in any_case),
        "spelled": runs_of(spelled | spelled_names(words) | guard.spelled),
        "titled": runs_of(titled_names(words) | guard.titled_names),
    }
    hashed = SourceTerms(key).hashed
    kept = {how: frozenset(hashed(how, run) for run in runs) for how, runs in written.items()}
    longest = max((len(run.split(" ")) for runs in written.values() for run in runs), default=0)
    return SourceTerms(key, kept["any"], kept["spelled"], kept["titled"], longest)


def runs_of(terms: Iterable[str]) -> set[str]:
    """Each term as the run of words an edit shows it in (a term of too many words left out)."""
    runs = (WORD.findall(term) for term in terms)
    return {" ".join(run) for run in runs if 0 < len(run) <= MAX_WORDS}


def oldest_birth_year(
    patient: Mapping[str, object], resources: list[Mapping[str, object]]
) -> set[str]:
    """The patient's birth year when it tells an age over 89 on the case's day 0 (else none).

    Exact from a full birth date; from a year alone, when the patient could be over 89.
    """
    year = (as_str(patient.get("birthDate")) or "")[:4]
    born, day0 = as_date(patient.get("birthDate")), case_day0(resources)
    if not year.isdigit() or day0 is None:
        return set()
    over_89 = age_group(born, day0) == OLDEST_GROUP if born else could_be_over_89(int(year), day0)
    return {year} if over_89 else set()
