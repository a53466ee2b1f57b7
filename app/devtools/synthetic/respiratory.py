"""Synthetic URI and acute bronchitis visits for the two antibiotic-avoidance measures.

Each visit's plan (exclusion, antibiotic or not, and how it shows in the data) is drawn first;
the resources are then written to match the plan, and the plan is the expected answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.devtools.synthetic import codes
from app.devtools.synthetic.base import (
    AS_OF,
    EMERGENCY,
    PERIOD_START,
    PRIMARY_CARE,
    TRAINEE,
    Behaviour,
    Builder,
    behaviour_change,
)
from app.devtools.synthetic.fhir import (
    PatientFile,
    condition,
    iso,
    medication_request,
    procedure,
    service_request,
)

URI_MEASURE = "uri-appropriate-treatment"
AAB_MEASURE = "bronchitis-antibiotic-avoidance"
PHARYNGITIS_MEASURE = "pharyngitis-strep-testing"
# competing diagnoses that are themselves pharyngitis: linked to a visit, they make it a case of
# the pharyngitis testing measure too (no strep test is ever written, so never in its numerator)
PHARYNGITIS_DIAGNOSES = (codes.COMPETING[0], codes.COMPETING[4])
LAST_START = AS_OF - timedelta(days=4)  # regular visits leave their 72 h window inside the data
REVISIT_GAP = timedelta(days=60)
ANTIBIOTIC_RATE = {
    "C01": 0.20,
    "C02": 0.30,
    "C03": 0.60,
    "C04": 0.40,
    "C05": 0.25,
    "C06": 0.35,
    "C07": 0.55,
    "C08": 0.45,
    "C09": 0.30,
    "C10": 0.35,
    "C11": 0.25,
    "C12": 0.40,
}
RATE_AFTER_MODULE = {"C03": 0.12, "C07": 0.10}
PRESCRIBED = {"at-visit": 70, "delayed": 20, "at-start": 3, "at-72h": 3, "untimed-linked": 4}
AVOIDED = {"none": 88, "at-72h-1min": 4, "later": 4, "untimed-unlinked": 4}


@dataclass(frozen=True)
class Plan:
    """What one visit will show, decided before any resource is written."""

    exclusion: str  # none | competing | comorbid | history | hospice
    prescribe: bool
    variant: str  # how the antibiotic (or its absence) appears


def generate(builder: Builder) -> None:
    """Add every regular URI and bronchitis visit (edge cases: synthetic_respiratory_edges)."""
    for clinician in (*PRIMARY_CARE, *EMERGENCY):
        uri_visits, bronchitis_visits = visit_counts(clinician)
        for measure in [URI_MEASURE] * uri_visits + [AAB_MEASURE] * bronchitis_visits:
            episode(builder, clinician, measure)


def visit_counts(clinician: str) -> tuple[int, int]:
    """How many URI and bronchitis visits a clinician has in the year."""
    if clinician in EMERGENCY:
        return 8, 3
    return (40, 14) if clinician in ("C03", "C07") else (24, 12)


def antibiotic_behaviour(clinician: str) -> Behaviour:
    """A clinician's probability of ordering an antibiotic for a URI or acute bronchitis."""
    change = behaviour_change(clinician, "uri-antibiotics-adults")
    return Behaviour(ANTIBIOTIC_RATE[clinician], RATE_AFTER_MODULE.get(clinician), change)


def episode(builder: Builder, clinician: str, measure: str) -> None:
    """One new patient with one visit, sometimes followed by a second one 60+ days later."""
    rng = builder.rng
    primary = clinician in PRIMARY_CARE
    start = builder.moment(PERIOD_START + timedelta(days=1), LAST_START, clinic_hours=primary)
    child = rng.random() < (0.6 if measure == AAB_MEASURE else 0.3)
    age = rng.uniform(0.35, 17.5) if child else rng.uniform(18, 88)
    record = builder.new_patient(builder.birth_for_age(age, start))
    revisit = rng.random() < 0.15 and start + REVISIT_GAP < LAST_START
    plan = decide(builder, clinician, start, patient_level=not revisit, adult=not child)
    write_visit(builder, record, clinician, measure, start, plan, child)
    if revisit:
        second = builder.moment(start + REVISIT_GAP, LAST_START, clinic_hours=primary)
        other = rng.choice(PRIMARY_CARE if primary else EMERGENCY)
        plan = decide(builder, other, second, patient_level=False, adult=not child)
        write_visit(
            builder, record, other, rng.choice((URI_MEASURE, AAB_MEASURE)), second, plan, child
        )


