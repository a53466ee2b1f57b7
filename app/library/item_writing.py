"""Item-writing rules for the case questions (issue #18, item 15).

Across the library, a test-wise learner must gain nothing from where the key sits or how long it
is: no option position (a, b, c, … as written) holds more than MAX_POSITION_PERCENT of the keys,
and the key is the strictly longest option (English text, in characters) in at most
MAX_LONGEST_PERCENT of the items. Each figure is reported, as an error past its limit and as an
info otherwise. Every question also carries a rationale and a reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from app.library.findings import Finding, LibraryContext, ModuleFile, Severity, get, items
from app.library.module_checks import blank

MAX_POSITION_PERCENT = 35
MAX_LONGEST_PERCENT = 40
POSITIONS = "abcdefghij"
FIELD = "case.questions"


@dataclass(frozen=True)
class Item:
    """One answerable question: where its key sits and whether the key is the longest option."""

    position: int
    key_longest: bool


def check_rationale_and_reference(entry: ModuleFile) -> list[Finding]:
    """Every question has a rationale (in English at least) and a reference."""
    findings = []
    for index, question in items(get(entry.data, "case", "questions")):
        if not isinstance(question, Mapping):
            continue
        if blank(get(question, "rationale", "en")):
            findings.append(
                entry.error(
                    ["case", "questions", index, "rationale"],
                    "every question needs a rationale saying why the key is right and the "
                    "distractors wrong; add it.",
                )
            )
        if blank(question.get("reference")):
            findings.append(
                entry.error(
                    ["case", "questions", index, "reference"],
                    "every question needs a reference (the guideline section or source it "
                    "tests); add it.",
                )
            )
    return findings


def check_key_position(library: LibraryContext) -> list[Finding]:
    """No option position holds more than MAX_POSITION_PERCENT of the keys across the library."""
    found = list(library_items(library))
    if not found:
        return []
    counts = Counter(item.position for item in found)
    position, count = max(counts.items(), key=lambda pair: (pair[1], -pair[0]))
    spread = ", ".join(f"{POSITIONS[p]} {counts[p]}" for p in sorted(counts))
    figure = (
        f"correct option at position {POSITIONS[position]} in {figure_of(count, len(found))}, "
        f"limit {MAX_POSITION_PERCENT} % (keys by position: {spread})"
    )
    if over(count, len(found), MAX_POSITION_PERCENT):
        return [library_finding(library, "error", f"{figure}; move keys to other positions.")]
    return [library_finding(library, "info", figure + ".")]


def check_key_length(library: LibraryContext) -> list[Finding]:
    """The key is the strictly longest option in at most MAX_LONGEST_PERCENT of the items."""
    found = list(library_items(library))
    if not found:
        return []
    longest = sum(item.key_longest for item in found)
    figure = (
        f"correct option longest in {figure_of(longest, len(found))}, "
        f"limit {MAX_LONGEST_PERCENT} % (English text, in characters)"
    )
    if over(longest, len(found), MAX_LONGEST_PERCENT):
        message = f"{figure}; shorten keys or make distractors as complete as the key."
        return [library_finding(library, "error", message)]
    return [library_finding(library, "info", figure + ".")]


def library_items(library: LibraryContext) -> Iterator[Item]:
    """Every question of every module whose answer names one of its options."""
    for module in library.modules:
        for _, question in items(get(module.module, "case", "questions")):
            item = item_of(question)
            if item is not None:
                yield item


def item_of(question: Any) -> Item | None:
    """A question's key position and length, or None when its answer names no option."""
    options = [option for _, option in items(get(question, "options"))]
    ids = [get(option, "id") for option in options]
    answer = get(question, "answer")
    if answer not in ids:
        return None  # check_questions reports it
    position = ids.index(answer)
    lengths = [len(text) if isinstance(text := get(o, "text", "en"), str) else 0 for o in options]
    others = lengths[:position] + lengths[position + 1 :]
    return Item(position=position, key_longest=all(lengths[position] > n for n in others))


def over(count: int, total: int, limit_percent: int) -> bool:
    """count/total is above limit_percent, exactly (no floating point)."""
    return 100 * count > limit_percent * total


def figure_of(count: int, total: int) -> str:
    """`42 of 54 items (78 %)`."""
    return f"{count} of {total} items ({round(100 * count / total)} %)"


def library_finding(library: LibraryContext, severity: Severity, message: str) -> Finding:
    """A finding about the library's questions as a whole (reported on the modules folder)."""
    return Finding(severity, f"{library.content_dir.name}/modules", FIELD, message)
