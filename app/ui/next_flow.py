"""What to learn next: the learner's practice-data gaps, reviews due, profile and mastery, ranked.

Practice data: outside demo mode, the cases (no patient identifiers) that
`bedside outcomes compute --save` stored, when the signed-in fhirUser is one of their
clinicians; otherwise the page says there are none rather than inventing gaps. In demo mode the
signed-in fixture practitioner has no practice data of their own, so one explicit, labelled rule
applies: they see the synthetic clinician named by the DEMO_PRACTICE_CLINICIAN setting (default
C03), compared with the other synthetic clinicians.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import gettext, ngettext

from app import stats
from app.learning.practice import SHORT_LABELS, PracticeGap, practice_gaps_from
from app.learning.recommend import Recommendation, recommend
from app.outcomes import case_rates
from app.outcomes.completions import is_practice_clinician, practice_issuer
from app.outcomes.practice_data import PracticeDataset, month_range, practice_source, short_id
from app.smart import current_smart_session
from app.ui import labels, reason_texts
from app.ui.learner_profile import LearnerView
from app.ui.page_context import runtime


@dataclass(frozen=True)
class PracticeData:
    """The practice gaps behind the ranking, and whose data they come from."""

    gaps: list[PracticeGap] = field(default_factory=list)
    demo_clinician: str | None = None  # the synthetic clinician's short id, in demo mode only
    period: str = ""
    stored: bool = False  # the learner's own stored practice data was used

    @property
    def available(self) -> bool:
        """Tell whether any practice data was used."""
        return self.demo_clinician is not None or self.stored


def practice_data() -> PracticeData:
    """Synthetic data: the played clinician's gaps; otherwise the signed-in learner's own."""
    source = practice_source()
    data = source.dataset()
    if data is None:
        return PracticeData()
    if source.played_clinician is None:
        return own_practice_data(data)
    played = source.played_clinician
    if played not in data.clinicians():
        return PracticeData()
    period = period_words(data)
    return PracticeData(clinician_gaps(data, played, period), short_id(played), period)


def own_practice_data(data: PracticeDataset) -> PracticeData:
    """The signed-in clinician's gaps in the stored practice data, if they are in it."""
    session = current_smart_session()
    if session is None or not session.fhir_user:
        return PracticeData()
    practice = practice_issuer()
    mine = [
        clinician
        for clinician in data.clinicians()
        if is_practice_clinician(session.issuer, session.fhir_user, clinician, practice)
    ]
    if not mine:
        return PracticeData()
    period = period_words(data)
    return PracticeData(clinician_gaps(data, mine[0], period), period=period, stored=True)


def clinician_gaps(data: PracticeDataset, clinician: str, period: str) -> list[PracticeGap]:
    """Gaps of one clinician against every other attributed clinician, over the whole period."""
    mine: dict[str, stats.Rate] = {}
    peers: dict[str, list[stats.Rate]] = {}
    for measure_id, cases in data.cases.items():
        rates = case_rates.by_clinician(cases)
        if clinician in rates:
            mine[measure_id] = rates[clinician]
        peers[measure_id] = [
            rate for who, rate in rates.items() if who not in {clinician, case_rates.UNATTRIBUTED}
        ]
    measures = {measure_id: m.document for measure_id, m in data.measures.items()}
    return practice_gaps_from(mine, peers, measures, period)


def period_words(data: PracticeDataset) -> str:
    """The data period in words, e.g. "in the last 12 months"."""
    months = len(month_range(data.start, data.end))
    return ngettext("in the last %(num)d month", "in the last %(num)d months", months)


@dataclass(frozen=True)
class RankRule:
    """One rule behind a rank, for clinicians: its name, its points and its sentence."""

    name: str
    points: float
    sentence: str


@dataclass(frozen=True)
class RankedModule:
    """A recommendation as the page shows it: reasons in sentences, the rank explained."""

    module_id: str
    score: float
    reasons: list[str]
    rules: list[RankRule]
    practice: list[dict]


def recommendations(view: LearnerView, practice: PracticeData) -> list[RankedModule]:
    """The ranked list for this learner, reasons and rank explained in the UI language."""
    return [explained(item) for item in ranked(view, practice)]


def explained(item: Recommendation) -> RankedModule:
    """Turn a recommendation's rule ids and numbers into clinician sentences (plurals included)."""
    rules = item.basis.get("rules", [])
    reasons = [sentence(rule, reason) for rule, reason in zip(rules, item.reasons, strict=True)]
    rows = [
        RankRule(reason_texts.rule_name(rule["code"]), rule["weight"], reason)
        for rule, reason in zip(rules, reasons, strict=True)
    ]
    practice = [
        {**gap, "measure": measure_name(gap["measure_id"])}
        for gap in item.basis.get("practice") or []
    ]
    return RankedModule(item.module_id, item.score, reasons, rows, practice)


def sentence(rule: dict, reason: str) -> str:
    """A rule's sentence: the learning code's, except where a count needs a real plural."""
    if rule["code"] == "review_due":
        return reason_texts.review_due_sentence(int(rule["params"]["count"]))
    return reason


def measure_name(measure_id: str) -> str:
    """A practice measure's short clinical name in the UI language (its id only if unknown)."""
    label = SHORT_LABELS.get(measure_id)
    return gettext(label) if label else measure_id.replace("-", " ")


def ranked(view: LearnerView, practice: PracticeData) -> list[Recommendation]:
    """The ranked list for this learner from the learning code, reasons in the UI language."""
    return recommend(
        view.profile,
        view.mastery,
        view.due,
        practice.gaps,
        runtime().library.modules,
        datetime.now(UTC),
        translate=gettext,
        specialty_label=labels.specialty,
    )
