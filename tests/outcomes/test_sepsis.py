"""SEP-1-like bundle: time zero, each element's window, missing times, exclusions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.devtools.synthetic import codes, fhir
from tests.outcomes.charts import CEFTRIAXONE, SEPSIS, Chart, at, evaluate, hours, only_case

ARRIVAL = at("2026-03-10T12:00")
T0 = at("2026-03-10T13:00")
MINUTE = timedelta(minutes=1)


def sepsis_chart(*, onset=T0, recorded=None, birth=date(1960, 1, 1), **visit) -> tuple[Chart, str]:
    """An ED visit with a sepsis diagnosis whose onset is time zero."""
    chart = Chart(birth=birth)
    encounter_id = chart.visit(ARRIVAL, visit.pop("kind", "EMER"), clinician="C10", **visit)
    chart.condition(
        codes.SEPSIS[0],
        encounter_id,
        onset=fhir.iso(onset) if onset else None,
        recorded=fhir.iso(recorded) if recorded else None,
    )
    return chart, encounter_id


ONE_HOUR_IN = T0 + hours(1)


def full_bundle(chart: Chart, encounter_id: str, *, lactate=1.5, antibiotic=ONE_HOUR_IN):
    """Lactate at T0 + 10 min, cultures at T0 + 30 min, antibiotic at the given time."""
    chart.observation(
        codes.LACTATE_PLASMA, T0 + timedelta(minutes=10), quantity=(lactate, "mmol/L")
    )
    chart.observation(codes.BLOOD_CULTURE, T0 + timedelta(minutes=30), status="preliminary")
    chart.order(CEFTRIAXONE, antibiotic, encounter_id)


def test_full_bundle_is_met():
    """All elements met: in the numerator; each element reported; repeat does not apply."""
    chart, encounter_id = sepsis_chart()
    full_bundle(chart, encounter_id)
    case = only_case(SEPSIS, chart)
    assert (case.in_denominator, case.excluded, case.in_numerator) == (True, False, True)
    assert dict(case.elements) == {
        "initial_lactate": True,
        "blood_cultures": True,
        "antibiotic": True,
        "repeat_lactate": None,
    }
    assert (case.period_start, case.clinician) == (T0, "Practitioner/C10")


def test_time_zero_is_the_earliest_timed_onset_or_recorded_time():
    """The earlier of onset and recorded time, when both have a time of day."""
    chart, encounter_id = sepsis_chart(onset=T0 + hours(2), recorded=T0)
    full_bundle(chart, encounter_id)
    assert only_case(SEPSIS, chart).period_start == T0


def test_time_zero_before_arrival_becomes_arrival():
    """Sepsis documented from before arrival: time zero is the encounter start."""
    chart, _ = sepsis_chart(onset=ARRIVAL - hours(5))
    assert only_case(SEPSIS, chart).period_start == ARRIVAL


def test_date_only_onset_is_not_a_time_zero():
    """A date-only onset and no recorded time: every element is not met, with the reason."""
    chart = Chart(birth=date(1960, 1, 1))
    encounter_id = chart.visit(ARRIVAL, "EMER")
    chart.condition(codes.SEPSIS[1], encounter_id, onset="2026-03-10")
    full_bundle(chart, encounter_id)
    case = only_case(SEPSIS, chart)
    assert (case.in_denominator, case.in_numerator) == (True, False)
    assert set(case.elements.values()) == {False, None}
    assert any("time zero unknown" in reason for reason in case.reasons)


@pytest.mark.parametrize(
    ("drawn", "met"),
    [
        (T0 - hours(6), True),
        (T0 - hours(6) - MINUTE, False),
        (T0 + hours(3), True),
        (T0 + hours(3) + MINUTE, False),
    ],
    ids=["T0-6h", "T0-6h-1min", "T0+3h", "T0+3h+1min"],
)
def test_initial_lactate_window(drawn, met):
    """The initial lactate counts from T0 - 6 h to T0 + 3 h inclusive."""
    chart, _ = sepsis_chart()
    chart.observation(codes.LACTATE_BLOOD, drawn, quantity=(1.2, "mmol/L"))
    assert only_case(SEPSIS, chart).elements["initial_lactate"] is met


def test_lactate_without_time_or_value_is_not_met():
    """No effective time (only issued) or no value: not an initial lactate."""
    chart, _ = sepsis_chart()
    chart.observation(codes.LACTATE_PLASMA, None, issued=T0, quantity=(3.0, "mmol/L"))
    chart.observation(codes.LACTATE_PLASMA, T0, text_value="haemolysed")
    case = only_case(SEPSIS, chart)
    assert case.elements["initial_lactate"] is False
    assert case.elements["repeat_lactate"] is None


@pytest.mark.parametrize(
    ("value", "unit", "repeat_needed"),
    [(2.0, "mmol/L", False), (2.1, "mmol/L", True), (18, "mg/dL", False), (19, "mg/dL", True)],
    ids=["2.0", "2.1", "18-mg/dL-is-2.0", "19-mg/dL-is-2.1"],
)
def test_repeat_lactate_required_only_above_2(value, unit, repeat_needed):
    """A repeat lactate is needed when the initial one is > 2 mmol/L (mg/dL x 0.111)."""
    chart, encounter_id = sepsis_chart()
    full_bundle(chart, encounter_id)
    chart.resources[-3]["valueQuantity"] = {"value": value, "unit": unit, "code": unit}
    case = only_case(SEPSIS, chart)
    assert case.elements["repeat_lactate"] is (False if repeat_needed else None)
    assert case.in_numerator is not repeat_needed


@pytest.mark.parametrize(
    ("repeat", "met"),
    [(T0 + hours(6), True), (T0 + hours(6) + MINUTE, False)],
    ids=["T0+6h", "T0+6h+1min"],
)
def test_repeat_lactate_by_6_hours(repeat, met):
    """The repeat lactate must follow the initial one by T0 + 6 h inclusive."""
    chart, encounter_id = sepsis_chart()
    full_bundle(chart, encounter_id, lactate=4.2)
    chart.observation(codes.LACTATE_PLASMA, repeat, quantity=(2.5, "mmol/L"))
    case = only_case(SEPSIS, chart)
    assert case.elements["repeat_lactate"] is met
    assert case.in_numerator is met


@pytest.mark.parametrize(
    ("given", "met"),
    [
        (T0 + hours(3), True),
        (T0 + hours(3) + MINUTE, False),
        (T0 - hours(24), True),
        (T0 - hours(24) - MINUTE, False),
    ],
    ids=["T0+3h", "T0+3h+1min", "T0-24h", "T0-24h-1min"],
)
def test_antibiotic_window(given, met):
    """An antibiotic from T0 - 24 h to T0 + 3 h inclusive."""
    chart, encounter_id = sepsis_chart()
    chart.order(CEFTRIAXONE, given, encounter_id)
    assert only_case(SEPSIS, chart).elements["antibiotic"] is met


def test_administration_time_counts_too():
    """A MedicationAdministration (linked by context) is an antibiotic time."""
    chart, encounter_id = sepsis_chart()
    chart.add(
        fhir.medication_administration("adm-1", "p1", CEFTRIAXONE, T0 + hours(2), encounter_id)
    )
    assert only_case(SEPSIS, chart).elements["antibiotic"] is True


@pytest.mark.parametrize(
    ("culture", "met"),
    [(-MINUTE, True), (timedelta(0), True), (MINUTE, False)],
    ids=["1min-before", "same-minute", "1min-after"],
)
def test_cultures_before_the_first_antibiotic(culture, met):
    """Cultures at or before the first antibiotic meet the element; one minute later does not."""
    chart, encounter_id = sepsis_chart()
    given = T0 + hours(1)
    chart.order(CEFTRIAXONE, given, encounter_id)
    chart.observation(codes.BLOOD_CULTURE, given + culture, status="preliminary")
    assert only_case(SEPSIS, chart).elements["blood_cultures"] is met


@pytest.mark.parametrize(
    ("drawn", "met"),
    [(T0 - hours(48), True), (T0 - hours(48) - MINUTE, False), (T0 + hours(3) + MINUTE, False)],
    ids=["T0-48h", "T0-48h-1min", "T0+3h+1min"],
)
def test_culture_window(drawn, met):
    """Cultures count from T0 - 48 h to T0 + 3 h (here no antibiotic was given)."""
    chart, _ = sepsis_chart()
    chart.observation(codes.BLOOD_CULTURE, drawn, status="preliminary")
    assert only_case(SEPSIS, chart).elements["blood_cultures"] is met


def test_untimed_antibiotic_fails_antibiotic_and_cultures():
    """An antibiotic without a time: not met, and cultures-first cannot be verified."""
    chart, encounter_id = sepsis_chart()
    chart.observation(codes.BLOOD_CULTURE, T0, status="preliminary")
    chart.order(CEFTRIAXONE, None, encounter_id)
    case = only_case(SEPSIS, chart)
    assert (case.elements["antibiotic"], case.elements["blood_cultures"]) == (False, False)
    assert any("has no time" in reason for reason in case.reasons)


def test_antibiotic_of_another_encounter_is_ignored():
    """Antibiotics linked to a different encounter do not belong to this episode."""
    chart, _ = sepsis_chart()
    other = chart.visit(T0 - hours(2), "AMB")
    chart.order(CEFTRIAXONE, T0 + hours(1), other)
    assert only_case(SEPSIS, chart).elements["antibiotic"] is False


def test_culture_order_counts_only_once_completed():
    """A ServiceRequest for cultures counts with status completed and an occurrence time."""
    chart, _ = sepsis_chart()
    request = fhir.service_request("sr-1", "p1", codes.BLOOD_CULTURE, T0, "C01")
    chart.add(request | {"occurrenceDateTime": fhir.iso(T0)})
    assert only_case(SEPSIS, chart).elements["blood_cultures"] is False
    request["status"] = "completed"
    chart.add(request | {"id": "sr-2", "occurrenceDateTime": fhir.iso(T0)})
    assert only_case(SEPSIS, chart).elements["blood_cultures"] is True


@pytest.mark.parametrize(
    ("given", "excluded"),
    [(hours(6), True), (hours(6) + MINUTE, False), (-hours(24), True), (-hours(25), False)],
    ids=["T0+6h", "T0+6h+1min", "T0-24h", "T0-25h"],
)
def test_comfort_care_exclusion_window(given, excluded):
    """Comfort or hospice care from T0 - 24 h to T0 + 6 h excludes the episode."""
    chart, encounter_id = sepsis_chart()
    full_bundle(chart, encounter_id)
    chart.procedure(codes.TERMINAL_CARE, T0 + given)
    case = only_case(SEPSIS, chart)
    assert case.excluded is excluded
    assert case.in_numerator is not excluded


def test_transfer_in_is_excluded():
    """admitSource hosp-trans excludes the episode."""
    chart, encounter_id = sepsis_chart(admit_source="hosp-trans")
    full_bundle(chart, encounter_id)
    case = only_case(SEPSIS, chart)
    assert (case.excluded, case.in_numerator) == (True, False)
    assert "hosp-trans" in case.exclusion_reason


@pytest.mark.parametrize(
    ("options", "as_of", "why"),
    [
        ({"birth": date(2008, 3, 11)}, None, "under 18"),
        ({"kind": "AMB"}, None, "class AMB"),
        ({}, T0 + hours(6) - MINUTE, "after the data end"),
    ],
    ids=["aged-17", "ambulatory", "window-open"],
)
def test_not_in_denominator(options, as_of, why):
    """Under 18, a non-acute class, or a 6-hour window still open at the data end."""
    chart, _ = sepsis_chart(**options)
    case = only_case(SEPSIS, chart, as_of=as_of)
    assert case.in_denominator is False
    assert why in case.reasons[-1]


def test_two_episodes_for_one_patient():
    """Each sepsis encounter is its own episode with its own time zero."""
    chart, first = sepsis_chart()
    full_bundle(chart, first)
    later = T0 + timedelta(days=40)
    second = chart.visit(later, "IMP", clinician="C09")
    chart.condition(codes.SEPSIS[0], second, onset=fhir.iso(later))
    cases = {case.encounter_id: case for case in evaluate(SEPSIS, chart)}
    assert cases[first].in_numerator is True
    assert cases[second].in_numerator is False
    assert (cases[second].period_start, cases[second].clinician) == (later, "Practitioner/C09")


SCT = "http://snomed.info/sct"
IV_ROUTE = (SCT, "47625008", "Intravenous route (qualifier value)")
IM_ROUTE = (SCT, "78421000", "Intramuscular route (qualifier value)")


@pytest.mark.parametrize(
    ("routes", "met"),
    [([IV_ROUTE], True), ([IM_ROUTE], False), ([], True), ([IM_ROUTE, IV_ROUTE], True)],
    ids=["intravenous", "intramuscular-only", "no-route-recorded", "im-and-iv"],
)
def test_antibiotic_must_be_intravenous_when_a_route_is_recorded(routes, met):
    """SEP-1 counts IV antibiotics: a course recorded only by another route does not count."""
    chart, encounter_id = sepsis_chart()
    order = chart.order(CEFTRIAXONE, T0 + hours(1), encounter_id)
    if routes:
        route = {"coding": [{"system": s, "code": c, "display": d} for s, c, d in routes]}
        order["dosageInstruction"][0]["route"] = route
    assert only_case(SEPSIS, chart).elements["antibiotic"] is met


def test_an_administration_given_intramuscularly_does_not_count():
    """The administration's dosage.route is part of the course's routes."""
    chart, encounter_id = sepsis_chart()
    given = fhir.medication_administration("adm-1", "p1", CEFTRIAXONE, T0 + hours(2), encounter_id)
    given["dosage"] = {"route": {"coding": [{"system": SCT, "code": IM_ROUTE[1]}]}}
    chart.add(given)
    assert only_case(SEPSIS, chart).elements["antibiotic"] is False


def given_at(chart, encounter_id, *moments):
    """Ceftriaxone administrations of one order, at the given times."""
    order = chart.order(CEFTRIAXONE, moments[0] - MINUTE, encounter_id)
    for number, moment in enumerate(moments):
        given = fhir.medication_administration(
            f"adm-{number}", "p1", CEFTRIAXONE, moment, encounter_id
        )
        given["request"] = {"reference": f"MedicationRequest/{order['id']}"}
        chart.add(given)


@pytest.mark.parametrize(
    ("moments", "excluded"),
    [
        ((T0 - hours(30), T0 - hours(6)), True),  # started 30 h before, still given
        ((T0 - hours(30), T0 - hours(24)), True),  # last dose exactly at T0 - 24 h
        ((T0 - hours(30), T0 - hours(24) - MINUTE), False),  # stopped before the 24 h
        (
            (T0 - hours(20), T0 - hours(2)),
            False,
        ),  # started within 24 h: an element, not an exclusion
    ],
    ids=["running-30h", "last-dose-at-24h", "stopped-before", "started-within-24h"],
)
def test_antibiotics_running_for_more_than_24_hours_exclude(moments, excluded):
    """SEP-1: IV antibiotics for more than 24 h before presentation exclude the episode."""
    chart, encounter_id = sepsis_chart()
    given_at(chart, encounter_id, *moments)
    case = only_case(SEPSIS, chart)
    assert case.excluded is excluded
    assert ("more than 24 h" in (case.exclusion_reason or "")) is excluded
