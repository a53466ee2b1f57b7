"""Deliberate sepsis edge cases: age, open window at the data end, class, comfort-care boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.outcomes import synthetic_codes as codes
from app.outcomes.synthetic_base import Builder
from app.outcomes.synthetic_fhir import condition, iso, procedure
from app.outcomes.synthetic_sepsis import SEPSIS_MEASURE
from app.outcomes.synthetic_sepsis_data import add_antibiotic, add_cultures, add_lactate

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
