"""Pure pieces: completions from credit records, who is the clinician, months and import days."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.ledger.chain import CreditRecord
from app.outcomes.completions import first_completions, is_clinician
from app.outcomes.practice_data import month_range
from app.outcomes.practice_store import period_days

ISSUER = "https://ehr.example.org/fhir/"


def record(sequence: int, module: str | None, earned: str, kind: str = "credit", reverses=None):
    """A credit record with only the fields completions read filled in meaningfully."""
    return CreditRecord(
        sequence, kind, "learner", "key", "case", module, "1", None, "ama-pra-category-1",
        25, 25, earned, "{}", reverses, None, "h", earned, "p", "r",
    )  # fmt: skip


def test_first_completions_take_the_earliest_unreversed_credit_per_module():
    records = [
        record(1, "uri", "2026-03-01T10:00:00.000000Z"),
        record(2, "uri", "2026-02-01T10:00:00.000000Z"),
        record(3, "sepsis", "2026-01-05T10:00:00.000000Z"),
        record(4, "sepsis", "2026-01-06T10:00:00.000000Z", kind="reversal", reverses=3),
        record(5, None, "2026-01-01T10:00:00.000000Z"),
    ]
    events = first_completions(records, "Practitioner/C03")
    assert [(e.module_id, e.completed) for e in events] == [("uri", date(2026, 2, 1))]
    assert {e.clinician for e in events} == {"Practitioner/C03"}


def test_a_clinician_is_their_fhir_user_at_this_ehr_only():
    assert is_clinician(ISSUER, "https://ehr.example.org/fhir/Practitioner/C03", "Practitioner/C03")
    assert is_clinician(ISSUER, "Practitioner/C03", "Practitioner/C03")
    assert not is_clinician(ISSUER, "https://other.example/Practitioner/C03", "Practitioner/C03")
    assert not is_clinician(
        ISSUER, "https://ehr.example.org/fhir/Practitioner/C033", "Practitioner/C03"
    )
    assert not is_clinician(ISSUER, None, "Practitioner/C03")


def test_month_range_includes_a_partial_last_month_but_not_an_as_of_midnight():
    start = datetime(2026, 9, 20, tzinfo=UTC)
    assert month_range(start, datetime(2026, 11, 1, tzinfo=UTC)) == ["2026-09", "2026-10"]
    partial = datetime(2026, 11, 14, 9, tzinfo=UTC)
    assert month_range(start, partial) == ["2026-09", "2026-10", "2026-11"]


def test_import_period_days_cover_a_partial_last_day():
    start = datetime(2026, 10, 1, 12, tzinfo=UTC)
    assert period_days(start, datetime(2026, 11, 1, tzinfo=UTC)) == (
        date(2026, 10, 1),
        date(2026, 11, 1),
    )
    assert period_days(start, datetime(2026, 11, 1, 8, tzinfo=UTC))[1] == date(2026, 11, 2)
