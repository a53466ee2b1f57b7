"""Synthetic sepsis episodes for the SEP-1-like bundle: each element's outcome is drawn first.

Element truth follows from the plan alone: the initial lactate is met for the in-window variants,
the antibiotic for in-window and exactly-3-h, cultures for before and same-minute, and the
repeat lactate applies only when the met initial lactate is high. Without a time zero nothing
is met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.devtools.synthetic import codes
from app.devtools.synthetic.base import AS_OF, EMERGENCY, PERIOD_START, Builder, behaviour_change
from app.devtools.synthetic.fhir import (
    PatientFile,
    condition,
    iso,
    medication_administration,
    medication_request,
    observation,
    procedure,
    ref,
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


INITIAL_MET = ("in-window", "at-minus-6h", "at-plus-3h")


def minutes(value: int) -> timedelta:
    """A timedelta of whole minutes."""
    return timedelta(minutes=value)


def lactate_value(builder: Builder, high: bool) -> tuple[float, str]:
    """A lactate result: > 2 mmol/L when high (2.1, 27 mg/dL edges), else <= 2 (2.0, 16 mg/dL)."""
    rng = builder.rng
    roll = rng.random()
    if high:
        if roll < 0.05:
            return 2.1, "mmol/L"
        if roll < 0.10:
            return 27, "mg/dL"  # 27 x 0.111 = 3.0 mmol/L
        return round(rng.uniform(2.1, 6.5), 1), "mmol/L"
    if roll < 0.05:
        return 2.0, "mmol/L"
    if roll < 0.10:
        return 16, "mg/dL"  # 16 x 0.111 = 1.8 mmol/L
    return round(rng.uniform(0.7, 2.0), 1), "mmol/L"


def add_lactate(
    builder: Builder,
    record: PatientFile,
    encounter_id: str,
    t0: datetime,
    variant: str,
    high: bool,
    *,
    drawn: datetime | None = None,
    value: tuple[float, str] | None = None,
) -> datetime | None:
    """Write a lactate placed by variant; return its time when it is a timed initial lactate."""
    offsets = {
        "in-window": builder.rng.randint(-30, 150),
        "at-minus-6h": -360,
        "at-plus-3h": 180,
        "late": 180 + builder.rng.randint(1, 180),
    }
    if variant == "absent":
        return None
    if variant in offsets:
        drawn = t0 + minutes(offsets[variant])
    value = value or lactate_value(builder, high)
    code = builder.rng.choice((codes.LACTATE_PLASMA, codes.LACTATE_BLOOD))
    record.add(
        observation(
            builder.next_id("obs"),
            record.patient_id,
            code,
            effective=drawn if variant != "untimed" else None,
            issued=t0 + minutes(60) if variant == "untimed" else None,
            quantity=value,
            encounter_id=None if variant == "at-minus-6h" else encounter_id,
        )
    )
    return drawn if variant in (*INITIAL_MET, "exact") else None


def add_antibiotic(
    builder: Builder,
    record: PatientFile,
    clinician: str,
    encounter_id: str,
    t0: datetime,
    variant: str,
) -> datetime | None:
    """Write the IV antibiotic order (sometimes given 10 min later); return the course's time.

    The variant places the course's time: the administration when there is one (the order is
    then authored 10 minutes earlier and the administration references it), else the order.
    """
    rng = builder.rng
    offsets = {
        "in-window": rng.randint(-30, 175),
        "at-plus-3h": 180,
        "late": 180 + rng.randint(1, 300),
    }
    if variant == "absent":
        return None
    start = t0 + minutes(offsets[variant]) if variant in offsets else None
    medicine = rng.choice(codes.IV_ANTIBIOTICS)
    given = start is not None and rng.random() < 0.3
    order_id = builder.next_id("medrx")
    record.add(
        medication_request(
            order_id,
            record.patient_id,
            medicine,
            authored=start - minutes(10) if given else start,
            requester=clinician,
            encounter_id=encounter_id,
            dosage="IV now, then as directed.",
        )
    )
    if given:
        administration = medication_administration(
            builder.next_id("medadm"), record.patient_id, medicine, start, encounter_id
        )
        record.add(administration | {"request": ref("MedicationRequest", order_id)})
    return start


def add_cultures(
    builder: Builder,
    record: PatientFile,
    encounter_id: str,
    t0: datetime,
    variant: str,
    antibiotic_time: datetime | None,
) -> None:
    """Write two blood-culture sets placed by variant relative to the first antibiotic."""
    rng = builder.rng
    in_window_antibiotic = antibiotic_time is not None and antibiotic_time <= t0 + minutes(180)
    if variant == "absent":
        return
    if variant == "before" and in_window_antibiotic:
        drawn = antibiotic_time - minutes(rng.randint(1, 40))
    elif variant == "before":
        drawn = t0 + minutes(rng.randint(-30, 150))
    elif variant == "same-minute":
        drawn = antibiotic_time
    elif variant == "after":
        drawn = antibiotic_time + minutes(rng.randint(1, 60))
    else:  # unverifiable: drawn in the window, but the antibiotic has no time
        drawn = t0 + minutes(rng.randint(0, 120))
    for offset in (0, 3):
        record.add(
            observation(
                builder.next_id("obs"),
                record.patient_id,
                codes.BLOOD_CULTURE,
                effective=drawn + minutes(offset),
                text_value="No growth to date",
                encounter_id=encounter_id,
                status="preliminary",
            )
        )


ALL_MET = {
    "initial_lactate": True,
    "blood_cultures": True,
    "antibiotic": True,
    "repeat_lactate": None,
}


def add_edge_cases(builder: Builder) -> None:
    """Each case is a new patient whose whole bundle is met unless said otherwise."""
    bundle_met(builder, "C09", at("2026-03-03T02:00"), "adolescent-17", birth=date(2008, 9, 1))
    bundle_met(builder, "C12", at("2026-10-31T20:00"), "window-open-at-data-end")
    bundle_met(builder, "C11", at("2026-04-14T13:00"), "ambulatory-class", kind="AMB")
    bundle_met(builder, "C09", at("2026-05-19T08:00"), "comfort-care-at-6h", comfort=360)
    bundle_met(builder, "C09", at("2026-05-26T08:00"), "comfort-care-at-6h-plus-1min", comfort=361)


def at(text: str) -> datetime:
    """A UTC time from 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def bundle_met(
    builder: Builder,
    clinician: str,
    t0: datetime,
    label: str,
    *,
    birth: date = date(1950, 3, 1),
    kind: str = "EMER",
    comfort: int | None = None,
) -> None:
    """An episode with T0 at arrival, low lactate, cultures, then an antibiotic within 1 h."""
    record = builder.new_patient(birth)
    encounter_id = builder.visit(record, clinician, kind, t0, 480)
    record.add(
        condition(
            builder.next_id("cond"),
            record.patient_id,
            codes.SEPSIS[0],
            onset=iso(t0),
            recorded=iso(t0 + timedelta(minutes=20)),
            encounter_id=encounter_id,
        )
    )
    drawn = t0 + timedelta(minutes=15)
    add_lactate(
        builder, record, encounter_id, t0, "exact", False, drawn=drawn, value=(1.4, "mmol/L")
    )
    antibiotic_time = add_antibiotic(builder, record, clinician, encounter_id, t0, "in-window")
    add_cultures(builder, record, encounter_id, t0, "before", antibiotic_time)
    if comfort is not None:
        given = t0 + timedelta(minutes=comfort)
        record.add(
            procedure(builder.next_id("proc"), record.patient_id, codes.TERMINAL_CARE, given)
        )
    qualifies = kind == "EMER" and label not in ("adolescent-17", "window-open-at-data-end")
    builder.expect(
        SEPSIS_MEASURE,
        record,
        encounter_id,
        clinician=clinician,
        period_start=t0,
        in_denominator=qualifies,
        excluded=comfort is not None and comfort <= 360,
        in_numerator=True,
        elements=ALL_MET if qualifies else {},
        label=label,
    )
