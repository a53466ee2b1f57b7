"""Credit rules as pure functions over plain data: no SQL, no Flask, no clock.

Decisions (documented because accreditors will ask):
- Quantities are `Decimal`; the store keeps them as integer hundredths (exact sums in SQL).
- A learner earns credit for an activity once per credit type: a case once per module *version*;
  a point-of-care cycle once per completed cycle (its own question, sources and application: one
  attempt), so each new cycle earns again, within the annual cap (the market convention; the
  activity key still names the module consulted). A cycle whose clinical question is one a credited
  cycle of the learner already asked (same words, ignoring case, accents and punctuation) earns
  nothing: credit is for each distinct question. Records made when a cycle earned once per module
  stay as they are. A reversed record no longer counts, so the activity may be credited again.
- The annual cap is per credit type and per UTC calendar year of the `earned_at` time, across all
  Bedside activities. Credit that would pass the cap is granted *partially*, up to the cap, in
  0.25 increments (AMA PRA credit is claimed in quarter credits); nothing is granted once it is met.
- The point-of-care window runs from the cycle's start; every step must be recorded by
  `started_at + window` (the deadline itself is in time). After it an incomplete cycle expires.
- A journal club earns a member its configured credit (`journal_club_credit`) once per club,
  when the member posted at least one reflection inside the club's discussion window (opens
  inclusive, closes inclusive); the activity type is `journal-club`, keyed `journal-club:<club>`.
  The facilitator earns no credit for their own club. In production a club earns credit only on
  an approved module version; a club on a free-text guideline citation earns none.
- In production (`approved_modules_only`) a case earns credit only when its module version is
  `approved` by a named clinician reviewer (its editorial record), and a point-of-care cycle only
  when the module it consulted is; a draft, in-review or retired version can still be learned
  from, but its credit is refused ("module-not-approved"). Demo mode credits drafts, which it
  labels as such.
- A walk through a module's branching scenario earns the module's case credit by the same rules;
  in production only once a named clinician reviewer also reviewed the scenario
  (`scenario.review.status: reviewed`): a draft scenario of an approved version, e.g. one drafted
  by software, can still be walked, but its credit is refused ("scenario-not-reviewed").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from app.library import editorial

CREDIT_TYPES = (
    "ama-pra-category-1",
    "aafp-prescribed",
    "ancc-contact-hours",
    "acpe-contact-hours",
    "aapa-category-1",
)
CREDIT_INCREMENT = Decimal("0.25")
POC_STEPS = ("question", "sources", "application")
ACTIVITY_TYPES = ("case", "poc", "journal-club")
SCENARIO_REVIEWED = "reviewed"  # a scenario's review.status once a clinician reviewed it


@dataclass(frozen=True)
class CreditAward:
    """Credit of one type granted for one activity (`designated` is the amount before the cap)."""

    credit_type: str
    amount: Decimal
    designated: Decimal


@dataclass(frozen=True)
class Refusal:
    """Why no credit was granted: a stable code and a sentence for the learner."""

    reason: str
    message: str


@dataclass(frozen=True)
class HeldCredit:
    """A credit the learner already holds (an unreversed credit record)."""

    activity_key: str
    credit_type: str
    amount: Decimal
    earned_at: datetime
    attempt_id: str | None = None


@dataclass(frozen=True)
class CreditPolicy:
    """The provider's credit configuration."""

    poc_credit: tuple[tuple[str, Decimal], ...] = (("ama-pra-category-1", Decimal("0.50")),)
    poc_application_window: timedelta = timedelta(hours=72)
    annual_cap: Mapping[str, Decimal] = field(
        default_factory=lambda: {"ama-pra-category-1": Decimal(20)}
    )
    awarded_types: frozenset[str] = frozenset(CREDIT_TYPES)
    approved_modules_only: bool = False  # production sets it: drafts earn no credit
    journal_club_credit: tuple[tuple[str, Decimal], ...] = (
        ("ama-pra-category-1", Decimal("1.00")),
    )

    def cap_for(self, credit_type: str) -> Decimal | None:
        """Return the yearly cap of a credit type, or None when it is uncapped."""
        return self.annual_cap.get(credit_type)