def decide(
    builder: Builder, clinician: str, start: datetime, *, patient_level: bool, adult: bool
) -> Plan:
    """Draw a visit's exclusion and antibiotic outcome (patient-level ones only when allowed)."""
    rng = builder.rng
    options = {"none": 84, "competing": 7, "history": 3}
    if patient_level:
        options["comorbid"] = 4
        if adult:
            options["hospice"] = 2
    exclusion = rng.choices(list(options), weights=list(options.values()))[0]
    rate = 0.8 if exclusion == "competing" else antibiotic_behaviour(clinician).rate(start)
    prescribe = rng.random() < rate
    variants = PRESCRIBED if prescribe else AVOIDED
    variant = rng.choices(list(variants), weights=list(variants.values()))[0]
    return Plan(exclusion, prescribe, variant)


def write_visit(
    builder: Builder,
    record: PatientFile,
    clinician: str,
    measure: str,
    start: datetime,
    plan: Plan,
    child: bool,
) -> None:
    """Write the encounter, its diagnosis, exclusion evidence and antibiotics; record the truth."""
    rng = builder.rng
    if clinician in PRIMARY_CARE:
        kind = "VR" if rng.random() < 0.05 else "AMB"
        resident = rng.random() < 0.05
        participants = [("PART", TRAINEE), ("ATND", clinician)] if resident else None
    else:
        kind, participants = "EMER", None
    options = {"participants": participants} if participants else {}
    minutes = rng.randint(10, 30) if kind != "EMER" else rng.randint(90, 240)
    encounter_id = builder.visit(record, clinician, kind, start, minutes, **options)
    diagnoses = codes.URI if measure == URI_MEASURE else codes.BRONCHITIS
    add_diagnosis(builder, record, encounter_id, start, rng.choice(diagnoses))
    linked = add_exclusion(builder, record, clinician, encounter_id, start, plan.exclusion)
    medicine = codes.PEDIATRIC_ANTIBIOTIC if child else rng.choice(codes.ORAL_ANTIBIOTICS)
    add_antibiotic_variant(builder, record, clinician, encounter_id, start, plan.variant, medicine)
    if linked in PHARYNGITIS_DIAGNOSES:
        expect_pharyngitis(builder, record, clinician, encounter_id, start, plan)
    builder.expect(
        measure,
        record,
        encounter_id,
        clinician=clinician,
        period_start=start,
        in_denominator=True,
        excluded=plan.exclusion != "none",
        in_numerator=plan.exclusion == "none" and not plan.prescribe,
        label=f"{plan.exclusion}/{plan.variant}",
    )


def expect_pharyngitis(
    builder: Builder,
    record: PatientFile,
    clinician: str,
    encounter_id: str,
    start: datetime,
    plan: Plan,
) -> None:
    """Record the pharyngitis measure's truth for a visit whose competing diagnosis is pharyngitis.

    Its population needs an age of 3 years and an antibiotic in [start, start + 72 h] (every
    prescribed variant); the visit's only planned exclusion is this diagnosis, which does not
    exclude it from the pharyngitis measure; no strep test is written, so it is never met.
    """
    born = date.fromisoformat(record.resources[0]["birthDate"])
    years = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
    builder.expect(
        PHARYNGITIS_MEASURE,
        record,
        encounter_id,
        clinician=clinician,
        period_start=start,
        in_denominator=plan.prescribe and years >= 3,
        excluded=False,
        in_numerator=False,
        label=f"pharyngitis/{plan.variant}",
    )


def add_diagnosis(
    builder: Builder,
    record: PatientFile,
    encounter_id: str,
    start: datetime,
    diagnosis: codes.Diagnosis,
) -> None:
    """The visit's URI or bronchitis diagnosis, linked to the encounter."""
    onset = (start - timedelta(days=builder.rng.randint(1, 5))).date().isoformat()
    recorded = iso(start + timedelta(minutes=8))
    condition_id = builder.next_id("cond")
    record.add(
        condition(
            condition_id,
            record.patient_id,
            diagnosis,
            onset=onset,
            recorded=recorded,
            encounter_id=encounter_id,
        )
    )


