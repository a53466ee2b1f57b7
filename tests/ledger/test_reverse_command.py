"""`bedside ledger reverse`: an operator cancels wrongly granted credit with a reversal."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.ledger.ledger_commands import reverse
from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from tests.ledger.folders import folder_sentence, unwritable
from tests.ledger.helpers import fill

REASON = "granted for the wrong module version"


@pytest.fixture
def ledger(tmp_path):
    """Four records: credits #1-#3 and #4, the reversal of #1."""
    path = tmp_path / "ledger.db"
    fill(path, count=3)
    return path


def run_reverse(ledger, record: str, reason: str = REASON):
    """Run `bedside ledger reverse` on the ledger file."""
    return CliRunner().invoke(
        reverse, ["--database", str(ledger), "--record", record, "--reason", reason]
    )


def chain(ledger) -> list:
    """Every record of the ledger, checked by a walk of the chain."""
    store = SqlLedgerStore(ledger_database(ledger), None, migrate=False)
    try:
        assert verify_chain(store).ok
        return list(store.iter_chain())
    finally:
        store.close()


def assert_refused(result, exit_code: int, sentence: str, ledger) -> None:
    """The command printed exactly this `Error:` sentence, exited so, and appended nothing."""
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    assert result.output == f"Error: {sentence}\n"
    assert len(chain(ledger)) == 4


def test_reverse_appends_a_reversal_and_says_what_it_appended(ledger):
    result = run_reverse(ledger, "2")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Appended record #5: the reversal of record #2 (-0.50 ama-pra-category-1), "
        f"reason: {REASON}\n"
    )
    credit, reversal = chain(ledger)[1], chain(ledger)[4]
    assert (reversal.kind, reversal.reverses, reversal.reason) == ("reversal", 2, REASON)
    assert reversal.amount_hundredths == -credit.amount_hundredths
    assert reversal.learner_id == credit.learner_id


def test_reverse_refuses_a_record_that_does_not_exist(ledger):
    assert_refused(run_reverse(ledger, "99"), 1, "There is no record #99 in the ledger.", ledger)


def test_reverse_refuses_a_record_already_reversed(ledger):
    assert_refused(run_reverse(ledger, "1"), 1, "Record #1 was already reversed.", ledger)


def test_reverse_refuses_a_record_that_is_itself_a_reversal(ledger):
    assert_refused(
        run_reverse(ledger, "4"),
        1,
        "Record #4 is itself a reversal (of record #1); only a credit record can be reversed.",
        ledger,
    )


def test_the_same_reversal_twice_appends_once(ledger):
    assert run_reverse(ledger, "3").exit_code == 0
    again = run_reverse(ledger, "3")
    assert again.exit_code == 1 and "Traceback" not in again.output
    assert again.output == "Error: Record #3 was already reversed.\n"
    assert len(chain(ledger)) == 5


def test_reverse_refuses_an_empty_reason(ledger):
    assert_refused(
        run_reverse(ledger, "2", reason="   "),
        2,
        "Give a --reason: it is kept in the ledger with the reversal.",
        ledger,
    )


def test_reverse_refuses_a_reason_with_patient_data(ledger):
    assert_refused(
        run_reverse(ledger, "2", reason="entered for Patient/123 by mistake"),
        2,
        "--reason contains a FHIR patient or encounter reference; the ledger never holds "
        "patient data.",
        ledger,
    )


def test_reverse_without_a_ledger_exits_2_and_creates_none(tmp_path):
    missing = tmp_path / "missing.db"
    result = run_reverse(missing, "1")
    assert result.exit_code == 2 and result.output == f"Error: No ledger database at {missing}.\n"
    assert list(tmp_path.iterdir()) == []


def test_reverse_documents_itself_with_examples():
    result = CliRunner().invoke(reverse, ["--help"])
    assert result.exit_code == 0 and "Examples:" in result.output


def test_reverse_in_a_folder_bedside_may_not_write_names_the_folder(ledger):
    with unwritable(ledger.parent):
        result = run_reverse(ledger, "2")
    assert_refused(result, 1, folder_sentence(ledger), ledger)
