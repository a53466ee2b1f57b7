"""Lactates, blood cultures and antibiotics of synthetic sepsis episodes, placed by variant."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.outcomes import synthetic_codes as codes
from app.outcomes.synthetic_base import Builder
from app.outcomes.synthetic_fhir import (
    PatientFile,
    medication_administration,
    medication_request,
    observation,
    ref,
)

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
