"""What a search query's words stand for: stop words to skip, brand → generic, Spanish ↔ English.

The synonyms are a small explicit table, not clinical knowledge: brand names come from
brand_names.txt (sourced there) and are kept only when the library mentions their generic;
the Spanish ↔ English pairs are plain translations of the library's topic words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from app.library.text_checks import brand_names

WORD = re.compile(r"\w+", re.UNICODE)

# Function words of a typed question ("should … in sepsis?"): they match every module.
STOP_WORDS = frozenset(
    WORD.findall(
        """
    a an and are as at be but by can do does for from how i if in is it my of on or our
    should than that the then this to was what when where which who why will with would
    al con cual cuando de del el en es la las lo los mi o para por que se si su un una uno y
    """
    )
)

# Spanish word (folded: lower case, no accents) → the English words it stands for.
SPANISH_ENGLISH: dict[str, tuple[str, ...]] = {
    "alergia": ("allergy",),
    "amoxicilina": ("amoxicillin",),
    "anticoagulacion": ("anticoagulation",),
    "antibiotico": ("antibiotic",),
    "antibioticos": ("antibiotics",),
    "auricular": ("atrial",),
    "bronquitis": ("bronchitis",),
    "cardiaca": ("heart",),
    "dolor": ("pain",),
    "fibrilacion": ("fibrillation",),
    "hemocultivo": ("blood", "culture"),
    "hemocultivos": ("blood", "cultures"),
    "hipertension": ("hypertension",),
    "insuficiencia": ("failure",),
    "lactato": ("lactate",),
    "neumonia": ("pneumonia",),
    "ninos": ("children",),
    "oido": ("ear",),
    "opioides": ("opioids",),
    "penicilina": ("penicillin",),
    "presion": ("pressure",),
    "profilaxis": ("prophylaxis",),
    "trombosis": ("thrombosis",),
}


def fold(word: str) -> str:
    """Lower-case a word and strip its accents, as the index does."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def folded_words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return [fold(word) for word in WORD.findall(text)]


def synonyms(english_vocabulary: set[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    """{language: {folded word: words it stands for}}; brands only for generics the index holds."""
    brands = {
        fold(brand): tuple(folded_words(generic))
        for brand, (_, generic) in brand_names().items()
        if len(folded_words(brand)) == 1 and set(folded_words(generic)) <= english_vocabulary
    }
    english_spanish: dict[str, tuple[str, ...]] = {}
    for spanish, english in SPANISH_ENGLISH.items():
        if len(english) == 1:
            english_spanish.setdefault(english[0], (spanish,))
    spanish_brands = {
        brand: tuple(expand(generic, english_spanish)) for brand, generic in brands.items()
    }
    return {"en": {**brands, **SPANISH_ENGLISH}, "es": {**spanish_brands, **english_spanish}}


def expand(words: Iterable[str], table: dict[str, tuple[str, ...]]) -> list[str]:
    """Replace each word that has a synonym by the words it stands for (in order, no repeats)."""
    expanded: list[str] = []
    for word in words:
        for term in table.get(word, (word,)):
            if term not in expanded:
                expanded.append(term)
    return expanded
