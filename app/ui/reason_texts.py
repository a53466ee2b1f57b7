"""Catalogue markers for the reason sentences the pure learning code writes.

app/learning has no Flask and is not scanned by Babel, so its English templates and the words put
into them are listed here for extraction; the pages pass gettext to the learning code, which looks
each one up at render time. tests/ui/test_learner_pages.py checks this list matches the learning
code, so a new or changed template cannot go untranslated unnoticed.
"""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext, ngettext

REASON_TEMPLATES = (
    lazy_gettext("{count} question(s) from this module are due for review"),
    lazy_gettext("You said you want to work on this topic"),
    lazy_gettext("It is relevant to your specialty ({specialty})"),
    lazy_gettext("Its level ({level}) matches your current mastery ({percent}%)"),
    lazy_gettext("Its level ({level}) is a good place to start"),
    lazy_gettext("You have mastered this topic ({percent}%, {answers} answers), so it ranks lower"),
)
PRACTICE_TEMPLATES = (
    lazy_gettext(
        "{events} of your {eligible} {label} encounters {period} had an antibiotic ordered; "
        "peer median {peer} of 10"
    ),
    lazy_gettext(
        "{met} of your {eligible} {label} {units} {period} met the measure; "
        "peer median {peer} of 10"
    ),
)
WORDS = (
    lazy_gettext("URI"),
    lazy_gettext("acute bronchitis"),
    lazy_gettext("heart failure (HFrEF)"),
    lazy_gettext("sepsis"),
    lazy_gettext("encounters"),
    lazy_gettext("episodes"),
    lazy_gettext("patients"),
    lazy_gettext("foundational"),
    lazy_gettext("intermediate"),
    lazy_gettext("advanced"),
)


def message_ids() -> set[str]:
    """The English text of every marker above."""
    return {m._args[0] for m in (*REASON_TEMPLATES, *PRACTICE_TEMPLATES, *WORDS)}


# What each rule is called in "Why this rank" (the codes are the learning code's rule ids).
RULE_NAMES = {
    "antibiotic_gap": lazy_gettext("A gap in your practice data"),
    "measure_gap": lazy_gettext("A gap in your practice data"),
    "review_due": lazy_gettext("Questions due for review"),
    "self_gap": lazy_gettext("A topic you chose"),
    "specialty": lazy_gettext("Your specialty"),
    "level_match": lazy_gettext("Level matched to your mastery"),
    "level_start": lazy_gettext("A good level to start"),
    "mastered": lazy_gettext("Topic already mastered"),
}


def rule_name(code: str) -> str:
    """A ranking rule's name for clinicians (an unknown rule gets a neutral name, never its id)."""
    label = RULE_NAMES.get(code)
    return str(label) if label else gettext("Other reason")


def review_due_sentence(count: int) -> str:
    """The review-due reason with a real plural ("1 question … is", "2 questions … are")."""
    return ngettext(
        "%(num)d question from this module is due for review",
        "%(num)d questions from this module are due for review",
        count,
    )
