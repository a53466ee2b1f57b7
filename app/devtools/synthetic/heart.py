"""Synthetic HFrEF follow-up visits for the beta-blocker measure, plus unrelated clinic visits.

Each patient's HFrEF basis, baseline therapy and allergy are drawn first; at each visit the
clinician may start an evidence-based beta blocker, which then stays active. The expected case
follows from that state alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.devtools.synthetic import codes
from app.devtools.synthetic.base import (
    AS_OF,
    EMERGENCY,
    PERIOD_START,
    PRIMARY_CARE,
    Behaviour,
    Builder,
    behaviour_change,
)
from app.devtools.synthetic.fhir import (
    PatientFile,
    allergy,
    condition,
    medication_request,
    observation,
)

HF_MEASURE = "hfref-beta-blocker"
HF_PATIENTS = 50
LAST_VISIT = AS_OF - timedelta(days=1)
HOME_CLINICIAN = {"C13": 30, "C14": 30, "C01": 13, "C02": 13, "C05": 14}
PRESCRIBE_RATE = {"C13": 0.25, "C14": 0.5, "C01": 0.3, "C02": 0.35, "C05": 0.3}
PRESCRIBE_AFTER_MODULE = {"C13": 0.8}
BASES = {"condition": 70, "lvef-only": 20, "diagnosed-later": 5, "not-qualifying": 5}
BASELINES = {"none": 45, "on-beta-blocker": 40, "tartrate": 5, "stopped": 5, "untimed": 5}


@dataclass(frozen=True)
class HeartPlan:
    """A patient's HFrEF basis, baseline beta-blocker state and allergy."""

    basis: str  # condition | lvef-only | diagnosed-later | not-qualifying
    baseline: str  # none | on-beta-blocker | tartrate | stopped | untimed
    allergy: bool
    lvef: int


def days(value: int) -> timedelta:
    """A timedelta of days."""
    return timedelta(days=value)


def pick(builder: Builder, weights: dict[str, int]) -> str:
    """Draw one key by weight."""
    return builder.rng.choices(list(weights), weights=list(weights.values()))[0]


def generate(builder: Builder) -> None:
    """Add the HF patients, then fixed edge patients (LVEF 40 vs 41, allergy, tartrate only)."""
    for _ in range(HF_PATIENTS):
        heart_patient(builder, plan_patient(builder))
    heart_patient(builder, HeartPlan("lvef-only", "none", False, 40), label="lvef-exactly-40")
    heart_patient(builder, HeartPlan("not-qualifying", "none", False, 41), label="lvef-41")
    heart_patient(builder, HeartPlan("condition", "none", True, 30), label="beta-blocker-allergy")
    tartrate = HeartPlan("condition", "tartrate", False, 30)
    heart_patient(builder, tartrate, label="metoprolol-tartrate-only")


def plan_patient(builder: Builder) -> HeartPlan:
    """Draw a patient's plan."""
    rng = builder.rng
    basis = pick(builder, BASES)
    baseline = pick(builder, BASELINES)
    allergic = baseline != "on-beta-blocker" and rng.random() < 0.1
    lvef = rng.randint(41, 60) if basis == "not-qualifying" else rng.randint(18, 40)
    return HeartPlan(basis, baseline, allergic, lvef)


def prescribing(clinician: str) -> Behaviour:
    """A clinician's probability of starting a beta blocker at a visit."""
    change = behaviour_change(clinician, "hfref-gdmt")
    return Behaviour(PRESCRIBE_RATE[clinician], PRESCRIBE_AFTER_MODULE.get(clinician), change)


def visit_times(builder: Builder) -> list[datetime]:
    """Two to four follow-up visits 60 to 120 days apart."""
    first = builder.moment(PERIOD_START + days(3), PERIOD_START + days(150))
    visits = [first]
    wanted = builder.rng.randint(2, 4)
    while len(visits) < wanted:
        earliest = visits[-1] + days(60)
        chosen = builder.moment(earliest, earliest + days(60))
        if chosen > LAST_VISIT:
            break
        visits.append(chosen)
    return visits


def heart_patient(builder: Builder, plan: HeartPlan, label: str = "") -> None:
    """Write one HF patient's history and visits; record each visit's expected case."""
    rng = builder.rng
    clinician = pick(builder, HOME_CLINICIAN)
    visits = visit_times(builder)
    basis = "condition" if plan.basis == "diagnosed-later" and len(visits) < 2 else plan.basis
    record = builder.new_patient(builder.birth_for_age(rng.uniform(45, 90), visits[0]))
    write_basis(builder, record, basis, visits, plan.lvef)
    write_baseline(builder, record, clinician, plan.baseline, visits[0])
    if plan.allergy:
        medicine = rng.choice(codes.BETA_BLOCKER_ALLERGIES)
        recorded = visits[0] - days(rng.randint(30, 900))
        record.add(allergy(builder.next_id("alg"), record.patient_id, medicine, recorded))
    on_beta_blocker = plan.baseline == "on-beta-blocker"
    for index, start in enumerate(visits):
        kind = "VR" if rng.random() < 0.1 else "AMB"
        encounter_id = builder.visit(record, clinician, kind, start, 30)
        qualifies = basis in ("condition", "lvef-only") or (basis == "diagnosed-later" and index)
        if qualifies and not plan.allergy and not on_beta_blocker:
            on_beta_blocker = start_therapy(builder, record, clinician, encounter_id, start)
        builder.expect(
            HF_MEASURE,
            record,
            encounter_id,
            clinician=clinician,
            period_start=start,
            in_denominator=bool(qualifies),
            excluded=bool(qualifies) and plan.allergy,
            in_numerator=on_beta_blocker,
            label=label or f"{basis}/{plan.baseline}/allergy={plan.allergy}",
        )
    if rng.random() < 0.1:  # an ED visit for something else: not a qualifying class
        builder.visit(record, rng.choice(EMERGENCY), "EMER", visits[0] + days(10), 240)


