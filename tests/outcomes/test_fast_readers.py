"""The fast FHIR readers answer exactly as the robust readers they replace, on any JSON."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from app.fhir_json import coding_triples, first_coding_in, status_code
from app.outcomes import fhir_data
from app.outcomes.fhir_data import PatientRecord, day_of, timed

CODES = frozenset({("http://snomed.info/sct", "1"), ("", "2"), ("s", "")})
text = st.sampled_from(["http://snomed.info/sct", "1", "2", "s", "", "x"])
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
coding = st.fixed_dictionaries(
    {}, optional={"system": json_value | text, "code": json_value | text, "display": json_value}
)
concept = json_value | st.fixed_dictionaries({"coding": st.lists(coding | json_value, max_size=4)})


MALFORMED = {"coding": [7, {"system": ["s"], "code": "1"}, {"system": "x", "code": "1"}]}


@given(concept)
@example(MALFORMED)
@example({"coding": [{"system": "", "code": "2"}, {"system": "s", "code": ""}]})
@example({"coding": [{"system": "http://snomed.info/sct", "code": "1", "display": 3}]})
def test_first_coding_in_is_the_first_complete_coding_in_the_codes(value):
    expected = next(((s, c, d) for s, c, d in coding_triples(value) if (s, c) in CODES), None)
    assert first_coding_in(value, CODES) == expected


@given(concept)
@example(MALFORMED)
@example({"coding": [{"code": ""}, {"code": 5}, {"code": "final"}]})
def test_status_code_is_the_first_non_empty_string_code(value):
    codings = value.get("coding") if isinstance(value, dict) else None
    codes = (
        [c.get("code") for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []
    )
    assert status_code(value) == next((c for c in codes if isinstance(c, str) and c), None)


def test_times_are_remembered_by_the_record_being_evaluated_only():
    """Parsed times go to the evaluated record's own dict, and to none outside an evaluation."""
    first = PatientRecord.from_resources([{"resourceType": "Patient", "id": "p1"}])
    second = PatientRecord.from_resources([{"resourceType": "Patient", "id": "p2"}])
    with first.evaluating():
        assert timed("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert day_of("2026-01-02") == datetime(2026, 1, 2).date() and timed("2026-01-02") is None
    assert set(first.times) == {"2026-01-02T03:04:05Z", "2026-01-02"}
    assert second.times == {}
    assert timed("2026-03-04T05:06:07Z") and set(first.times) == {
        "2026-01-02T03:04:05Z",
        "2026-01-02",
    }
    assert timed("not a time T") is None and day_of(7) is None
    assert not hasattr(fhir_data, "_times_of_patient")


def test_a_thread_evaluating_one_record_never_fills_another_threads_record():
    """Two threads evaluating two records at once each remember only their own patient's times."""
    first = PatientRecord.from_resources([{"resourceType": "Patient", "id": "p1"}])
    second = PatientRecord.from_resources([{"resourceType": "Patient", "id": "p2"}])
    both_inside = threading.Barrier(2)

    def evaluate(record: PatientRecord, text: str) -> None:
        with record.evaluating():
            both_inside.wait(timeout=10)
            timed(text)
            both_inside.wait(timeout=10)

    threads = [
        threading.Thread(target=evaluate, args=(first, "2026-01-01T01:00:00Z")),
        threading.Thread(target=evaluate, args=(second, "2026-02-02T02:00:00Z")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(first.times) == {"2026-01-01T01:00:00Z"}
    assert set(second.times) == {"2026-02-02T02:00:00Z"}


@given(st.datetimes(timezones=st.timezones()))
@example(datetime(999, 1, 1, tzinfo=UTC))
def test_stamp_is_strftime_in_utc(moment):
    expected = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    assert fhir_data.stamp(moment) == expected
