"""When two display names are the same name to a reader: the key a name is unique by.

A name's key folds what a reader cannot see: compatibility forms (NFKC: U+217C, a small roman
numeral fifty, is `l`; a full-width letter is its ASCII one), invisible characters (format
characters such as zero-width spaces and joiners, and the other default-ignorable code points),
case and runs of spaces. Letters of different scripts that look alike (Cyrillic U+0456 and Latin
`i`) are kept apart by refusing a name that mixes scripts, as UTS #39's "highly restrictive" level
does: one script, or Latin with the scripts written together in Chinese, Japanese or Korean.
Names stored under the earlier rule (case and spaces only) were keyed again by this one when the
store migrated (store.rekey_display_names): of names that then read alike, the first saved kept
its owner and the others were cleared, so those learners choose another before they next post.
"""

from __future__ import annotations

import re
import unicodedata

# Default-ignorable code points that are not format (Cf) characters: a combining grapheme joiner,
# Hangul fillers, Khmer inherent vowels, Mongolian and other variation selectors.
IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
# The script sets a name may mix (UTS #39, highly restrictive); Han is named CJK in Unicode names.
ALLOWED_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)


def name_key(name: str) -> str:
    """The key two display names that read the same share."""
    visible = "".join(
        character
        for character in IGNORABLE.sub("", unicodedata.normalize("NFKC", name))
        if unicodedata.category(character) != "Cf"
    )
    folded = unicodedata.normalize("NFKC", visible.casefold())
    return " ".join(folded.split())


def mixes_scripts(name: str) -> bool:
    """Tell whether a name's letters come from scripts a reader could mistake for one another."""
    scripts = {script_of(character) for character in unicodedata.normalize("NFKC", name)}
    scripts.discard(None)
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in ALLOWED_MIXES)


def script_of(character: str) -> str | None:
    """The script of a letter, from its Unicode name (LATIN, CYRILLIC, CJK…); None for others.

    Modifier letters (category Lm) are shared between scripts, as are digits, marks and spaces.
    """
    if unicodedata.category(character) not in {"Lu", "Ll", "Lt", "Lo"}:
        return None
    return unicodedata.name(character, "").split(" ", 1)[0] or None
