"""The robust FHIR readers the hooks and the measures share: references and times, every form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.fhir_json import parse_time, reference_id


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ({"reference": "Patient/p1"}, "p1"),
        ({"reference": "https://ehr.example/fhir/Patient/p1"}, "p1"),
        ({"reference": "Patient/p1/_history/3"}, "p1"),
        ({"reference": "https://ehr.example/fhir/Patient/p1/_history/3"}, "p1"),
        ({"reference": "Patient/p1/"}, "p1"),
        ({"reference": "Encounter/p1"}, None),
        ({"reference": "Patient/"}, None),
        ({"reference": "/p1"}, None),
        ({"reference": "Patient"}, None),
        ({"reference": "#contained"}, None),
        ({"reference": ""}, None),
        ({"reference": 7}, None),
        ({}, None),
        ("Patient/p1", None),
        (None, None),
    ],
)
def test_reference_id_reads_every_reference_form_and_refuses_the_rest(reference, expected):
    """Relative, absolute and versioned references give the id; other types and junk give None."""
    assert reference_id(reference, "Patient") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-03", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-02", datetime(2026, 3, 2, tzinfo=UTC)),
        ("2026-03-02T10:15:00Z", datetime(2026, 3, 2, 10, 15, tzinfo=UTC)),
        ("2026-03-02T10:15:00", datetime(2026, 3, 2, 10, 15, tzinfo=UTC)),
        (
            "2026-03-02T10:15:00.250-05:00",
            datetime(2026, 3, 2, 10, 15, 0, 250000, tzinfo=timezone(timedelta(hours=-5))),
        ),
        ("2026-13", None),
        ("March 2026", None),
        ("", None),
        (None, None),
        (20260302, None),
    ],
)
def test_parse_time_reads_fhir_dates_and_instants_in_utc_by_default(text, expected):
    """Year, year-month, date, dateTime with or without offset; anything else is None."""
    assert parse_time(text) == expected
