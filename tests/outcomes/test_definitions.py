"""Measure definitions are data: schema-valid YAML whose value sets and modules exist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from app.library.codes import code_problem
from app.library.measure_definitions import MeasureError, load_measure_value_sets, load_measures
from app.outcomes.measures import EVALUATORS
from tests.outcomes.charts import CONTENT_DIR, measures

MEASURE_VALUE_SETS = sorted((CONTENT_DIR / "measures" / "valuesets").glob("*.json"))


def test_the_five_measures_load():
    """Two respiratory measures, pharyngitis testing, sepsis and HFrEF, all Moore level 5."""
    loaded = measures()
    assert sorted(loaded) == [
        "bronchitis-antibiotic-avoidance",
        "hfref-beta-blocker",
        "pharyngitis-strep-testing",
        "sepsis-3h-bundle",
        "uri-appropriate-treatment",
    ]
    for measure in loaded.values():
        assert measure.kind in EVALUATORS
        assert measure.moore_level == 5
        assert measure.higher_is_better
        assert set(measure.title) == {"en", "es"}


def test_linked_modules_exist():
    """Every module a measure links to is a content module."""
    module_ids = {path.stem for path in (CONTENT_DIR / "modules").glob("*.yaml")}
    for measure in measures().values():
        assert set(measure.modules) <= module_ids, measure.id


def test_value_sets_resolve_to_codes():
    """codes() unions the listed value sets."""
    uri = measures()["uri-appropriate-treatment"]
    competing = uri.codes("competing_diagnosis")
    assert ("http://hl7.org/fhir/sid/icd-10-cm", "J02.9") in competing  # measure-only set
    assert ("http://hl7.org/fhir/sid/icd-10-cm", "J02.0") in competing  # Bedside set


def test_every_code_union_is_built_once_and_nested_paths_resolve():
    """The measures call codes() per encounter: the union is made once and is the exact union."""
    sepsis = measures()["sepsis-3h-bundle"]
    for keys in (("antibiotic",), ("antibiotic", "route"), ("exclusions", "comfort_care")):
        section = sepsis.criteria
        for key in keys:
            section = section[key]
        union = frozenset().union(*(sepsis.value_sets[url] for url in section["value_sets"]))
        assert sepsis.codes(*keys) == union and union
        assert sepsis.codes(*keys) is sepsis.codes(*keys)
    with pytest.raises(KeyError):
        sepsis.codes("no-such-criterion")


@pytest.mark.parametrize("path", MEASURE_VALUE_SETS, ids=[p.name for p in MEASURE_VALUE_SETS])
def test_measure_only_value_sets_hold_valid_billable_codes(path):
    """Bedside URLs, a provenance description, and codes that pass the library's code checks."""
    resource = json.loads(path.read_text(encoding="utf-8"))
    assert resource["url"] == f"https://fhir.bedside.example/ValueSet/{path.stem}"
    assert "eCQM" in resource["description"]
    for include in resource["compose"]["include"]:
        for concept in include["concept"]:
            assert code_problem(include["system"], concept["code"]) is None, concept


def test_measure_value_set_urls_do_not_collide_with_bedside_ones():
    """The two value set folders load together without duplicate URLs."""
    assert len(load_measure_value_sets(CONTENT_DIR)) == len(
        list((CONTENT_DIR / "valuesets").glob("*.json"))
    ) + len(MEASURE_VALUE_SETS)


@pytest.fixture
def content_copy(tmp_path) -> Path:
    """A writable copy of the content folder's value sets and measures."""
    for folder in ("valuesets", "measures"):
        shutil.copytree(CONTENT_DIR / folder, tmp_path / folder)
    return tmp_path


def rewrite(path: Path, change) -> None:
    """Load a YAML file, change it, write it back."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["criteria"]["antibiotic"].pop("window_hours_after_start"), "window_hours"),
        (lambda d: d.update(direction="sideways"), "direction"),
        (lambda d: d["criteria"]["diagnosis"].update(value_sets=["https://x.example/VS"]), "x.ex"),
        (lambda d: d.update(id="other-id"), "must match the file name"),
        (lambda d: d["title"].pop("es"), "es"),
    ],
    ids=["missing-window", "bad-direction", "unknown-value-set", "id-mismatch", "no-spanish"],
)
def test_bad_measures_are_rejected_with_the_file_named(content_copy, change, message):
    """Schema, value-set and id problems raise MeasureError naming the file."""
    path = content_copy / "measures" / "uri-appropriate-treatment.yaml"
    rewrite(path, change)
    with pytest.raises(MeasureError) as error:
        load_measures(content_copy)
    assert "uri-appropriate-treatment.yaml" in str(error.value)
    assert message in str(error.value)


def test_sepsis_criteria_are_checked_by_kind(content_copy):
    """A sepsis measure without its lactate rules does not load."""
    path = content_copy / "measures" / "sepsis-3h-bundle.yaml"
    rewrite(path, lambda d: d["criteria"].pop("lactate"))
    with pytest.raises(MeasureError, match="lactate"):
        load_measures(content_copy)
