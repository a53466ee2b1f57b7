"""The fast FHIR readers answer exactly as the robust readers they replace, on any JSON."""

from __future__ import annotations

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


def test_times_are_remembered_for_one_patient_only():
    PatientRecord.from_resources([{"resourceType": "Patient", "id": "p1"}])
    assert timed("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert day_of("2026-01-02") == datetime(2026, 1, 2).date() and timed("2026-01-02") is None
    assert set(fhir_data._times_of_patient) == {"2026-01-02T03:04:05Z", "2026-01-02"}
    PatientRecord.from_resources([{"resourceType": "Patient", "id": "p2"}])
    assert fhir_data._times_of_patient == {}
    assert timed("not a time T") is None and day_of(7) is None
