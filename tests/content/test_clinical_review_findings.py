"""The clinical reviewer's findings of 2026-12-07 stay fixed in the shipped content."""

from __future__ import annotations

from functools import cache

import pytest

from app.library.loader import load_library
from app.library.measure_definitions import load_measures
from app.settings import REPO_ROOT

CONTENT = REPO_ROOT / "content"
SEPSIS_VALUE_SET = "https://fhir.bedside.example/ValueSet/sepsis"


@cache
def modules() -> dict:
    """The shipped modules, by id."""
    return load_library(CONTENT).modules


def question(module_id: str, question_id: str) -> dict:
    """One case question of a shipped module."""
    return next(q for q in modules()[module_id]["case"]["questions"] if q["id"] == question_id)


def lines_about(text: str, topic: str) -> list[str]:
    """The lines of a text that mention the topic."""
    return [line for line in text.splitlines() if topic in line]


def test_a_ppsv23_only_adult_completes_the_series_with_one_pcv_and_pcv15_needs_no_ppsv23():
    module = modules()["pneumococcal-vaccination-adults"]
    rationale = question("pneumococcal-vaccination-adults", "q3")["rationale"]
    assert "would need another PPSV23" not in rationale["en"]
    assert "PCV15 given at least 1 year after the PPSV23 would also complete" in rationale["en"]
    assert (
        "VNC15 administrada al menos 1 año después de la PPSV23 también completaría"
        in (rationale["es"])
    )
    for text, topic, options in (
        (module["card"]["detail"]["en"], "PPSV23 only:", "PCV15, PCV20 or PCV21"),
        (module["guideline"]["summary"]["en"], "PPSV23 only:", "PCV15, PCV20 or PCV21"),
        (module["card"]["detail"]["es"], "Solo PPSV23:", "VNC15, VNC20 o VNC21"),
        (module["guideline"]["summary"]["es"], "Solo PPSV23:", "VNC15, VNC20 o VNC21"),
    ):
        assert [options in line for line in lines_about(text, topic)] == [True], text
    lymphoma = question("pneumococcal-vaccination-adults", "q4")["stem"]
    assert "never had a pneumococcal vaccine" in lymphoma["en"]  # q3's PPSV23 is not his history
    assert "nunca había recibido una vacuna antineumocócica" in lymphoma["es"]


@pytest.mark.parametrize(
    ("module_id", "condition_en", "condition_es"),
    [
        ("copd-inhaled-therapy", "if not already on a LAMA", "si aún no toma un LAMA"),
        ("asthma-no-saba-only", "if not already on an ICS", "si aún no usa un CI"),
    ],
)
def test_a_suggestion_never_adds_a_drug_the_patient_may_take_unrecognized(
    module_id, condition_en, condition_es
):
    for suggestion in modules()[module_id]["card"]["suggestions"]:
        assert suggestion["label"]["en"].endswith(condition_en)
        assert suggestion["label"]["es"].endswith(condition_es)


def test_the_spanish_penicillin_summary_says_most_labels_are_not_allergy_as_the_english_does():
    summary = modules()["penicillin-allergy-evaluation"]["card"]["summary"]
    assert "most labels are not true allergy" in summary["en"]
    assert "casi nunca" not in summary["es"]
    assert (
        "la mayoría de etiquetas no son alergia real. Estratifique el riesgo y retire la etiqueta."
        in (summary["es"])
    )


def test_the_sepsis_notes_name_ssc_2021_only_under_the_history_label():
    module = modules()["sepsis-hour-1-bundle"]
    current, label, history = module["notes"].partition("History of earlier versions")
    assert module["version"] == "2.0.0" and label
    assert "SSC 2021" not in current and "SSC 2021" in history
    assert "Recommendation numbers follow" not in module["notes"]


def test_the_sepsis_measure_says_how_its_population_and_comfort_window_differ_from_sep1():
    measure = load_measures(CONTENT)["sepsis-3h-bundle"]
    differences = measure.document["source"]["differences"]
    assert any("severe sepsis or septic shock" in d and "A41.9" in d for d in differences)
    assert any(d.startswith("Comfort care:") and "24 hours before" in d for d in differences)
    assert measure.criteria["sepsis"]["value_sets"] == [SEPSIS_VALUE_SET]
    assert measure.criteria["exclusions"]["comfort_care"]["hours_before"] == 24


@pytest.mark.parametrize(
    ("module_id", "successor"),
    [
        ("inpatient-basal-bolus-insulin", "2026 editions of Section 16"),
        ("asthma-no-saba-only", "GINA 2026"),
        ("copd-inhaled-therapy", "GOLD 2026"),
    ],
)
def test_a_module_behind_a_published_successor_says_it_is_not_yet_checked(module_id, successor):
    watch = modules()[module_id]["editorial"]["guideline_watch"]
    assert successor in watch["watch_for"]
    assert "NOT yet checked" in watch["watch_for"]


@pytest.mark.parametrize(
    "module_id", ["pneumococcal-vaccination-adults", "copd-inhaled-therapy", "asthma-no-saba-only"]
)
def test_a_changed_teaching_point_is_a_new_draft_version_with_its_changelog_entry(module_id):
    module = modules()[module_id]
    editorial = module["editorial"]
    assert module["version"] == "1.1.0"
    assert editorial["changelog"][-1]["version"] == module["version"]
    assert editorial["status"] == "draft" and editorial["reviewers"] == []
    assert module["source_attributes"]["released"] == editorial["changelog"][-1]["date"]