@dataclass(frozen=True)
class PocCycle:
    """A point-of-care learning cycle: when it started and when each step was recorded."""

    activity_key: str
    started_at: datetime
    attempt_id: str | None = None
    question_at: datetime | None = None
    sources_at: datetime | None = None
    application_at: datetime | None = None
    source_approved: bool = False  # the module consulted is approved (asked in production only)

    def step_times(self) -> dict[str, datetime | None]:
        """Return each step's recording time (None when not recorded yet)."""
        return {
            "question": self.question_at,
            "sources": self.sources_at,
            "application": self.application_at,
        }


def activity_key(activity_type: str, module_id: str, module_version: str) -> str:
    """Name an activity: its type, module and module version, e.g. `case:sepsis@1.0.0`."""
    if activity_type not in ACTIVITY_TYPES:
        raise ValueError(
            f"Activity type is one of {', '.join(ACTIVITY_TYPES)}, not {activity_type!r}."
        )
    return f"{activity_type}:{module_id}@{module_version}"


def passed(correct: int, total: int, pass_mark_percent: int) -> bool:
    """Tell whether correct/total reaches the pass mark, exactly (no floating point)."""
    return total > 0 and 100 * correct >= pass_mark_percent * total


def case_credit(
    module: Mapping[str, Any],
    correct: int,
    total: int,
    held: Sequence[HeldCredit],
    policy: CreditPolicy,
    when: datetime,
) -> list[CreditAward] | Refusal:
    """Grant a case's designated credit once it is passed at its stated pass mark."""
    if policy.approved_modules_only and not editorial.is_approved(module):
        return unapproved_module(module)
    pass_mark = int(module["pass_mark_percent"])
    if not passed(correct, total, pass_mark):
        return Refusal(
            "below-pass-mark",
            f"{correct} of {total} correct is below the pass mark of {pass_mark}%.",
        )
    designated = [(entry["type"], as_amount(entry["amount"])) for entry in module.get("credit", [])]
    key = activity_key("case", module["id"], str(module["version"]))
    return grant(key, designated, held, policy, when)


def scenario_credit(
    module: Mapping[str, Any],
    correct: int,
    total: int,
    held: Sequence[HeldCredit],
    policy: CreditPolicy,
    when: datetime,
) -> list[CreditAward] | Refusal:
    """Grant a walk its module's case credit (in production, once the scenario is reviewed)."""
    refusal = scenario_refusal(module, policy)
    if refusal is not None:
        return refusal
    return case_credit(module, correct, total, held, policy, when)


def scenario_refusal(module: Mapping[str, Any], policy: CreditPolicy) -> Refusal | None:
    """Why no walk of the module's scenario can earn credit under this policy (None: it can)."""
    if policy.approved_modules_only and not editorial.is_approved(module):
        return unapproved_module(module)
    if policy.approved_modules_only and not scenario_reviewed(module):
        return Refusal(
            "scenario-not-reviewed",
            f"The scenario of {module['id']} {module['version']} is not reviewed by a named "
            "clinician reviewer, so a walk through it earns no credit here; the module's case "
            "does, and you can still learn from the scenario.",
        )
    return None


def scenario_reviewed(module: Mapping[str, Any]) -> bool:
    """Tell whether a named clinician reviewer reviewed the module's scenario."""
    scenario = module.get("scenario")
    review = scenario.get("review") if isinstance(scenario, Mapping) else None
    return isinstance(review, Mapping) and review.get("status") == SCENARIO_REVIEWED


