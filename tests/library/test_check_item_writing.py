"""The checker's item-writing rules across the library (issue #18, item 15), on small libraries."""

from __future__ import annotations

from app.library.check import check_library
from tests.library.helpers import (
    MODULE_FILE,
    TODAY,
    assert_fails,
    finding_at,
    good_module,
    listing,
    run_check,
    write_library,
)

LIBRARY = "content/modules"
QUESTIONS_PER_MODULE = 4


def question(number: int, key: str, key_longest: bool) -> dict:
    """A four-option question keyed at `key`; its key is the strictly longest option or ties."""
    texts = {option: f"Option {option} text" for option in "abcd"}
    if key_longest:
        texts[key] += " that runs on"
    return {
        "id": f"q{number}",
        "stem": {"en": f"Question {number}?", "es": f"¿Pregunta {number}?"},
        "options": [
            {"id": option, "text": {"en": text, "es": text}} for option, text in texts.items()
        ],
        "answer": key,
        "rationale": {"en": "Because the guideline says so.", "es": "Porque lo dice la guía."},
        "reference": "Evans L, et al. Crit Care Med 2021.",
    }


def check_items(tmp_path, keys: str, longest: int):
    """Check a library whose items are keyed as `keys` (one letter each), the first `longest`
    of them with the key as the strictly longest option, four items per module."""
    modules = []
    for start in range(0, len(keys), QUESTIONS_PER_MODULE):
        module = good_module()
        module["id"] = f"sepsis-lactate-{start // QUESTIONS_PER_MODULE}"
        module["case"]["questions"] = [
            question(start + i + 1, key, start + i < longest)
            for i, key in enumerate(keys[start : start + QUESTIONS_PER_MODULE])
        ]
        modules.append(module)
    return check_library(write_library(tmp_path, modules), today=TODAY)


def library_message(report, severity: str, text: str) -> str:
    """The message of the library-wide finding of this severity that mentions text."""
    return finding_at(report, LIBRARY, "case.questions", text, severity).message


# no position holds more than 35 % of the keys


def test_keys_spread_at_the_limit_pass_with_their_figure(tmp_path):
    report = check_items(tmp_path, "aaaaaaa" + "bbbbb" + "cccc" + "dddd", longest=0)  # 7 of 20
    assert report.ok, listing(report)
    message = library_message(report, "info", "position a")
    assert "in 7 of 20 items (35 %), limit 35 %" in message
    assert "a 7, b 5, c 4, d 4" in message


def test_one_key_too_many_in_one_position_is_an_error(tmp_path):
    report = check_items(tmp_path, "bbbbbbbb" + "aaaa" + "cccc" + "dddd", longest=0)  # 8 of 20
    assert not report.ok
    message = library_message(report, "error", "position b")
    assert "in 8 of 20 items (40 %), limit 35 %" in message


# the key is the strictly longest option in at most 40 % of the items


def test_key_longest_at_the_limit_passes_with_its_figure(tmp_path):
    report = check_items(tmp_path, "abcd" * 5, longest=8)
    assert report.ok, listing(report)
    message = library_message(report, "info", "longest")
    assert "correct option longest in 8 of 20 items (40 %), limit 40 %" in message


def test_key_longest_too_often_is_an_error(tmp_path):
    report = check_items(tmp_path, "abcd" * 5, longest=9)
    assert not report.ok
    message = library_message(report, "error", "longest")
    assert "correct option longest in 9 of 20 items (45 %), limit 40 %" in message


def test_a_key_tied_for_longest_is_not_the_longest(tmp_path):
    report = check_items(tmp_path, "abcd" * 5, longest=0)  # every option the same length
    assert "longest in 0 of 20 items (0 %)" in library_message(report, "info", "longest")


def test_the_rules_count_items_across_modules_not_per_module(tmp_path):
    # each module alone keys three of four items at `a` (75 %); the library keys 6 of 20 there
    keys = "aaab" + "cccd" + "aaab" + "dddc" + "bbcd"
    report = check_items(tmp_path, keys, longest=0)
    assert report.ok, listing(report)
    assert "a in 6 of 20 items (30 %)" in library_message(report, "info", "position")


# every question has a rationale and a reference


def test_a_question_without_a_reference_or_rationale_is_an_error(tmp_path):
    module = good_module()
    module["case"]["questions"][1]["reference"] = "  "
    module["case"]["questions"][2]["rationale"]["en"] = " "
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "case.questions[1].reference", "needs a reference")
    finding_at(report, MODULE_FILE, "case.questions[2].rationale", "needs a rationale")
