"""Synthetic content-analytics tallies for demo mode: cards with feedback and case attempts.

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

from app.dashboards.content_data import (
    ACCEPTED,
    OVERRIDDEN,
    Action,
    CardTally,
    CaseTally,
    ContentTallies,
)
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
    """A callable giving the same synthetic ContentTallies every time (made on first use)."""

    def __init__(self, seed: int = SEED):
        self.seed = seed
        self._tallies: ContentTallies | None = None

    def __call__(self) -> ContentTallies:
        """The tallies, generated once from the app's content library."""
        if self._tallies is None:
            runtime = current_app.extensions.get("cds")
            library = runtime.engine.library.modules if runtime is not None else {}
            modules = [library[module_id] for module_id in MODULES if module_id in library]
            self._tallies = synthetic_tallies(modules, random.Random(self.seed))
        return self._tallies


def synthetic_tallies(modules: list[dict], rng: random.Random) -> ContentTallies:
    """Cards and case attempts for these modules."""
    cards, cases = {}, {}
    for offset, module in enumerate(modules):
        version = (module["id"], str(module["version"]))
        cards[version] = synthetic_cards(module, rng)
        cases[version] = synthetic_case(module, offset, rng)
    return ContentTallies(cards, cases, synthetic=True)


def synthetic_cards(module: dict, rng: random.Random) -> CardTally:
    """The module's cards shown to the synthetic clinicians, and what they did with them."""
    tally = CardTally()
    showings = synthetic_showings(rng)
    for clinician, shown_at in showings:
        tally.add_shown(clinician, shown_at.date())
    for _, shown_at in showings:
        tally.add_actions(shown_at, synthetic_actions(module, shown_at, rng))
    return tally


def synthetic_showings(rng: random.Random) -> list[tuple[str, datetime]]:
    """Each synthetic clinician sees 0 to 6 cards in each of the weeks: to whom, and when."""
    showings = []
    for clinician in range(1, CLINICIANS + 1):
        for week in range(WEEKS):
            monday = ANCHOR - timedelta(weeks=WEEKS - week)
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 6))):
                rng.getrandbits(64)  # the card's id once: the demo keeps its figures
                shown_at = monday + timedelta(seconds=rng.uniform(0, 5 * 24 * 3600))
                showings.append((f"synthetic-clinician-{clinician:02d}", shown_at))
    return showings


def synthetic_actions(module: dict, shown_at: datetime, rng: random.Random) -> list[Action]:
    """About a third accepted, two fifths overridden with one of the module's own reasons, the
    rest ignored (no feedback)."""
    draw = rng.random()
    if draw >= ACCEPTED_SHARE + OVERRIDDEN_SHARE:
        return []
    acted_at = shown_at + timedelta(seconds=rng.lognormvariate(math.log(40), 0.9))
    if draw < ACCEPTED_SHARE:
        return [(ACCEPTED, (None, None), acted_at)]
    reasons = module["card"]["override_reasons"]
    weights = [len(reasons) - index for index in range(len(reasons))]
    reason = rng.choices(reasons, weights)[0]
    system = reason.get("system", OVERRIDE_REASON_SYSTEM)
    return [(OVERRIDDEN, (reason["code"], system), acted_at)]


def synthetic_case(module: dict, offset: int, rng: random.Random) -> CaseTally:
    """One attempt per synthetic learner, a retake for some; answers from the 2PL model."""
    questions = [question["id"] for question in module["case"]["questions"]]
    tally = CaseTally()
    for learner in range(1, LEARNERS + 1):
        ability = rng.gauss(0, 1)
        started = ANCHOR - timedelta(days=rng.uniform(7, 7 * WEEKS))
        for retake in range(2 if rng.random() < RETAKE_SHARE else 1):
            gain = 0.8 * retake  # a retake has read the rationales
            answers = {
                item: rng.random() < correct_chance(ability + gain, index + offset)
                for index, item in enumerate(questions)
            }
            name = f"synthetic-learner-{learner:02d}"
            correct, total = sum(answers.values()), len(answers)
            tally.add_completed(name, correct, total, int(module["pass_mark_percent"]))
            tally.offer_first(name, started + timedelta(days=retake), answers)
    return tally


def correct_chance(ability: float, item: int) -> float:
    """The 2PL chance of a right answer to the item's profile (profiles rotate per module)."""
    a, b = ITEM_PROFILES[item % len(ITEM_PROFILES)]
    return 1 / (1 + math.exp(-a * (ability - b)))