@dataclass(frozen=True)
class ClubParticipation:
    """A member's part in a journal club: its window and when their reflections were posted."""

    club_id: str
    opens_at: datetime
    closes_at: datetime
    reflections_at: tuple[datetime, ...] = ()
    topic_module: Mapping[str, Any] | None = None  # the module version; None for a guideline
    facilitating: bool = False  # the member is the club's own facilitator


def journal_club_key(club_id: str) -> str:
    """Name a journal club as an activity, e.g. `journal-club:3f2a…`."""
    return f"journal-club:{club_id}"


def journal_club_credit(
    participation: ClubParticipation, held: Sequence[HeldCredit], policy: CreditPolicy
) -> list[CreditAward] | Refusal:
    """Grant the club credit once a reflection was posted inside the club's window."""
    if participation.facilitating:
        return Refusal("own-club", "A facilitator earns no credit for their own journal club.")
    module = participation.topic_module
    if policy.approved_modules_only and module is None:
        return Refusal(
            "topic-not-approved",
            "The club is not on a module version approved by a named clinician reviewer, so it "
            "earns no credit here.",
        )
    if policy.approved_modules_only and module is not None and not editorial.is_approved(module):
        return unapproved_module(module)
    in_window = [
        at
        for at in participation.reflections_at
        if participation.opens_at <= at <= participation.closes_at
    ]
    if not in_window:
        return Refusal(
            "no-reflection-in-window",
            "No reflection was posted while the club's discussion window was open.",
        )
    key = journal_club_key(participation.club_id)
    return grant(key, list(policy.journal_club_credit), held, policy, min(in_window))


def unapproved_module(module: Mapping[str, Any]) -> Refusal:
    """Why a module version that no named reviewer approved earns no credit here."""
    return Refusal(
        "module-not-approved",
        f"{module['id']} {module['version']} is {editorial.status(module)}, not approved by a "
        "named clinician reviewer, so it earns no credit here; you can still learn from it.",
    )


def poc_cycle_credit(
    cycle: PocCycle,
    held: Sequence[HeldCredit],
    policy: CreditPolicy,
    now: datetime,
    same_question: frozenset[str] = frozenset(),
) -> list[CreditAward] | Refusal:
    """Grant point-of-care credit once question, sources and application are recorded in time.

    `same_question`: the attempt ids of the learner's other cycles that asked this question.
    """
    deadline = cycle.started_at + policy.poc_application_window
    steps = cycle.step_times()
    missing = [name for name, at in steps.items() if at is None]
    if missing and now > deadline:
        return Refusal("cycle-expired", f"The cycle expired at {deadline.isoformat()}.")
    if missing:
        return Refusal("cycle-incomplete", f"Still to record: {', '.join(missing)}.")
    if any(at is not None and at > deadline for at in steps.values()):
        return Refusal("cycle-expired", f"A step was recorded after {deadline.isoformat()}.")
    if any(credit.attempt_id in same_question for credit in held):
        return same_question_refusal()
    if policy.approved_modules_only and not cycle.source_approved:
        return Refusal(
            "module-not-approved",
            "The module this cycle consulted is not approved by a named clinician reviewer, so "
            "the cycle earns no credit here; you can still learn from it.",
        )
    this_cycle = [c for c in held if cycle.attempt_id and c.attempt_id == cycle.attempt_id]
    return grant(
        cycle.activity_key,
        list(policy.poc_credit),
        held,
        policy,
        cycle_completed_at(cycle),
        already=this_cycle,
    )


def poc_credit_outlook(
    held: Sequence[HeldCredit], policy: CreditPolicy, when: datetime
) -> list[CreditAward] | Refusal:
    """What a new cycle completed now would earn under the annual cap (said before it starts)."""
    awardable = awarded_by_provider(policy.poc_credit, policy)
    if isinstance(awardable, Refusal):
        return awardable
    return within_annual_cap(awardable, held, policy, when)


def same_question_refusal() -> Refusal:
    """The refusal of a cycle that repeats a question the learner already earned credit for."""
    return Refusal(
        "same-question", "Credit for this clinical question was already earned in another cycle."
    )


