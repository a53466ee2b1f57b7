"""ACCME PARS batch: exact columns, consenting learners only, point-of-care aggregated."""

from __future__ import annotations

from app.ledger.models import ReportingIdentity
from app.ledger.outputs.pars import COLUMNS, pars_batch

HEADER = (
    "Board ID\tState License ID\tLicense State\tFirst Name\tLast Name\tBirth MM/DD\t"
    "Activity ID\tCompletion Date\tCredit Type\tCredit Amount\tConsent to Share"
)


def lines_of(batch) -> list[str]:
    """The batch's lines, header first."""
    return batch.text.rstrip("\n").split("\n")


def test_the_header_is_exact(store, world):
    batch = pars_batch(store, store.iter_chain())
    assert lines_of(batch)[0] == HEADER == "\t".join(COLUMNS)
    assert batch.text.endswith("\n")


def test_a_case_row_is_exact(store, world):
    rows = lines_of(pars_batch(store, store.iter_chain()))[1:]
    assert rows[0] == (
        "ABIM-123456\t\t\tAlice\tNg\t04/17\tcase:af-anticoagulation@1.2.0\t03/10/2026\t"
        "AMA PRA Category 1 Credit\t0.25\tY"
    )
    assert rows[1].endswith(
        "case:af-anticoagulation@1.2.0\t03/10/2026\tAAFP Prescribed Credit\t0.25\tY"
    )


def test_only_consenting_learners_with_an_identifier_are_written(store, world):
    batch = pars_batch(store, store.iter_chain())
    assert (batch.learners, batch.skipped_no_consent, batch.skipped_no_identifier) == (2, 1, 1)
    assert batch.summary() == (
        "6 PARS lines for 2 learners; 1 learner skipped: no consent to share; "
        "1 learner skipped: no board or licence ID."
    )
    names = {line.split("\t")[3] for line in lines_of(batch)[1:]}
    assert names == {"Alice", "Bob"}
    bob = [line for line in lines_of(batch) if "\tBob\t" in line]
    assert all(line.startswith("\tMD-98765\tOR\tBob\tOkoro\t09/02\t") for line in bob)


def test_a_learner_without_a_month_day_of_birth_is_skipped_and_counted(store, world):
    without_birth_day = ReportingIdentity("Carol", "Li", licence_state="WA", licence_id="MD-1")
    store.set_reporting_identity(world.learners["carol"], without_birth_day)
    batch = pars_batch(store, store.iter_chain())
    assert "Carol" not in batch.text
    assert (batch.learners, batch.skipped_no_consent, batch.skipped_no_birth_day) == (2, 0, 1)
    assert batch.summary() == (
        "6 PARS lines for 2 learners; 1 learner skipped: no board or licence ID; "
        "1 learner skipped: no month/day of birth (PARS requires it)."
    )


def test_withdrawn_consent_removes_the_learner(store, world):
    store.withdraw_reporting_consent(world.learners["alice"])
    batch = pars_batch(store, store.iter_chain())
    assert "Alice" not in batch.text and batch.skipped_no_consent == 2


def test_reversed_credit_is_not_reported(store, world):
    text = pars_batch(store, store.iter_chain()).text
    assert "sepsis-hour-1-bundle" not in text  # alice's only sepsis case credit was reversed


def test_point_of_care_cycles_are_one_activity_per_learner_and_period(store, world):
    rows = [line.split("\t") for line in lines_of(pars_batch(store, store.iter_chain()))[1:]]
    poc = [row for row in rows if row[6] == "bedside-internet-poc"]
    assert [(row[3], row[8], row[9]) for row in poc] == [
        ("Alice", "AMA PRA Category 1 Credit", "1.50"),
        ("Bob", "AMA PRA Category 1 Credit", "0.50"),
    ]
    assert poc[0][7] == "03/10/2026"


def test_cycles_can_be_listed_separately_and_activity_ids_mapped(store, world):
    batch = pars_batch(
        store,
        store.iter_chain(),
        aggregate_poc=False,
        activity_ids={"af-anticoagulation": "202612345"},
    )
    rows = [line.split("\t") for line in lines_of(batch)[1:]]
    alice_poc = [row for row in rows if row[3] == "Alice" and row[6].startswith("poc:")]
    assert [row[9] for row in alice_poc] == ["0.50", "0.50", "0.50"]
    assert any(row[6] == "202612345" for row in rows)


def test_tabs_and_newlines_in_names_cannot_break_the_file(store, world):
    store.set_reporting_identity(
        world.learners["carol"],
        ReportingIdentity("Ca\trol", "Li\nu", board_id="B1", birth_month_day="01/31"),
    )
    batch = pars_batch(store, store.iter_chain())
    assert all(len(line.split("\t")) == len(COLUMNS) for line in lines_of(batch))
    assert "\tCa rol\tLi u\t" in batch.text
