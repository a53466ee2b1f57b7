"""Synthetic content-analytics records for demo mode: cards with feedback and case attempts.

Clearly synthetic: made-up opaque keys ("synthetic-clinician-07", "synthetic-learner-42"), no
patient at all, a fixed seed so every demo shows the same figures. Item responses follow a
two-parameter logistic model, with each module given one miskeyed-looking item (abler learners
do worse on it) and one item nearly everyone gets right, so the item analysis has something to find.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from flask import current_app

from app.dashboards.content_data import CardAction, CardShown, CaseAttempt, ContentRecords
from cds_hooks.cards import OVERRIDE_REASON_SYSTEM

SEED = 20261206
MODULES = ("uri-antibiotics-adults", "sepsis-hour-1-bundle", "hfref-gdmt")
LEARNERS = 150
RETAKE_SHARE = 0.25
CLINICIANS = 18
WEEKS = 12
# (discrimination a, difficulty b) of the 2PL model P(correct) = 1 / (1 + exp(-a (ability - b))).
ITEM_PROFILES = ((2.6, -0.5), (2.2, 0.4), (-0.8, 0.0), (1.0, -4.5))
ACCEPTED_SHARE, OVERRIDDEN_SHARE = 0.35, 0.4
ANCHOR = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday: the synthetic weeks end here


class SyntheticContent:
    """A callable giving the same synthetic ContentRecords every time (made on first use)."""

    def __init__(self, seed: int = SEED):
        self.seed = seed
        self._records: ContentRecords | None = None

    def __call__(self) -> ContentRecords:
        """The records, generated once from the app's content library."""
        if self._records is None:
            runtime = current_app.extensions.get("cds")
            library = runtime.engine.library.modules if runtime is not None else {}
            modules = [library[module_id] for module_id in MODULES if module_id in library]
            self._records = synthetic_records(modules, random.Random(self.seed))
        return self._records


def synthetic_records(modules: list[dict], rng: random.Random) -> ContentRecords:
    """Cards and case attempts for these modules."""
    shown: list[CardShown] = []
    actions: list[CardAction] = []
    attempts: list[CaseAttempt] = []
    for offset, module in enumerate(modules):
        cards = synthetic_cards(module, rng)
        shown.extend(cards)
        actions.extend(synthetic_actions(module, cards, rng))
        attempts.extend(synthetic_attempts(module, offset, rng))
    return ContentRecords(shown, actions, attempts, synthetic=True)


def synthetic_cards(module: dict, rng: random.Random) -> list[CardShown]:
    """Each synthetic clinician sees 0 to 6 of the module's cards in each of the weeks."""
    cards = []
    for clinician in range(1, CLINICIANS + 1):
        for week in range(WEEKS):
            monday = ANCHOR - timedelta(weeks=WEEKS - week)
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 6))):
                cards.append(
                    CardShown(
                        f"synthetic-card-{rng.getrandbits(64):016x}",
                        module["id"],
                        str(module["version"]),
                        f"synthetic-clinician-{clinician:02d}",
                        monday + timedelta(seconds=rng.uniform(0, 5 * 24 * 3600)),
                    )
                )
    return cards


def synthetic_actions(module: dict, cards: list[CardShown], rng: random.Random) -> list[CardAction]:
    """About a third accepted, two fifths overridden with one of the module's own reasons."""
    reasons = module["card"]["override_reasons"]
    weights = [len(reasons) - index for index in range(len(reasons))]
    actions = []
    for card in cards:
        draw = rng.random()
        if draw >= ACCEPTED_SHARE + OVERRIDDEN_SHARE:
            continue  # no feedback: the card was ignored
        acted_at = card.shown_at + timedelta(seconds=rng.lognormvariate(math.log(40), 0.9))
        if draw < ACCEPTED_SHARE:
            actions.append(CardAction(card.card_uuid, "accepted", None, None, acted_at))
            continue
        reason = rng.choices(reasons, weights)[0]
        system = reason.get("system", OVERRIDE_REASON_SYSTEM)
        actions.append(CardAction(card.card_uuid, "overridden", reason["code"], system, acted_at))
    return actions


def synthetic_attempts(module: dict, offset: int, rng: random.Random) -> list[CaseAttempt]:
    """One attempt per synthetic learner, a retake for some; answers from the 2PL model."""
    questions = [question["id"] for question in module["case"]["questions"]]
    attempts = []
    for learner in range(1, LEARNERS + 1):
        ability = rng.gauss(0, 1)
        started = ANCHOR - timedelta(days=rng.uniform(7, 7 * WEEKS))
        for retake in range(2 if rng.random() < RETAKE_SHARE else 1):
            gain = 0.8 * retake  # a retake has read the rationales
            answers = {
                item: rng.random() < correct_chance(ability + gain, index + offset)
                for index, item in enumerate(questions)
            }
            attempts.append(
                CaseAttempt(
                    f"synthetic-learner-{learner:02d}",
                    module["id"],
                    str(module["version"]),
                    started + timedelta(days=retake),
                    sum(answers.values()),
                    len(answers),
                    int(module["pass_mark_percent"]),
                    answers,
                )
            )
    return attempts


def correct_chance(ability: float, item: int) -> float:
    """The 2PL chance of a right answer to the item's profile (profiles rotate per module)."""
    a, b = ITEM_PROFILES[item % len(ITEM_PROFILES)]
    return 1 / (1 + math.exp(-a * (ability - b)))