def question_fingerprint(question: str) -> str:
    """A question's words without case, accents, punctuation or spacing, to spot a repeat."""
    decomposed = unicodedata.normalize("NFKD", question.casefold())
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.split())


def cycle_expired(cycle: PocCycle, policy: CreditPolicy, now: datetime) -> bool:
    """Tell whether an incomplete cycle is past its window (a complete one never expires)."""
    incomplete = any(at is None for at in cycle.step_times().values())
    return incomplete and now > cycle.started_at + policy.poc_application_window


def cycle_completed_at(cycle: PocCycle) -> datetime:
    """Return when the last step of a complete cycle was recorded."""
    return max(at for at in cycle.step_times().values() if at is not None)


def grant(
    key: str,
    designated: Sequence[tuple[str, Decimal]],
    held: Sequence[HeldCredit],
    policy: CreditPolicy,
    when: datetime,
    *,
    already: Sequence[HeldCredit] | None = None,
) -> list[CreditAward] | Refusal:
    """Grant the designated credit not yet held for this activity, within the annual cap.

    `already`: the credits that make this a repeat (default: any for the same activity key).
    """
    awardable = awarded_by_provider(designated, policy)
    if isinstance(awardable, Refusal):
        return awardable
    if already is None:
        already = [credit for credit in held if credit.activity_key == key]
    held_types = {credit.credit_type for credit in already}
    new = [(kind, amount) for kind, amount in awardable if kind not in held_types]
    if not new:
        return Refusal("duplicate", "Credit for this activity was already recorded.")
    return within_annual_cap(new, held, policy, when)


def awarded_by_provider(
    designated: Sequence[tuple[str, Decimal]], policy: CreditPolicy
) -> list[tuple[str, Decimal]] | Refusal:
    """The designated credit types this provider awards; a refusal when there are none."""
    awardable = [(kind, amount) for kind, amount in designated if kind in policy.awarded_types]
    if not awardable:
        return Refusal("no-credit", "This activity carries no credit this provider awards.")
    return awardable


def within_annual_cap(
    awardable: list[tuple[str, Decimal]],
    held: Sequence[HeldCredit],
    policy: CreditPolicy,
    when: datetime,
) -> list[CreditAward] | Refusal:
    """The awards the annual cap leaves room for; a refusal when it leaves none."""
    awards = apply_annual_cap(awardable, held, policy, when)
    if not awards:
        return Refusal("annual-cap-reached", f"The annual credit cap for {when.year} is reached.")
    return awards


def apply_annual_cap(
    designated: Sequence[tuple[str, Decimal]],
    held: Sequence[HeldCredit],
    policy: CreditPolicy,
    when: datetime,
) -> list[CreditAward]:
    """Cut each award to what is left under its type's cap this year; drop what is capped out."""
    year = when.astimezone(UTC).year
    used: dict[str, Decimal] = {}
    for credit in held:
        if credit.earned_at.astimezone(UTC).year == year:
            used[credit.credit_type] = used.get(credit.credit_type, Decimal(0)) + credit.amount
    awards = []
    for kind, amount in designated:
        cap = policy.cap_for(kind)
        granted = amount if cap is None else min(amount, floor_increment(cap - used.get(kind, 0)))
        if granted > 0:
            awards.append(CreditAward(kind, granted, amount))
            used[kind] = used.get(kind, Decimal(0)) + granted
    return awards


def floor_increment(amount: Decimal) -> Decimal:
    """Round down to a whole number of credit increments (0.25)."""
    steps = (amount / CREDIT_INCREMENT).to_integral_value(rounding=ROUND_FLOOR)
    return max(steps, Decimal(0)) * CREDIT_INCREMENT


def as_amount(value: object) -> Decimal:
    """Turn a configured or YAML amount (0.25, "0.5") into an exact Decimal."""
    amount = Decimal(str(value))
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"A credit amount must be a positive number, not {value!r}.")
    return amount
