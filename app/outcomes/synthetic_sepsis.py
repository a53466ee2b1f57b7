"""Synthetic sepsis episodes for the SEP-1-like bundle: each element's outcome is drawn first.

Element truth follows from the plan alone: the initial lactate is met for the in-window variants,
the antibiotic for in-window and exactly-3-h, cultures for before and same-minute, and the
repeat lactate applies only when the met initial lactate is high. Without a time zero nothing
is met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.outcomes import synthetic_codes as codes
from app.outcomes.synthetic_base import AS_OF, EMERGENCY, PERIOD_START, Builder, behaviour_change
from app.outcomes.synthetic_fhir import PatientFile, condition, iso, procedure
from app.outcomes.synthetic_sepsis_data import (
    add_antibiotic,
    add_cultures,
    add_lactate,
    lactate_value,
)

SEPSIS_MEASURE = "sepsis-3h-bundle"
LAST_ARRIVAL = AS_OF - timedelta(days=2)
EPISODES_PER_CLINICIAN = 25
# probabilities of meeting: initial lactate, cultures before antibiotics, antibiotic, repeat
COMPLIANCE = {
    "C09": (0.90, 0.80, 0.80, 0.75),
    "C10": (0.70, 0.55, 0.50, 0.40),
    "C11": (0.85, 0.75, 0.70, 0.65),
    "C12": (0.80, 0.70, 0.75, 0.60),
}
COMPLIANCE_AFTER_MODULE = {"C10": (0.97, 0.92, 0.92, 0.90)}
TIMED_ANTIBIOTIC = ("in-window", "at-plus-3h", "late")


@dataclass(frozen=True)
class EpisodePlan:
    """What one sepsis episode will show, decided before any resource is written."""

    t0_source: str  # onset | before-arrival | recorded-only | untimed
    lactate: str  # in-window | at-minus-6h | at-plus-3h | late | absent | untimed
    high: bool
    antibiotic: str  # in-window | at-plus-3h | late | untimed | absent
    culture: str  # before | same-minute | after | absent | unverifiable
    repeat: str | None  # met | at-plus-6h | absent | late; None when it does not apply
    exclusion: str  # none | transfer | comfort

    def elements(self) -> dict[str, bool | None]:
        """The expected element results of this plan."""
        if self.t0_source == "untimed":
            return {
                "initial_lactate": False,
                "blood_cultures": False,
                "antibiotic": False,
                "repeat_lactate": None,
            }
        return {
            "initial_lactate": self.lactate in ("in-window", "at-minus-6h", "at-plus-3h"),
            "blood_cultures": self.culture in ("before", "same-minute"),
            "antibiotic": self.antibiotic in ("in-window", "at-plus-3h"),
            "repeat_lactate": None if self.repeat is None else self.repeat in ("met", "at-plus-6h"),
        }


def generate(builder: Builder) -> None:
    """Add every ED clinician's sepsis episodes (a few patients have a second one)."""
    for clinician in EMERGENCY:
        for _ in range(EPISODES_PER_CLINICIAN):
            arrival = builder.moment(PERIOD_START + timedelta(days=2), LAST_ARRIVAL, False)
            record = builder.new_patient(
                builder.birth_for_age(builder.rng.uniform(25, 92), arrival)
            )
            write_episode(
                builder, record, clinician, arrival, plan_episode(builder, clinician, arrival)
            )
            later = arrival + timedelta(days=30)
            if builder.rng.random() < 0.1 and later < LAST_ARRIVAL:
                other = builder.rng.choice(EMERGENCY)
                second = builder.moment(later, LAST_ARRIVAL, False)
                write_episode(builder, record, other, second, plan_episode(builder, other, second))


def compliance(clinician: str, arrival: datetime) -> tuple[float, ...]:
    """A clinician's element probabilities in force at a time."""
    changed = behaviour_change(clinician, "sepsis-hour-1-bundle")
    if changed is not None and arrival.date() >= changed:
        return COMPLIANCE_AFTER_MODULE[clinician]
    return COMPLIANCE[clinician]


def pick(builder: Builder, weights: dict[str, int]) -> str:
    """Draw one key by weight."""
    return builder.rng.choices(list(weights), weights=list(weights.values()))[0]


