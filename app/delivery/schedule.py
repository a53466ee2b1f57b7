"""When a learner may get mail, and which due review question goes next (pure: no I/O).

A message goes out only outside the learner's quiet hours (in their own time zone) and only when
the frequency cap allows it (at most one per `min_hours` less one run interval, and never two on
one of the learner's calendar days); each message carries the most overdue review question (FSRS,
app/learning/reviews.py) not already mailed for that due time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fsrs import Card

from app.learning.reviews import DueReview, ReviewKey, due_reviews

DIGEST_DAYS = 7
CAP_CHOICES = (24, 48, 168)  # hours: daily, every other day, weekly
RUN_INTERVAL = timedelta(minutes=15)  # how often `notify send-due` runs (docs/email.md)
# A run may start this much earlier than the one a day before (a timer's jitter) and still send:
# less than a run interval, so the send time moves neither later nor a run earlier.
GRACE = RUN_INTERVAL / 2


def in_quiet_hours(now: datetime, time_zone: str, quiet_start: int, quiet_end: int) -> bool:
    """True when now is in [quiet_start, quiet_end) local hours (the window may wrap midnight)."""
    hour = now.astimezone(zone(time_zone)).hour
    if quiet_start == quiet_end:
        return False  # no quiet time
    if quiet_start < quiet_end:
        return quiet_start <= hour < quiet_end
    return hour >= quiet_start or hour < quiet_end


def cap_cutoff(now: datetime, min_hours: int, time_zone: str) -> datetime:
    """The latest previous send that still allows one now: the earlier of two bounds.

    The cap less half a run interval, so a run that starts a few seconds later than yesterday's
    (a timer's jitter) still finds the cap passed, and the hour creeps neither later until a day
    is skipped nor a run earlier; and the learner's calendar days, so a daily cap never allows
    two on one local day (a two-day cap, two days apart) however the grace falls.
    """
    local = now.astimezone(zone(time_zone))
    first_day = local.date() - timedelta(days=max(1, min_hours // 24) - 1)
    day_start = datetime.combine(first_day, time(0), tzinfo=local.tzinfo)
    grace = now - timedelta(hours=min_hours) + GRACE
    return min(grace, day_start - timedelta(seconds=1))  # sends are stamped to the second


def next_question(
    cards: Mapping[ReviewKey, Card],
    now: datetime,
    already_sent: Collection[tuple[str, str, str]],
    known: Iterable[tuple[str, str]],
) -> DueReview | None:
    """The most overdue review not mailed for its due time and still in the library, or None."""
    questions = set(known)
    for review in due_reviews(cards, now):
        key = (review.key.module_id, review.key.item_id)
        if key in questions and (*key, stamp(review.due)) not in already_sent:
            return review
    return None


def digest_due(last_digest_at: str | None, now: datetime) -> bool:
    """True when no digest went out in the last DIGEST_DAYS."""
    return last_digest_at is None or last_digest_at <= stamp(now - timedelta(days=DIGEST_DAYS))


def stamp(moment: datetime) -> str:
    """A moment as stored: ISO 8601 in UTC, to the second (text that sorts by time)."""
    return moment.astimezone(ZoneInfo("UTC")).isoformat(timespec="seconds")


def zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name; UTC when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def valid_time_zone(name: str) -> bool:
    """True when the name is an IANA time zone this system knows."""
    return name in available_timezones()
