"""Quiet hours, the cap, the next question, and BEDSIDE_SMTP_URL parsing (pure parts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card

from app.delivery.schedule import in_quiet_hours, next_question, stamp
from app.delivery.smtp import parse_smtp_url
from app.errors import ConfigError
from app.learning.reviews import ReviewKey

NOON_UTC = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "start", "end", "quiet"),
    [
        ("UTC", 21, 7, False),  # 12:00
        ("Asia/Tokyo", 21, 7, True),  # 21:00, the window wraps midnight
        ("America/Los_Angeles", 21, 7, True),  # 05:00, before the window ends at 07:00
        ("America/Los_Angeles", 4, 6, True),  # 05:00 in [04, 06)
        ("UTC", 12, 12, False),  # equal hours: no quiet time
        ("No/Such_Zone", 12, 13, True),  # an unknown zone counts as UTC
    ],
)
def test_quiet_hours_are_read_in_the_learners_zone(zone, start, end, quiet):
    assert in_quiet_hours(NOON_UTC, zone, start, end) is quiet


def test_the_next_question_is_the_most_overdue_one_not_yet_mailed():
    older = ReviewKey("m", "q1")
    newer = ReviewKey("m", "q2")
    cards = {
        older: Card(card_id=1, due=NOON_UTC - timedelta(days=2)),
        newer: Card(card_id=2, due=NOON_UTC - timedelta(days=1)),
        ReviewKey("m", "q3"): Card(card_id=3, due=NOON_UTC + timedelta(days=1)),
    }
    known = {("m", "q1"), ("m", "q2"), ("m", "q3")}
    assert next_question(cards, NOON_UTC, set(), known).key == older
    mailed = {("m", "q1", stamp(cards[older].due))}
    assert next_question(cards, NOON_UTC, mailed, known).key == newer
    assert next_question(cards, NOON_UTC, mailed, {("m", "q1")}) is None  # q2 left the library


def test_smtp_urls_name_tls_starttls_and_a_percent_encoded_login():
    plain = parse_smtp_url("smtp://relay.internal")
    assert (plain.port, plain.implicit_tls, plain.starttls, plain.user) == (25, False, False, None)
    tls = parse_smtp_url("smtps://me%40example.org:p%40ss%20word@mail.example.org")
    assert (tls.port, tls.implicit_tls, tls.user, tls.password) == (
        465,
        True,
        "me@example.org",
        "p@ss word",
    )
    starttls = parse_smtp_url("smtp://u:p@mail.example.org:587?starttls=1")
    assert (starttls.port, starttls.starttls) == (587, True)
    assert "p@ss" not in tls.shown and tls.shown == "smtps://me@example.org@mail.example.org:465"


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://host:port"])
def test_a_bad_smtp_url_is_one_sentence(url):
    with pytest.raises(ConfigError, match="BEDSIDE_SMTP_URL"):
        parse_smtp_url(url)


def test_a_bad_smtp_url_stops_the_app_at_start(instance_path):
    from app import create_app

    with pytest.raises(ConfigError, match="BEDSIDE_SMTP_URL must look like"):
        create_app(
            {"TESTING": True, "DATABASE": str(instance_path / "b.db"), "SMTP_URL": "mail.org"},
            instance_path=instance_path,
        )
