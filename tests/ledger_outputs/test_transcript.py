"""Transcripts: every record with its title and chain anchor, reversals shown and netted."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from app.ledger.outputs.transcript import CSV_COLUMNS, transcript, transcript_csv
from tests.ledger.helpers import T0
from tests.ledger_outputs.world import modules


def test_totals_net_the_reversal(store, world):
    t = transcript(store, world.learners["alice"], library=modules())
    assert t.totals == {"aafp-prescribed": Decimal("0.25"), "ama-pra-category-1": Decimal("1.75")}
    assert [row.record.kind for row in t.rows].count("reversal") == 1


def test_rows_carry_title_type_amount_and_chain_anchor(store, world):
    t = transcript(store, world.learners["alice"], library=modules())
    first = t.rows[0]
    assert first.title.startswith("Atrial fibrillation: stroke prevention")
    assert first.activity_label == "Case"
    assert first.credit_label == "AMA PRA Category 1 Credit™"
    assert first.amount == Decimal("0.25")
    assert first.record.sequence == world.sequences["alice-af"][0]
    assert len(first.hash_prefix) == 12 and first.record.record_hash.startswith(first.hash_prefix)
    poc = [row for row in t.rows if row.record.activity_type == "poc"]
    assert {row.activity_label for row in poc} == {"Point-of-care learning"}
    assert {row.amount for row in poc} == {Decimal("0.50")}


def test_the_reversal_and_the_reversed_credit_point_at_each_other(store, world):
    t = transcript(store, world.learners["alice"], library=modules())
    (reversal,) = [row for row in t.rows if row.is_reversal]
    (reversed_row,) = [row for row in t.rows if row.reversed_by is not None]
    assert reversal.amount == Decimal("-0.25")
    assert reversal.record.reverses == reversed_row.record.sequence
    assert reversed_row.reversed_by == reversal.record.sequence
    assert reversal.record.reason == "claimed twice by mistake"


def test_the_period_limits_the_records(store, world):
    everything = transcript(store, world.learners["alice"], library=modules())
    cases_only = transcript(
        store, world.learners["alice"], end=T0 + timedelta(hours=1), library=modules()
    )
    assert len(cases_only.rows) < len(everything.rows)
    assert all(row.record.activity_type == "case" for row in cases_only.rows)
    assert cases_only.totals["ama-pra-category-1"] == Decimal("0.25")  # sepsis credit reversed


def test_titles_follow_the_learners_language(store, world):
    bob = transcript(store, world.learners["bob"], library=modules())
    assert bob.language == "es"
    assert bob.rows[0].activity_label == "Caso"
    assert bob.rows[0].title == modules()["cap-adults-outpatient"]["title"]["es"]
    english = transcript(store, world.learners["bob"], library=modules(), language="en")
    assert english.rows[0].title == modules()["cap-adults-outpatient"]["title"]["en"]


def test_unknown_modules_fall_back_to_the_activity_key(store, world):
    t = transcript(store, world.learners["alice"], library={})
    assert t.rows[0].title == "case:af-anticoagulation@1.2.0"


def test_a_name_only_when_the_learner_agreed_to_print_one(store, world):
    alice = transcript(store, world.learners["alice"])
    carol = transcript(store, world.learners["carol"])
    assert alice.learner_name.line == "Alice Ng"
    assert carol.learner_name is None


def test_the_printed_name_carries_credentials_npi_and_licence(store, world):
    bob = world.learners["bob"]
    identity = store.reporting_identity(bob)
    store.set_reporting_identity(bob, replace(identity, credentials="MD", npi="1234567893"))
    name = transcript(store, bob).learner_name
    assert name.line == "Bob Okoro, MD"
    assert (name.npi, name.licence) == ("1234567893", "OR MD-98765")


def test_an_npi_with_a_wrong_check_digit_is_refused(store, world):
    identity = store.reporting_identity(world.learners["bob"])
    with pytest.raises(ValueError, match="NPI"):
        store.set_reporting_identity(world.learners["bob"], replace(identity, npi="1234567890"))


def test_csv_has_the_documented_header_and_one_row_per_record(store, world):
    t = transcript(store, world.learners["alice"], library=modules())
    rows = list(csv.reader(io.StringIO(transcript_csv(t))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + len(t.rows)
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["learner_id"] == world.learners["alice"]
    assert first["date"] == "2026-03-10"
    assert first["activity_type"] == "case" and first["module_id"] == "af-anticoagulation"
    assert first["amount"] == "0.25" and first["kind"] == "credit"
    assert first["record_hash"] == t.rows[0].record.record_hash
    reversal = dict(zip(CSV_COLUMNS, rows[-1], strict=True))
    assert reversal["amount"] == "-0.25" and reversal["reverses"]


def test_csv_cells_never_start_a_formula(store, world, clock):
    sequence = world.sequences["bob-cap"][0]
    store.append_reversal(sequence, "=HYPERLINK(1)", "undo-formula")
    t = transcript(store, world.learners["bob"], library=modules())
    assert "'=HYPERLINK(1)" in transcript_csv(t)
