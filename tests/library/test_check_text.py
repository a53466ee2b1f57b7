"""The checker on text: summary templating, Markdown, links, brand names, translations."""

from __future__ import annotations

import pytest

from tests.library.helpers import (
    MODULE_FILE,
    assert_fails,
    finding_at,
    good_module,
    good_value_sets,
    listing,
    run_check,
)

# 4. summary


def summary_of_length(length: int) -> str:
    """An English summary that is `length` characters long after templating the good module."""
    base = "Lactate {lactate} with {sepsis}: "  # {lactate} → 9999.9 mmol/L; {sepsis} → 28 chars
    filled = len("Lactate 9999.9 mmol/L with Sepsis, unspecified organism: ")
    return base + "x" * (length - filled)


@pytest.mark.parametrize(("length", "ok"), [(139, True), (140, False), (141, False)])
def test_summary_length_after_templating(tmp_path, length, ok):
    module = good_module()
    module["card"]["summary"]["en"] = summary_of_length(length)
    report = run_check(tmp_path, module)
    assert report.ok == ok, listing(report)
    if not ok:
        finding = finding_at(report, MODULE_FILE, "card.summary.en", f"{length} characters")
        assert "(limit 139;" in finding.message
        assert "shorten it" in finding.message


def test_summary_placeholder_not_bound_in_all_of(tmp_path):
    module = good_module()
    module["card"]["summary"]["es"] = "Lactato {lactato} con {sepsis}"
    report = run_check(tmp_path, module)
    finding = assert_fails(report, MODULE_FILE, "card.summary.es", "{lactato}")
    assert "bound: lactate, sepsis" in finding.message


def test_summary_placeholder_bound_only_in_none_of(tmp_path):
    module = good_module()
    module["triggers"]["none_of"] = [
        {"condition": {"value_set": "https://fhir.bedside.example/ValueSet/sepsis", "as": "old"}}
    ]
    module["card"]["summary"]["en"] = "Lactate {lactate} with {old}"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "card.summary.en", "bound in triggers.none_of, not all_of")


# 5, 6. Markdown and links


def test_raw_html_in_detail(tmp_path):
    module = good_module()
    module["card"]["detail"]["en"] += '\n<div onclick="x()">Click</div>\n'
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "card.detail.en", "raw HTML is not allowed (<div")


def test_html_inside_code_is_not_raw_html(tmp_path):
    module = good_module()
    module["card"]["detail"]["en"] += "\nType `<b>` to bold.\n"
    module["card"]["detail"]["es"] += "\nEscriba `<b>` para negrita.\n"
    report = run_check(tmp_path, module)
    assert report.ok, listing(report)


def test_http_link_in_markdown(tmp_path):
    module = good_module()
    module["case"]["vignette"]["es"] += " Ver [guía](http://example.org/guia)."
    report = run_check(tmp_path, module)
    finding = assert_fails(report, MODULE_FILE, "case.vignette.es", "uses http")
    assert "https://example.org/guia" in finding.message


def test_relative_link_and_http_reference(tmp_path):
    module = good_module()
    module["guideline"]["summary"]["en"] += " [more](/guidelines/sepsis)"
    module["case"]["questions"][1]["reference"] += " http://pubmed.example/1."
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "guideline.summary.en", "not an absolute https URL")
    finding_at(report, MODULE_FILE, "case.questions[1].reference", "http://pubmed.example/1 uses")


def test_guideline_url_must_be_https(tmp_path):
    module = good_module()
    module["guideline"]["url"] = "http://doi.org/10.1097/CCM.0000000000005337"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "guideline.url", "uses http")


# 8. brand names


def test_brand_name_in_a_rationale(tmp_path):
    module = good_module()
    module["case"]["questions"][0]["rationale"]["en"] = "Cultures before AUGMENTIN grow more."
    report = run_check(tmp_path, module)
    finding = assert_fails(report, MODULE_FILE, "case.questions[0].rationale.en", "'Augmentin'")
    assert "use the generic name (amoxicillin-clavulanate)" in finding.message


def test_brand_names_in_spanish_and_in_suggestions(tmp_path):
    module = good_module()
    module["card"]["suggestions"][0]["label"]["es"] = "Antes del Zithromax o Z-Pak"
    module["card"]["suggestions"][0]["actions"][0]["resource"]["note"] = [{"text": "not Rocephin"}]
    report = run_check(tmp_path, module)
    finding_at(report, MODULE_FILE, "card.suggestions[0].label.es", "'Zithromax'")
    finding_at(report, MODULE_FILE, "card.suggestions[0].label.es", "'Z-Pak'")
    field = "card.suggestions[0].actions[0].resource.note[0].text"
    finding_at(report, MODULE_FILE, field, "'Rocephin'")


def test_brand_names_match_whole_words_only(tmp_path):
    module = good_module()
    module["card"]["detail"]["en"] += "\nAugmenting fluids helps; Lasix-style diuresis does not.\n"
    report = run_check(tmp_path, module)
    assert [f.message for f in report.findings if "brand" in f.message] == [
        "brand name 'Lasix'; use the generic name (furosemide) (ACCME: generic names only)."
    ]


# 10. translations


def test_missing_spanish_field(tmp_path):
    module = good_module()
    del module["card"]["override_reasons"][0]["display"]["es"]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "card.override_reasons[0].display.es", "es text is missing")


def test_text_in_a_language_the_module_does_not_declare(tmp_path):
    module = good_module()
    module["languages"] = ["en"]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "title.es", "not in the module's languages")


def test_markdown_structure_mismatch_is_a_warning(tmp_path):
    module = good_module()
    module["card"]["detail"]["es"] = "**Mida el lactato** y extraiga hemocultivos."
    report = run_check(tmp_path, module)
    assert report.ok, listing(report)
    finding_at(report, MODULE_FILE, "card.detail.es", "structure differs", "warning")


def test_brand_name_displays_that_can_reach_the_summary_are_a_warning(tmp_path):
    sepsis, lactate = good_value_sets()
    sepsis["compose"]["include"][0]["concept"][0]["display"] = "Sepsis (Zosyn-treated)"
    report = run_check(tmp_path, value_sets=[sepsis, lactate])
    assert report.ok, listing(report)
    field = "triggers.all_of[0].condition.value_set"
    finding = finding_at(report, MODULE_FILE, field, "name brands (Zosyn)", "warning")
    assert "{sepsis}" in finding.message
