"""Deliberate edge cases for the antibiotic-avoidance measures, each with its known answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.outcomes import synthetic_codes as codes
from app.outcomes.synthetic_base import TRAINEE, Builder
from app.outcomes.synthetic_fhir import PatientFile, condition, iso, service_request
from app.outcomes.synthetic_respiratory import (
    URI_MEASURE,
    add_antibiotic,
    add_competing,
)

AMOXICILLIN = codes.ORAL_ANTIBIOTICS[0]


def at(text: str) -> datetime:
    """A UTC time from 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_edge_cases(builder: Builder) -> None:
    """Window boundaries, exclusions each way, missing times, revisits and attribution."""
    antibiotic_boundaries(builder)
    exclusion_boundaries(builder)
    missing_times(builder)
    revisits(builder)
    attribution_and_linking(builder)
    not_in_denominator(builder)


def uri_visit(
    builder: Builder,
    clinician: str,
    start: datetime | None,
    label: str,
    *,
    record: PatientFile | None = None,
    expect: dict | None = None,
    link: str = "encounter",
    birth: date | None = date(1984, 6, 1),
    **options,
) -> tuple[PatientFile, str]:
    """One URI visit (a new adult patient unless given) and its expected case."""
    record = record or builder.new_patient(birth)
    condition_id = builder.next_id("cond")
    if link == "diagnosis":
        options["diagnoses"] = (condition_id,)
    encounter_id = builder.visit(
        record, clinician, options.pop("kind", "AMB"), start, 20, **options
    )
    recorded = iso(start + timedelta(minutes=10)) if start else None
    linked = encounter_id if link == "encounter" else None
    record.add(
        condition(
            condition_id,
            record.patient_id,
            codes.URI[0],
            onset=recorded,
            recorded=recorded,
            encounter_id=linked,
        )
    )
    facts = {"in_denominator": True, "excluded": False, "in_numerator": True} | (expect or {})
    builder.expect(
        URI_MEASURE,
        record,
        encounter_id,
        clinician=clinician,
        period_start=start,
        label=label,
        **facts,
    )
    return record, encounter_id


def antibiotic_boundaries(builder: Builder) -> None:
    """72 h exactly counts as prescribed; 72 h + 1 minute does not; the start itself counts."""
    start = at("2026-01-12T09:00")
    record, _ = uri_visit(builder, "C02", start, "abx-at-72h", expect={"in_numerator": False})
    add_antibiotic(builder, record, "C02", AMOXICILLIN, start + timedelta(hours=72))
    start = at("2026-01-19T09:00")
    record, _ = uri_visit(builder, "C02", start, "abx-at-72h-plus-1min")
    add_antibiotic(builder, record, "C02", AMOXICILLIN, start + timedelta(hours=72, minutes=1))
    start = at("2026-07-06T09:00")
    record, visit = uri_visit(builder, "C01", start, "abx-at-start", expect={"in_numerator": False})
    add_antibiotic(builder, record, "C01", AMOXICILLIN, start, encounter_id=visit)


def exclusion_boundaries(builder: Builder) -> None:
    """Competing day 3 vs day 4, antibiotic history 30 d vs 30 d + 1 min, comorbidity timing."""
    start = at("2026-02-02T16:00")
    record, _ = uri_visit(builder, "C04", start, "competing-day-3", expect={"excluded": True})
    add_competing(builder, record, at("2026-02-05T23:30"))
    start = at("2026-02-09T16:00")
    record, _ = uri_visit(builder, "C04", start, "competing-day-4")
    add_competing(builder, record, at("2026-02-13T00:10"))
    add_antibiotic(builder, record, "C04", AMOXICILLIN, at("2026-02-13T00:20"))
    start = at("2026-03-02T10:00")
    record, _ = uri_visit(builder, "C05", start, "history-30d", expect={"excluded": True})
    add_antibiotic(builder, record, "C05", AMOXICILLIN, start - timedelta(days=30))
    start = at("2026-03-09T10:00")
    record, _ = uri_visit(builder, "C05", start, "history-30d-plus-1min")
    add_antibiotic(builder, record, "C05", AMOXICILLIN, start - timedelta(days=30, minutes=1))
    record, _ = uri_visit(builder, "C06", at("2026-03-16T11:00"), "comorbid-abated-13-months")
    record.add(
        condition(
            builder.next_id("cond"),
            record.patient_id,
            codes.COMORBID[4],
            category="problem-list-item",
            onset="2023-01-10",
            recorded="2023-01-10",
            clinical="resolved",
            abatement="2025-02-01",
        )
    )
    record, _ = uri_visit(builder, "C06", at("2026-03-23T11:00"), "comorbid-diagnosed-later")
    record.add(
        condition(
            builder.next_id("cond"),
            record.patient_id,
            codes.COMORBID[1],
            category="problem-list-item",
            onset="2026-04-02",
            recorded="2026-04-02",
        )
    )
    start = at("2026-05-18T10:00")
    record, visit = uri_visit(
        builder, "C06", start, "refuted-competing", expect={"in_numerator": False}
    )
    add_competing(builder, record, start, visit, verification="refuted")
    add_antibiotic(builder, record, "C06", AMOXICILLIN, start, encounter_id=visit)
    start = at("2026-06-01T10:00")
    record, _ = uri_visit(
        builder, "C05", start, "hospice-referral-day-3", expect={"excluded": True}
    )
    referral = service_request(
        builder.next_id("sr"),
        record.patient_id,
        codes.HOSPICE_REFERRAL,
        at("2026-06-04T16:00"),
        "C05",
    )
    record.add(referral)