def start_therapy(
    builder: Builder, record: PatientFile, clinician: str, encounter_id: str, start: datetime
) -> bool:
    """Maybe prescribe a beta blocker at this visit; return whether the patient is now on one."""
    rng = builder.rng
    if rng.random() < prescribing(clinician).rate(start):
        add_beta_blocker(builder, record, clinician, start + timedelta(minutes=20), encounter_id)
        return True
    if rng.random() < 0.05:  # an order entered in error never counts
        add_beta_blocker(
            builder,
            record,
            clinician,
            start + timedelta(minutes=20),
            encounter_id,
            status="entered-in-error",
        )
    return False


def write_basis(
    builder: Builder, record: PatientFile, basis: str, visits: list[datetime], lvef: int
) -> None:
    """Write the HFrEF diagnosis and/or the LVEF result that decide if the patient qualifies."""
    rng, first = builder.rng, visits[0]
    if basis == "condition":
        onset = (first - days(rng.randint(200, 3000))).date().isoformat()
        add_hfref(builder, record, onset)
        add_lvef(builder, record, first - days(rng.randint(30, 400)), rng.randint(20, 35))
    elif basis == "diagnosed-later":
        add_hfref(builder, record, visits[1].date().isoformat())
        add_lvef(builder, record, visits[1] - timedelta(hours=2), rng.randint(20, 35))
    else:  # lvef-only or not-qualifying: the LVEF value decides
        add_lvef(builder, record, first - days(rng.randint(10, 300)), lvef)


def add_hfref(builder: Builder, record: PatientFile, onset: str) -> None:
    """An HFrEF problem-list Condition with a date-only onset."""
    record.add(
        condition(
            builder.next_id("cond"),
            record.patient_id,
            builder.rng.choice(codes.HFREF),
            category="problem-list-item",
            onset=onset,
            recorded=onset,
        )
    )


def add_lvef(builder: Builder, record: PatientFile, measured: datetime, value: int) -> None:
    """An echocardiographic LVEF result in %."""
    code = builder.rng.choice(codes.LVEF)
    record.add(
        observation(
            builder.next_id("obs"),
            record.patient_id,
            code,
            effective=measured,
            category="imaging",
            quantity=(value, "%"),
        )
    )


def write_baseline(
    builder: Builder, record: PatientFile, clinician: str, baseline: str, first: datetime
) -> None:
    """Write the therapy on record before the first visit (only 'on-beta-blocker' counts)."""
    authored = first - days(builder.rng.randint(30, 700))
    if baseline == "on-beta-blocker":
        add_beta_blocker(builder, record, clinician, authored)
    elif baseline == "tartrate":
        add_beta_blocker(builder, record, clinician, authored, medicine=codes.METOPROLOL_TARTRATE)
    elif baseline == "stopped":
        bounds = (authored, first - days(10))
        add_beta_blocker(builder, record, clinician, authored, status="stopped", bounds=bounds)
    elif baseline == "untimed":
        add_beta_blocker(builder, record, clinician, None)


def add_beta_blocker(
    builder: Builder,
    record: PatientFile,
    clinician: str,
    authored: datetime | None,
    encounter_id: str | None = None,
    *,
    status: str = "active",
    medicine: codes.Coding | None = None,
    bounds: tuple[datetime, datetime] | None = None,
) -> None:
    """A beta-blocker MedicationRequest."""
    record.add(
        medication_request(
            builder.next_id("medrx"),
            record.patient_id,
            medicine or builder.rng.choice(codes.BETA_BLOCKERS),
            authored=authored,
            requester=clinician,
            encounter_id=encounter_id,
            status=status,
            bounds=bounds,
            dosage="One tablet by mouth twice daily.",
        )
    )


def other_visits(builder: Builder, patients: int = 40) -> None:
    """Hypertension follow-ups that belong to no measure (they must produce no case)."""
    rng = builder.rng
    for _ in range(patients):
        start = builder.moment(PERIOD_START + days(1), LAST_VISIT - days(91))
        record = builder.new_patient(builder.birth_for_age(rng.uniform(30, 85), start))
        onset = (start - days(rng.randint(100, 4000))).date().isoformat()
        record.add(
            condition(
                builder.next_id("cond"),
                record.patient_id,
                codes.HYPERTENSION[0],
                category="problem-list-item",
                onset=onset,
                recorded=onset,
            )
        )
        clinician = rng.choice(PRIMARY_CARE)
        for visit in range(rng.randint(1, 2)):
            builder.visit(record, clinician, "AMB", start + days(90 * visit), 20)
