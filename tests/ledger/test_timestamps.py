"""Ledger timestamps: one exact shape written, the same shape read back, anything else refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger.chain import parse_timestamp, timestamp

MOMENTS = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@given(MOMENTS)
def test_every_written_timestamp_reads_back_as_the_same_instant(moment):
    assert parse_timestamp(timestamp(moment)) == moment


def test_a_time_in_another_zone_is_written_and_read_as_the_same_utc_instant():
    moment = datetime(2026, 3, 10, 9, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert timestamp(moment) == "2026-03-10T14:30:00.000005Z"
    assert parse_timestamp(timestamp(moment)) == moment


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-10T14:00:00Z",  # no microseconds
        "2026-03-10 14:00:00.000000Z",  # a space for the T
        "2026-03-10T14:00:00.000000+00:00",  # an offset for the Z
        "2026-03-10T14:00:00.000000",  # naive
        "٢٠٢٦-03-10T14:00:00.000000Z",  # digits that are not ASCII
        "2026-02-30T14:00:00.000000Z",  # no such day
    ],
)
def test_a_timestamp_of_any_other_shape_is_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)