def missing_times(builder: Builder) -> None:
    """An untimed antibiotic linked to the visit counts; an untimed unlinked one is ignored."""
    record, visit = uri_visit(
        builder, "C08", at("2026-04-06T14:00"), "untimed-linked-abx", expect={"in_numerator": False}
    )
    add_antibiotic(builder, record, "C08", AMOXICILLIN, None, encounter_id=visit)
    record, _ = uri_visit(builder, "C08", at("2026-04-13T14:00"), "untimed-unlinked-abx")
    add_antibiotic(builder, record, "C08", AMOXICILLIN, None)


def revisits(builder: Builder) -> None:
    """Two visits of one patient: a revisit's antibiotic counts against the first visit too."""
    no = {"in_numerator": False}
    record, _ = uri_visit(builder, "C02", at("2026-04-20T09:30"), "revisit-first", expect=no)
    start = at("2026-04-22T15:00")
    record, visit = uri_visit(builder, "C05", start, "revisit-second", record=record, expect=no)
    add_antibiotic(
        builder, record, "C05", AMOXICILLIN, start + timedelta(minutes=20), encounter_id=visit
    )
    start = at("2026-05-04T10:00")
    record, visit = uri_visit(builder, "C04", start, "treated-first", expect=no)
    add_antibiotic(
        builder, record, "C04", AMOXICILLIN, start + timedelta(minutes=15), encounter_id=visit
    )
    uri_visit(
        builder,
        "C04",
        at("2026-05-24T10:00"),
        "treated-then-revisit-excluded",
        record=record,
        expect={"excluded": True},
    )


def attribution_and_linking(builder: Builder) -> None:
    """A resident listed first still attributes to the attending; other diagnosis links."""
    participants = [("PART", TRAINEE), ("ATND", "C04")]
    uri_visit(builder, "C04", at("2026-05-11T10:00"), "resident-first", participants=participants)
    uri_visit(
        builder, "C06", at("2026-06-08T10:00"), "linked-by-encounter-diagnosis", link="diagnosis"
    )
    uri_visit(builder, "C06", at("2026-06-15T10:00"), "unlinked-same-day", link="none")


def not_in_denominator(builder: Builder) -> None:
    """Too young, window still open at the data end, wrong class or status, no start, no age."""
    out = {"in_denominator": False, "in_numerator": False}
    uri_visit(
        builder,
        "C01",
        at("2026-01-05T10:00"),
        "infant-1-month",
        birth=date(2025, 11, 20),
        expect=out,
    )
    uri_visit(builder, "C01", at("2026-10-30T10:00"), "window-open-at-data-end", expect=out)
    uri_visit(builder, "C12", at("2026-02-16T03:00"), "inpatient-class", kind="IMP", expect=out)
    uri_visit(builder, "C02", at("2026-02-23T09:00"), "cancelled", status="cancelled", expect=out)
    uri_visit(builder, "C02", None, "no-start-time", expect=out)
    uri_visit(builder, "C08", at("2026-03-30T09:00"), "no-birth-date", birth=None, expect=out)
