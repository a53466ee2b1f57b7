"""The checker on French: a known language, whole or absent, and an honest translation record."""

from __future__ import annotations

from datetime import date

import pytest

from app.library.check import check_library
from app.library.findings import translatable_texts
from app.library.loader import load_library
from app.settings import REPO_ROOT
from tests.library.helpers import MODULE_FILE, assert_fails, good_module, listing, run_check
from tests.library.test_check_editorial import REVIEWER, approved_module

FRENCH_MODULES = (
    "sepsis-hour-1-bundle",
    "uri-antibiotics-adults",
    "hfref-gdmt",
    "af-anticoagulation",
    "metformin-egfr",
    "hypertension-control",
    "cap-adults-outpatient",
    "penicillin-allergy-evaluation",
)
AI_TRANSLATED = {"method": "ai-assisted", "date": "2026-02-20", "reviewed_by": None}


def in_french(module: dict) -> dict:
    """The module with a French entry in every translatable text (the Spanish stands in for it)."""
    module["languages"] = ["en", "es", "fr"]
    for _, texts in translatable_texts(module):
        texts["fr"] = texts["es"]
    module["editorial"]["translations"] = {"fr": dict(AI_TRANSLATED)}
    return module


def test_a_module_wholly_in_french_passes(tmp_path):
    report = run_check(tmp_path, in_french(good_module()))
    assert report.ok and report.count("warning") == 0, listing(report)


def test_a_module_without_french_passes(tmp_path):
    module = good_module()
    assert "fr" not in module["languages"]
    assert run_check(tmp_path, module).ok


def test_a_half_translated_module_is_an_error(tmp_path):
    module = in_french(good_module())
    del module["case"]["questions"][0]["options"][1]["text"]["fr"]
    report = run_check(tmp_path, module)
    field = "case.questions[0].options[1].text.fr"
    assert_fails(report, MODULE_FILE, field, "fr text is missing")


def test_french_text_in_a_module_that_does_not_declare_french_is_an_error(tmp_path):
    module = good_module()
    module["title"]["fr"] = "Sepsis : les lactates"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "title.fr", "not in the module's languages")


def test_an_empty_french_text_is_an_error(tmp_path):
    module = in_french(good_module())
    module["case"]["vignette"]["fr"] = "  "
    assert not run_check(tmp_path, module).ok


def test_a_language_bedside_does_not_know_fails_the_schema(tmp_path):
    module = good_module()
    module["languages"] = ["en", "es", "de"]
    assert not run_check(tmp_path, module).ok


def test_a_recorded_translation_the_module_does_not_have_is_an_error(tmp_path):
    module = good_module()
    module["editorial"]["translations"] = {"fr": dict(AI_TRANSLATED)}
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "editorial.translations.fr", "languages do not list")


def test_a_translation_review_by_someone_not_listed_is_an_error(tmp_path):
    module = in_french(good_module())
    module["editorial"]["translations"]["fr"]["reviewed_by"] = "C. Traductrice, MD"
    report = run_check(tmp_path, module)
    field = "editorial.translations.fr.reviewed_by"
    assert_fails(report, MODULE_FILE, field, "not among editorial.reviewers")


def test_an_approved_module_needs_its_ai_translation_checked_by_a_listed_reviewer(tmp_path):
    module = in_french(approved_module())
    report = run_check(tmp_path, module)
    field = "editorial.translations.fr.reviewed_by"
    assert_fails(report, MODULE_FILE, field, "AI-assisted fr translation")
    module["editorial"]["translations"]["fr"]["reviewed_by"] = REVIEWER["name"]
    assert run_check(tmp_path / "reviewed", module).ok


@pytest.mark.parametrize("method", ["machine", None])
def test_a_translation_record_says_how_it_was_made(tmp_path, method):
    module = in_french(good_module())
    module["editorial"]["translations"]["fr"]["method"] = method
    assert not run_check(tmp_path, module).ok


def test_eight_shipped_modules_are_wholly_french_and_say_the_translation_is_unreviewed():
    modules = load_library(REPO_ROOT / "content").modules
    for module_id in FRENCH_MODULES:
        module = modules[module_id]
        assert "fr" in module["languages"], module_id
        texts = list(translatable_texts(module))
        assert len(texts) > 30, module_id
        assert all(text.get("fr", "").strip() for _, text in texts), module_id
        made = module["editorial"]["translations"]["fr"]
        assert made == {"method": "ai-assisted", "date": "2026-12-06", "reviewed_by": None}
        assert "French translation" in module["editorial"]["ai_assistance"]["scope"]


def test_the_shipped_library_passes_the_check_with_french():
    report = check_library(REPO_ROOT / "content", today=date(2026, 12, 6))
    assert report.ok and report.count("warning") == 0, listing(report)