def add_exclusion(
    builder: Builder,
    record: PatientFile,
    clinician: str,
    encounter_id: str,
    start: datetime,
    exclusion: str,
) -> codes.Diagnosis | None:
    """Write the evidence of a planned exclusion; return a competing diagnosis at the visit."""
    rng, patient_id = builder.rng, record.patient_id
    if exclusion == "competing" and rng.random() < 0.6:
        return add_competing(builder, record, start + timedelta(minutes=12), encounter_id)
    elif exclusion == "competing":
        day = start.replace(hour=8, minute=0) + timedelta(days=rng.randint(1, 3))
        add_competing(builder, record, builder.moment(day, day + timedelta(hours=9, minutes=30)))
    elif exclusion == "comorbid":
        onset = (start - timedelta(days=rng.randint(60, 3000))).date().isoformat()
        diagnosis = rng.choice(codes.COMORBID)
        record.add(
            condition(
                builder.next_id("cond"),
                patient_id,
                diagnosis,
                category="problem-list-item",
                onset=onset,
                recorded=onset,
            )
        )
    elif exclusion == "history":
        authored = start - timedelta(minutes=rng.randint(24 * 60, 29 * 24 * 60))
        medicine = rng.choice(codes.ORAL_ANTIBIOTICS)
        add_antibiotic(builder, record, clinician, medicine, authored, status="completed")
    elif exclusion == "hospice" and rng.random() < 0.5:
        performed = start - timedelta(minutes=rng.randint(10 * 24 * 60, 300 * 24 * 60))
        record.add(procedure(builder.next_id("proc"), patient_id, codes.HOSPICE_CARE, performed))
    elif exclusion == "hospice":
        authored = start + timedelta(minutes=rng.randint(60, 48 * 60))
        request_id = builder.next_id("sr")
        record.add(
            service_request(request_id, patient_id, codes.HOSPICE_REFERRAL, authored, clinician)
        )
    return None


def add_competing(
    builder: Builder,
    record: PatientFile,
    recorded: datetime,
    encounter_id: str | None = None,
    verification: str = "confirmed",
) -> codes.Diagnosis:
    """A competing (bacterial) diagnosis, at the encounter or recorded later on its own."""
    diagnosis = builder.rng.choice(codes.COMPETING)
    record.add(
        condition(
            builder.next_id("cond"),
            record.patient_id,
            diagnosis,
            onset=recorded.date().isoformat(),
            recorded=iso(recorded),
            encounter_id=encounter_id,
            verification=verification,
        )
    )
    return diagnosis


def add_antibiotic_variant(
    builder: Builder,
    record: PatientFile,
    clinician: str,
    encounter_id: str,
    start: datetime,
    variant: str,
    medicine: codes.Coding,
) -> None:
    """Write the planned antibiotic order (or a decoy that must not count)."""
    rng = builder.rng
    minutes = {
        "at-visit": rng.randint(5, 40),
        "delayed": rng.randint(120, 71 * 60),
        "at-start": 0,
        "at-72h": 72 * 60,
        "at-72h-1min": 72 * 60 + 1,
        "later": rng.randint(4 * 24 * 60, 14 * 24 * 60),
    }
    linked = encounter_id if variant in ("at-visit", "at-start", "untimed-linked") else None
    if variant in minutes:
        authored = start + timedelta(minutes=minutes[variant])
        add_antibiotic(builder, record, clinician, medicine, authored, encounter_id=linked)
    elif variant.startswith("untimed"):
        add_antibiotic(builder, record, clinician, medicine, None, encounter_id=linked)


def add_antibiotic(
    builder: Builder,
    record: PatientFile,
    clinician: str,
    medicine: codes.Coding,
    authored: datetime | None,
    *,
    encounter_id: str | None = None,
    status: str = "active",
) -> None:
    """An antibiotic MedicationRequest."""
    record.add(
        medication_request(
            builder.next_id("medrx"),
            record.patient_id,
            medicine,
            authored=authored,
            requester=clinician,
            encounter_id=encounter_id,
            status=status,
            dosage="Take as directed for 5 to 10 days.",
        )
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
