"""Ranked "what next" modules from transparent, additive rules: no opaque model.

Score = sum of the rule weights that apply (named constants below), in this order of strength:
practice-data gap > review due > self-reported gap > specialty match. Two modifiers follow: a small
bonus when the module's level matches the learner's mastery (foundational below LOW_MASTERY,
advanced from HIGH_MASTERY, intermediate between) and a penalty for a mastered topic with nothing
due. A module is listed only when a need rule applies (gap, review, self-reported gap or specialty),
so every recommendation has at least one reason. Ties break by module id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.fhir_json import JsonObject
from app.learning.mastery import TopicMastery, overall
from app.learning.practice import PracticeGap, identity, practice_gaps_from
from app.learning.reviews import DueReview

__all__ = ["Profile", "Recommendation", "practice_gaps_from", "recommend"]

PRACTICE_GAP_WEIGHT = 40.0
REVIEW_DUE_WEIGHT = 30.0
SELF_GAP_WEIGHT = 20.0
SPECIALTY_WEIGHT = 10.0
DIFFICULTY_MATCH_WEIGHT = 5.0
MASTERED_PENALTY = -25.0
LOW_MASTERY = 0.4
HIGH_MASTERY = 0.75
LEVELS = ("foundational", "intermediate", "advanced")

TEMPLATES = {
    "review_due": "{count} question(s) from this module are due for review",
    "self_gap": "You said you want to work on this topic",
    "specialty": "It is relevant to your specialty ({specialty})",
    "level_match": "Its level ({level}) matches your current mastery ({percent}%)",
    "level_start": "Its level ({level}) is a good place to start",
    "mastered": ("You have mastered this topic ({percent}%, {answers} answers), so it ranks lower"),
}


@dataclass(frozen=True)
class Profile:
    """What the learner told us or the EHR says: specialty (and its source), gaps, language."""

    learner_id: str = ""
    specialty: str | None = None
    specialty_source: str = "self"  # ehr | self
    gaps: tuple[str, ...] = ()  # module ids the learner wants to work on
    language: str = "en"


@dataclass(frozen=True)
class Recommendation:
    """A module to do next, its score, the plain-words reasons and the numbers behind them."""

    module_id: str
    score: float
    reasons: list[str] = field(default_factory=list)
    basis: JsonObject = field(default_factory=dict)


def target_level(mastery: float | None) -> str:
    """The module level that fits a mastery score (foundational when nothing is known)."""
    if mastery is None or mastery < LOW_MASTERY:
        return LEVELS[0]
    return LEVELS[1] if mastery < HIGH_MASTERY else LEVELS[2]


def recommend(
    profile: Profile,
    mastery: Mapping[str, TopicMastery],
    due_reviews: Iterable[DueReview],
    practice_gaps: Iterable[PracticeGap],
    modules: Mapping[str, JsonObject],
    now: datetime,
    translate: Callable[[str], str] = identity,
    specialty_label: Callable[[str], str] = identity,
) -> list[Recommendation]:
    """Rank the library's modules for this learner; see the module docstring for the rules.

    translate is a gettext-like function for the reason templates; specialty_label names a
    specialty code in the reader's language (the basis keeps the code too).
    """
    due: dict[str, int] = {}
    for item in due_reviews:
        if item.due <= now and item.key.module_id in modules:
            due[item.key.module_id] = due.get(item.key.module_id, 0) + 1
    gaps: dict[str, list[PracticeGap]] = {}
    for gap in practice_gaps:
        for module_id in gap.module_ids:
            if module_id in modules:
                gaps.setdefault(module_id, []).append(gap)
    context = _Context(profile, mastery, overall(mastery), due, gaps, translate, specialty_label)
    results = [context.score(module_id, modules[module_id]) for module_id in sorted(modules)]
    ranked = [r for r in results if r is not None]
    return sorted(ranked, key=lambda r: (-r.score, r.module_id))


@dataclass
class _Context:
    """Everything one ranking needs, so each module is scored the same way."""

    profile: Profile
    mastery: Mapping[str, TopicMastery]
    overall: float | None
    due: dict[str, int]
    gaps: dict[str, list[PracticeGap]]
    translate: Callable[[str], str]
    specialty_label: Callable[[str], str] = identity

    def score(self, module_id: str, module: JsonObject) -> Recommendation | None:
        """Apply the rules to one module; None when no need rule applies."""
        builder = _Builder(self.translate)
        self._needs(builder, module_id, module)
        if not builder.reasons:
            return None
        self._modifiers(builder, module_id, module)
        basis = {**builder.basis, "rules": builder.rules}
        return Recommendation(module_id, builder.total, builder.reasons, basis)

    def _needs(self, builder: _Builder, module_id: str, module: JsonObject) -> None:
        """The need rules: practice gap, review due, self-reported gap, specialty."""
        module_gaps = self.gaps.get(module_id, [])
        if module_gaps:
            builder.add_gap(module_gaps, PRACTICE_GAP_WEIGHT)
        if self.due.get(module_id):
            count = self.due[module_id]
            builder.add("review_due", REVIEW_DUE_WEIGHT, {"count": count})
        if module_id in self.profile.gaps:
            builder.add("self_gap", SELF_GAP_WEIGHT, {})
        specialty = self.profile.specialty
        if specialty and specialty in module.get("specialties", ()):
            params = {
                "specialty": self.specialty_label(specialty),
                "specialty_code": specialty,
                "source": self.profile.specialty_source,
            }
            builder.add("specialty", SPECIALTY_WEIGHT, params)

    def _modifiers(self, builder: _Builder, module_id: str, module: JsonObject) -> None:
        """Difficulty matched to mastery, and the mastered-topic penalty."""
        topic = self.mastery.get(module_id)
        known = topic.score if topic and topic.answers else self.overall
        level = module.get("audience", {}).get("level")
        if level == target_level(known):
            if known is None:
                builder.add("level_start", DIFFICULTY_MATCH_WEIGHT, {"level": level})
            else:
                params = {"level": level, "percent": round(known * 100)}
                builder.add("level_match", DIFFICULTY_MATCH_WEIGHT, params)
        if topic and topic.mastered and not self.due.get(module_id):
            params = {"percent": round(topic.score * 100), "answers": topic.answers}
            builder.add("mastered", MASTERED_PENALTY, params)


class _Builder:
    """Accumulates weights, rendered reasons and the basis for one module."""

    def __init__(self, translate: Callable[[str], str]):
        self.translate = translate
        self.total = 0.0
        self.reasons: list[str] = []
        self.rules: list[JsonObject] = []
        self.basis: JsonObject = {}

    def add(self, code: str, weight: float, params: JsonObject) -> None:
        """Apply one rule: its weight, its sentence and its numbers."""
        self.total += weight
        words = {"level": self.translate(params["level"])} if "level" in params else {}
        self.reasons.append(self.translate(TEMPLATES[code]).format(**{**params, **words}))
        self.rules.append({"code": code, "weight": weight, "params": params})

    def add_gap(self, gaps: list[PracticeGap], weight: float) -> None:
        """Apply the practice-gap rule once, with a sentence per measure."""
        self.total += weight
        for gap in gaps:
            self.reasons.append(gap.sentence(self.translate))
            self.rules.append({"code": gap.code, "weight": weight, "params": gap.params})
            weight = 0.0  # counted once however many measures point at the module
        self.basis["practice"] = [gap.basis for gap in gaps]
