"""The ingest leaves out what no measure reads (vital signs, routine labs) and no case changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.devtools.synthetic.replicate import replicate_export
from app.devtools.synthetic.routine import ROUTINE_TESTS, add_routine_data
from app.outcomes import ingest_ndjson, parallel
from app.outcomes.measures import evaluate_patients, value_set_gate
from tests.outcomes.charts import measures
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import write_ndjson

PER_PATIENT = 4


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> tuple[Path, Path, int]:
    """The synthetic export twice over (medicines shared), and a copy with routine results added."""
    root = tmp_path_factory.mktemp("gate")
    replicate_export(write_ndjson(root / "export"), 2, root / "plain")
    shutil.copytree(root / "plain", root / "routine")
    added = add_routine_data(root / "routine", PER_PATIENT)
    return root / "plain", root / "routine", added


def ungated_cases(export: Path) -> list:
    """Every case of an export read whole, with no resource left out."""
    groups = ingest_ndjson.patient_groups(export)
    return list(evaluate_patients(measures().values(), groups, as_of=dataset().as_of))


def test_routine_codes_are_in_no_value_set_of_any_measure():
    """Otherwise the routine results would be data a measure reads, and prove nothing here."""
    gate = value_set_gate(measures().values())
    routine = {("http://loinc.org", code) for code, *_ in ROUTINE_TESTS}
    assert routine.isdisjoint(gate.codes)
    assert ("http://loinc.org", "10230-1") in gate.codes  # LVEF: a LOINC code a measure reads


def test_exactly_the_routine_results_are_left_out_of_the_spool(exports):
    """Each added Observation is counted out, and the spool keeps what it kept without them."""
    plain, routine, added = exports
    gate = value_set_gate(measures().values())
    with ingest_ndjson.spooled(plain) as spool:
        ungated_plain = sum(len(group) for group in spool.groups())
    with ingest_ndjson.spooled(plain, admits=gate.admits) as spool:
        kept_plain = sum(len(group) for group in spool.groups())
        left_out_plain = spool.left_out  # the dataset's own few conditions no measure reads
    assert kept_plain + left_out_plain == ungated_plain
    with ingest_ndjson.spooled(routine, admits=gate.admits) as spool:
        kept_routine = sum(len(group) for group in spool.groups())
        left_out_routine = spool.left_out
    assert added == PER_PATIENT * len(dataset().patients) * 2
    assert left_out_routine - left_out_plain == added
    assert kept_routine == kept_plain


def test_leaving_routine_results_out_changes_no_case_with_one_or_two_workers(exports):
    """Every case (fields, reasons, elements) equals those of the plain export read whole."""
    plain, routine, _ = exports
    expected = ungated_cases(plain)
    assert len(expected) > 1000
    assert ungated_cases(routine) == expected
    for workers in (1, 2):
        gated = parallel.evaluate_export(
            measures().values(), routine, as_of=dataset().as_of, workers=workers
        )
        assert gated == expected
