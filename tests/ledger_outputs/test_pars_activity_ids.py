"""The provider's registered PARS activity IDs: read from settings, written, the others named."""

from __future__ import annotations

import json

import pytest

from app.ledger.outputs.exporting import ExportContext, export
from app.ledger.outputs.pars import pars_batch
from app.ledger.outputs.settings import output_settings
from tests.ledger_outputs.world import modules

AF_CASE = f"case:af-anticoagulation@{modules()['af-anticoagulation']['version']}"
CAP_CASE = f"case:cap-adults-outpatient@{modules()['cap-adults-outpatient']['version']}"


def ids_file(tmp_path, ids: object) -> str:
    """Write a PARS activity IDs file and return its path."""
    path = tmp_path / "pars-activity-ids.json"
    path.write_text(json.dumps(ids), encoding="utf-8")
    return str(path)


def rows_of(batch) -> list[list[str]]:
    """The batch's lines after the header, split into fields."""
    return [line.split("\t") for line in batch.text.rstrip("\n").split("\n")[1:]]


def test_the_settings_read_the_registered_ids_from_a_json_file(tmp_path):
    ids = {"af-anticoagulation": "202612345", "poc:sepsis-hour-1-bundle": "202699999"}
    settings = output_settings({"PARS_ACTIVITY_IDS": ids_file(tmp_path, ids)})
    assert settings.pars_activity_ids == ids
    assert output_settings({}).pars_activity_ids == {}


def test_registered_case_lines_carry_the_id_and_the_summary_names_the_others(
    store, world, tmp_path
):
    settings = output_settings(
        {"PARS_ACTIVITY_IDS": ids_file(tmp_path, {"af-anticoagulation": "202612345"})}
    )
    batch = pars_batch(store, store.iter_chain(), activity_ids=settings.pars_activity_ids)
    alice_cases = [
        row for row in rows_of(batch) if row[3] == "Alice" and row[6] != "bedside-internet-poc"
    ]
    assert [row[6] for row in alice_cases] == ["202612345", "202612345"]  # AMA and AAFP lines
    assert AF_CASE not in batch.text
    assert batch.unregistered == ("bedside-internet-poc", CAP_CASE)
    assert batch.summary().endswith(
        f"; no registered PARS activity ID for bedside-internet-poc, {CAP_CASE} "
        "(Bedside's ID written)."
    )


def test_with_every_activity_registered_the_summary_names_none(store, world):
    ids = {"af-anticoagulation": "202612345", "cap-adults-outpatient": "202612346"}
    batch = pars_batch(store, store.iter_chain(), poc_activity_id="202600001", activity_ids=ids)
    assert batch.unregistered == () and "registered" not in batch.summary()


def test_point_of_care_lines_take_the_poc_id_of_their_module_never_the_case_s(store, world):
    ids = {"sepsis-hour-1-bundle": "CASE-ID", "poc:metformin-egfr": "POC-ID"}
    batch = pars_batch(store, store.iter_chain(), aggregate_poc=False, activity_ids=ids)
    alice = {row[6] for row in rows_of(batch) if row[3] == "Alice"}
    assert "POC-ID" in alice
    assert "CASE-ID" not in batch.text  # her sepsis case was reversed; her sepsis cycle is no case
    assert any(activity.startswith("poc:sepsis-hour-1-bundle@") for activity in alice)


@pytest.mark.parametrize(
    ("ids", "fault"),
    [
        ({"af-anticoagulation": "2026\t12345"}, "with a tab or line break"),
        ({"af-anticoagulation": "9" * 101}, "longer than 100 characters"),
        ({"af-anticoagulation": 202612345}, "non-empty texts"),
    ],
)
def test_an_ids_file_bedside_cannot_use_is_refused_in_one_sentence(tmp_path, ids, fault):
    with pytest.raises(ValueError, match="BEDSIDE_PARS_ACTIVITY_IDS") as refused:
        output_settings({"PARS_ACTIVITY_IDS": ids_file(tmp_path, ids)})
    assert fault in str(refused.value)


def test_the_pars_export_uses_the_registered_ids_from_its_settings(store, world, tmp_path):
    settings = output_settings(
        {"PARS_ACTIVITY_IDS": ids_file(tmp_path, {"af-anticoagulation": "202612345"})}
    )
    result = export("pars", list(store.iter_chain()), ExportContext(store, settings, modules()))
    assert "\t202612345\t" in result.text and AF_CASE not in result.text
    assert CAP_CASE in result.note
