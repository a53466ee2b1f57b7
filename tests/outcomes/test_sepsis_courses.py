"""Sepsis antibiotic timing per course: administration time when present, else the order time."""

from __future__ import annotations

from datetime import timedelta

from app.devtools.synthetic import codes, fhir
from tests.outcomes.charts import CEFTRIAXONE, SEPSIS, Chart, at, hours, only_case
from tests.outcomes.test_sepsis import T0, sepsis_chart


def given(chart: Chart, order: dict | None, when, encounter_id: str, **changes) -> dict:
    """A MedicationAdministration of ceftriaxone, linked to its order when one is given."""
    administration = fhir.medication_administration(
        chart.next_id("adm"), chart.patient_id, CEFTRIAXONE, when, encounter_id
    )
    if order is not None:
        administration["request"] = fhir.ref("MedicationRequest", order["id"])
    return chart.add(administration | changes)


def test_cultures_between_order_and_administration_are_before_the_antibiotic():
    """Ordered 14:00, cultures 14:15, given 14:30: cultures were drawn before the antibiotic."""
    chart, encounter_id = sepsis_chart(onset=at("2026-03-10T13:00"))
    order = chart.order(CEFTRIAXONE, at("2026-03-10T14:00"), encounter_id)
    chart.observation(codes.BLOOD_CULTURE, at("2026-03-10T14:15"), status="preliminary")
    given(chart, order, at("2026-03-10T14:30"), encounter_id)
    case = only_case(SEPSIS, chart)
    assert case.elements["blood_cultures"] is True
    assert any("first antibiotic 2026-03-10T14:30Z" in reason for reason in case.reasons)


def test_late_administration_of_an_early_order_misses_the_3_hours():
    """Ordered T0 + 2 h but given T0 + 5 h: the antibiotic element is not met."""
    chart, encounter_id = sepsis_chart()
    order = chart.order(CEFTRIAXONE, T0 + hours(2), encounter_id)
    given(chart, order, T0 + hours(5), encounter_id)
    case = only_case(SEPSIS, chart)
    assert case.elements["antibiotic"] is False
    assert any("given at 2026-03-10T18:00Z" in reason for reason in case.reasons)


def test_order_without_administration_uses_authored_on():
    """No administration: the order's authoredOn is the antibiotic time."""
    chart, encounter_id = sepsis_chart()
    chart.order(CEFTRIAXONE, T0 + hours(2), encounter_id)
    chart.observation(codes.BLOOD_CULTURE, T0 + hours(2), status="preliminary")
    case = only_case(SEPSIS, chart)
    assert (case.elements["antibiotic"], case.elements["blood_cultures"]) == (True, True)
    assert any("ordered at 2026-03-10T15:00Z" in reason for reason in case.reasons)


def test_earliest_administration_of_a_course_counts():
    """A course given twice starts at its first administration."""
    chart, encounter_id = sepsis_chart()
    order = chart.order(CEFTRIAXONE, T0, encounter_id)
    given(chart, order, T0 + hours(6), encounter_id)
    given(chart, order, T0 + hours(2), encounter_id)
    assert only_case(SEPSIS, chart).elements["antibiotic"] is True


def test_not_done_administration_falls_back_to_the_order():
    """An administration that did not happen leaves the order time."""
    chart, encounter_id = sepsis_chart()
    order = chart.order(CEFTRIAXONE, T0 + hours(1), encounter_id)
    given(chart, order, T0 + hours(5), encounter_id, status="not-done")
    assert only_case(SEPSIS, chart).elements["antibiotic"] is True


def test_each_course_has_its_own_time():
    """Two courses: a later-given first order does not hide an earlier-given second one."""
    chart, encounter_id = sepsis_chart()
    first = chart.order(CEFTRIAXONE, T0 - hours(1), encounter_id)
    given(chart, first, T0 + hours(4), encounter_id)
    second = chart.order(CEFTRIAXONE, T0 + hours(1), encounter_id)
    given(chart, second, T0 + hours(1) + timedelta(minutes=20), encounter_id)
    chart.observation(codes.BLOOD_CULTURE, T0 + hours(1), status="preliminary")
    case = only_case(SEPSIS, chart)
    assert (case.elements["antibiotic"], case.elements["blood_cultures"]) == (True, True)


def test_administration_linked_to_an_unknown_order_stands_alone():
    """An administration whose order is not in the data is its own course, timed when given."""
    chart, encounter_id = sepsis_chart()
    administration = given(chart, None, T0 + hours(4), encounter_id)
    administration["request"] = fhir.ref("MedicationRequest", "elsewhere")
    assert only_case(SEPSIS, chart).elements["antibiotic"] is False