def plan_episode(builder: Builder, clinician: str, arrival: datetime) -> EpisodePlan:
    """Draw every element's outcome and how it appears."""
    rng = builder.rng
    p_lactate, p_culture, p_antibiotic, p_repeat = compliance(clinician, arrival)
    if rng.random() < p_lactate:
        lactate = pick(builder, {"in-window": 90, "at-minus-6h": 5, "at-plus-3h": 5})
    else:
        lactate = pick(builder, {"late": 40, "absent": 45, "untimed": 15})
    high = rng.random() < 0.55
    if rng.random() < p_antibiotic:
        antibiotic = pick(builder, {"in-window": 92, "at-plus-3h": 8})
    else:
        antibiotic = pick(builder, {"late": 70, "absent": 15, "untimed": 15})
    if antibiotic == "untimed":
        culture = "unverifiable"
    elif rng.random() < p_culture:
        same_minute_possible = antibiotic in ("in-window", "at-plus-3h")
        culture = "same-minute" if same_minute_possible and rng.random() < 0.07 else "before"
    else:
        culture = "after" if antibiotic in TIMED_ANTIBIOTIC and rng.random() < 0.6 else "absent"
    repeat = None
    if lactate in ("in-window", "at-minus-6h", "at-plus-3h") and high:
        met = rng.random() < p_repeat
        repeat = pick(builder, {"met": 92, "at-plus-6h": 8} if met else {"absent": 60, "late": 40})
    exclusion = pick(builder, {"none": 92, "transfer": 4, "comfort": 4})
    t0_source = pick(
        builder, {"onset": 70, "before-arrival": 15, "recorded-only": 11, "untimed": 4}
    )
    return EpisodePlan(t0_source, lactate, high, antibiotic, culture, repeat, exclusion)


def write_episode(
    builder: Builder, record: PatientFile, clinician: str, arrival: datetime, plan: EpisodePlan
) -> None:
    """Write one episode's encounter and evidence; record its expected case."""
    rng = builder.rng
    kind = "IMP" if rng.random() < 0.15 else "EMER"
    minutes = rng.randint(360, 600) if kind == "EMER" else rng.randint(2 * 1440, 6 * 1440)
    options = {"admit_source": "hosp-trans"} if plan.exclusion == "transfer" else {}
    encounter_id = builder.visit(record, clinician, kind, arrival, minutes, **options)
    t0 = add_sepsis_diagnosis(builder, record, encounter_id, arrival, plan.t0_source)
    anchor = t0 or arrival + timedelta(hours=1)
    initial = add_lactate(builder, record, encounter_id, anchor, plan.lactate, plan.high)
    antibiotic_time = add_antibiotic(
        builder, record, clinician, encounter_id, anchor, plan.antibiotic
    )
    add_cultures(builder, record, encounter_id, anchor, plan.culture, antibiotic_time)
    if plan.repeat is not None and initial is not None:
        add_repeat(builder, record, encounter_id, anchor, initial, plan.repeat)
    if plan.exclusion == "comfort":
        given = (t0 or arrival) + timedelta(minutes=rng.randint(30, 360))
        record.add(
            procedure(
                builder.next_id("proc"), record.patient_id, codes.TERMINAL_CARE, given, encounter_id
            )
        )
    elements = plan.elements()
    builder.expect(
        SEPSIS_MEASURE,
        record,
        encounter_id,
        clinician=clinician,
        period_start=t0 or arrival,
        in_denominator=True,
        excluded=plan.exclusion != "none",
        in_numerator=all(value is not False for value in elements.values()),
        elements=elements,
        label=f"{plan.t0_source}/{plan.lactate}/{plan.antibiotic}/{plan.culture}/{plan.repeat}",
    )


def add_sepsis_diagnosis(
    builder: Builder, record: PatientFile, encounter_id: str, arrival: datetime, source: str
) -> datetime | None:
    """Write the sepsis Condition so that its times give the planned time zero; return T0."""
    rng = builder.rng
    onset: datetime | str | None
    if source == "onset":
        onset = arrival + timedelta(minutes=rng.randint(0, 240))
        recorded, t0 = onset + timedelta(minutes=rng.randint(10, 90)), onset
    elif source == "before-arrival":
        onset = arrival - timedelta(minutes=rng.randint(120, 720))
        recorded, t0 = arrival + timedelta(minutes=rng.randint(15, 120)), arrival
    elif source == "recorded-only":
        onset, recorded = None, arrival + timedelta(minutes=rng.randint(20, 180))
        t0 = recorded
    else:
        onset, recorded, t0 = arrival.date().isoformat(), None, None
    record.add(
        condition(
            builder.next_id("cond"),
            record.patient_id,
            rng.choice(codes.SEPSIS),
            onset=iso(onset) if isinstance(onset, datetime) else onset,
            recorded=iso(recorded) if recorded else None,
            encounter_id=encounter_id,
        )
    )
    return t0


def add_repeat(
    builder: Builder,
    record: PatientFile,
    encounter_id: str,
    t0: datetime,
    initial: datetime,
    variant: str,
) -> None:
    """The repeat lactate: in (initial, T0 + 6 h], exactly T0 + 6 h, late, or absent."""
    deadline = t0 + timedelta(hours=6)
    if variant == "met":
        drawn = builder.moment(initial + timedelta(minutes=30), deadline, clinic_hours=False)
    elif variant == "at-plus-6h":
        drawn = deadline
    elif variant == "late":
        drawn = deadline + timedelta(minutes=builder.rng.randint(1, 120))
    else:
        return
    value = lactate_value(builder, high=builder.rng.random() < 0.4)
    add_lactate(builder, record, encounter_id, t0, "exact", False, drawn=drawn, value=value)
