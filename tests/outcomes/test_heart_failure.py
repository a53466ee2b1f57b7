"""HFrEF evidence-based beta blocker: who qualifies, what counts as therapy, allergy exclusion."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.devtools.synthetic import codes, fhir
from tests.outcomes.charts import HF, Chart, at, evaluate, only_case

VISIT = at("2026-04-15T10:00")
CARVEDILOL = codes.BETA_BLOCKERS[1]


def hf_chart(*, lvef: int | None = None, diagnosed: str | None = "2022-05-01", **visit) -> Chart:
    """A patient with an HFrEF diagnosis and/or an LVEF result, seen once at VISIT."""
    chart = Chart(birth=visit.pop("birth", date(1955, 1, 1)))
    if diagnosed:
        chart.condition(
            codes.HFREF[0], category="problem-list-item", onset=diagnosed, recorded=diagnosed
        )
    if lvef is not None:
        chart.observation(
            codes.LVEF[0], VISIT - timedelta(days=90), category="imaging", quantity=(lvef, "%")
        )
    chart.visit(VISIT, visit.pop("kind", "AMB"), clinician="C13", **visit)
    return chart


def test_on_beta_blocker_from_an_earlier_active_order():
    """An active evidence-based order authored before the visit meets the measure."""
    chart = hf_chart()
    chart.order(CARVEDILOL, VISIT - timedelta(days=200))
    case = only_case(HF, chart)
    assert (case.in_denominator, case.excluded, case.in_numerator) == (True, False, True)
    assert case.clinician == "Practitioner/C13"


def test_prescribed_at_the_visit():
    """An order authored on the visit date meets the measure whatever its later status."""
    chart = hf_chart()
    chart.order(CARVEDILOL, VISIT + timedelta(minutes=20), status="completed")
    assert only_case(HF, chart).in_numerator is True


@pytest.mark.parametrize(
    ("medicine", "options"),
    [
        (codes.METOPROLOL_TARTRATE, {}),
        (CARVEDILOL, {"status": "stopped"}),
        (CARVEDILOL, {"status": "entered-in-error"}),
        (CARVEDILOL, {"bounds": (at("2025-01-01T10:00"), at("2026-04-14T10:00"))}),
    ],
    ids=["metoprolol-tartrate", "stopped", "entered-in-error", "ended-the-day-before"],
)
def test_orders_that_do_not_count(medicine, options):
    """Not evidence-based, stopped, void or ended before the visit: not in the numerator."""
    chart = hf_chart()
    chart.order(medicine, at("2025-01-01T10:00"), **options)
    assert only_case(HF, chart).in_numerator is False


def test_order_ending_on_the_visit_day_still_counts():
    """Dosage bounds ending on the visit date: still in place at the visit."""
    chart = hf_chart()
    chart.order(CARVEDILOL, at("2025-01-01T10:00"), bounds=(at("2025-01-01T10:00"), VISIT))
    assert only_case(HF, chart).in_numerator is True


def test_untimed_order_is_not_counted_and_says_so():
    """A beta-blocker order without authoredOn cannot be placed before the visit."""
    chart = hf_chart()
    chart.order(CARVEDILOL, None)
    case = only_case(HF, chart)
    assert case.in_numerator is False
    assert any("no authoredOn" in reason for reason in case.reasons)


def test_order_after_the_visit_does_not_count():
    """Prescribed at a later date: not in place at this visit."""
    chart = hf_chart()
    chart.order(CARVEDILOL, VISIT + timedelta(days=1))
    assert only_case(HF, chart).in_numerator is False


@pytest.mark.parametrize(("lvef", "qualifies"), [(40, True), (41, False)], ids=["40", "41"])
def test_lvef_threshold_without_a_diagnosis(lvef, qualifies):
    """LVEF <= 40 % qualifies a patient without an HFrEF diagnosis; 41 % does not."""
    case = only_case(HF, hf_chart(lvef=lvef, diagnosed=None))
    assert case.in_denominator is qualifies


def test_diagnosis_after_the_visit_does_not_qualify_it():
    """An HFrEF diagnosis dated after the visit leaves that visit out."""
    case = only_case(HF, hf_chart(diagnosed="2026-05-01"))
    assert case.in_denominator is False
    assert "no HFrEF diagnosis" in case.reasons[-1]


def test_no_hf_data_means_no_case():
    """Patients without HFrEF or LVEF data produce no cases at all."""
    assert evaluate(HF, hf_chart(diagnosed=None)) == []


@pytest.mark.parametrize(
    ("recorded", "options", "excluded"),
    [
        (at("2025-06-01T09:00"), {}, True),
        (VISIT + timedelta(days=1), {}, False),
        (at("2025-06-01T09:00"), {"clinicalStatus": "resolved"}, False),
    ],
    ids=["before-the-visit", "recorded-after", "resolved"],
)
def test_beta_blocker_allergy_exclusion(recorded, options, excluded):
    """An active beta-blocker allergy recorded by the visit date excludes it."""
    chart = hf_chart()
    allergy = fhir.allergy("alg-1", "p1", codes.BETA_BLOCKER_ALLERGIES[0], recorded)
    if "clinicalStatus" in options:
        allergy["clinicalStatus"]["coding"][0]["code"] = options["clinicalStatus"]
    chart.add(allergy)
    assert only_case(HF, chart).excluded is excluded


@pytest.mark.parametrize(
    ("options", "in_denominator"),
    [({"kind": "EMER"}, None), ({"birth": date(2009, 1, 1)}, False), ({"kind": "VR"}, True)],
    ids=["emergency-visit", "aged-17", "virtual-visit"],
)
def test_denominator_classes_and_age(options, in_denominator):
    """Only AMB and VR visits are candidates; adults only."""
    cases = evaluate(HF, hf_chart(**options))
    if in_denominator is None:
        assert cases == []
    else:
        assert [case.in_denominator for case in cases] == [in_denominator]


SCT = "http://snomed.info/sct"
LVAD_IMPLANT = (
    SCT,
    "232967006",
    "Implantation of left cardiac ventricular assist device (procedure)",
)
HEART_TRANSPLANT = (SCT, "32413006", "Transplantation of heart (procedure)")
TRANSPLANT_REJECTION = ("http://hl7.org/fhir/sid/icd-10-cm", "T86.21", "Heart transplant rejection")


@pytest.mark.parametrize(
    ("procedure", "performed", "excluded"),
    [
        (LVAD_IMPLANT, VISIT - timedelta(days=400), True),
        (HEART_TRANSPLANT, VISIT - timedelta(days=900), True),
        (LVAD_IMPLANT, VISIT + timedelta(days=2), False),
    ],
    ids=["lvad-before", "transplant-before", "lvad-after-the-visit"],
)
def test_heart_transplant_or_lvad_procedure_excludes(procedure, performed, excluded):
    """CMS144 excludes patients with a heart transplant or an LVAD by the visit date."""
    chart = hf_chart()
    chart.procedure(procedure, performed)
    case = only_case(HF, chart)
    assert case.excluded is excluded
    assert (procedure[1] in (case.exclusion_reason or "")) is excluded


def test_heart_transplant_complication_condition_excludes():
    """A heart transplant complication on the problem list also excludes the visit."""
    chart = hf_chart()
    chart.condition((TRANSPLANT_REJECTION,), category="problem-list-item", onset="2024-02-01")
    case = only_case(HF, chart)
    assert (case.in_denominator, case.excluded) == (True, True)
    assert "T86.21" in case.exclusion_reason
