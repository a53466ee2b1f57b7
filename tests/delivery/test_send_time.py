"""A daily question keeps its hour: runs that start a little late neither delay nor skip it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.delivery.outbox import outbox
from app.delivery.schedule import cap_cutoff
from app.delivery.store import Preferences
from app.learning.profile_store import AnswerEvent
from tests.delivery.conftest import subscribe

MADRID = "Europe/Madrid"
RUNS = [timedelta(hours=6, minutes=45) + timedelta(minutes=15) * n for n in range(8)]  # 06:45 on
DAYS = 4


def local(text: str) -> datetime:
    """A Madrid wall-clock time, "day hh:mm:ss", on 5 January 2026 plus that many days."""
    day, clock = text.split()
    moment = datetime.fromisoformat(f"2026-01-05T{clock}").replace(tzinfo=ZoneInfo(MADRID))
    return moment + timedelta(days=int(day))


@pytest.mark.parametrize(
    ("last", "now", "allowed"),
    [
        ("0 07:00:50", "1 07:00:10", True),  # yesterday's run started 40 s later than today's
        ("0 07:00:50", "0 23:50:00", False),  # never two on one day
        ("0 00:00:30", "0 23:50:00", False),  # even when the cap less its grace has passed
        ("0 07:00:50", "1 06:45:10", False),  # the cap less half a run interval has not passed
    ],
)
def test_a_daily_cap_allows_one_a_local_day_at_the_same_hour(last, now, allowed):
    cutoff = cap_cutoff(local(now), 24, MADRID)
    assert (local(last) <= cutoff) is allowed


def test_a_two_day_cap_allows_the_next_one_on_the_day_after_next():
    last = local("0 07:00:50")
    assert last > cap_cutoff(local("1 07:00:10"), 48, MADRID)
    assert last <= cap_cutoff(local("2 07:00:10"), 48, MADRID)


def test_runs_every_15_minutes_with_start_jitter_send_each_day_at_the_end_of_quiet_hours(
    app, inbox
):
    quiet_until_seven = Preferences(quiet_start=21, quiet_end=7)
    sent = daily_sends(app, quiet_until_seven, RUNS)
    assert sent == [(day, "07:00") for day in range(1, DAYS + 1)]  # UTC: quiet hours end at 07


def test_without_quiet_hours_a_daily_question_keeps_the_hour_it_was_first_sent_at(app, inbox):
    afternoon = [timedelta(hours=13) + timedelta(minutes=15) * n for n in range(9)]  # 13:00 on
    sent = daily_sends(app, Preferences(quiet_start=0, quiet_end=0), afternoon, first=14)
    assert sent == [(day, "14:00") for day in range(1, DAYS + 1)]  # not 13:45, then 13:30, …


def daily_sends(
    app, preferences: Preferences, runs: list[timedelta], first: int = 0
) -> list[tuple[int, str]]:
    """Run send-due at each run time for DAYS days, starting 10 s or 50 s late on alternate days.

    The learner subscribes and misses DAYS questions first; day 1's runs start at `first` hours
    (the hour they opted in at). Returns (day, HH:MM) of each send.
    """
    subscribe(app, "learner-1", "l1@example.org", preferences)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(30)
    modules = app.extensions["ui"].library.modules
    questions = [
        (m, q["id"]) for m in modules for q in modules[m].get("case", {}).get("questions", [])
    ]
    for module_id, item_id in questions[:DAYS]:
        missed = AnswerEvent(f"{module_id}/{item_id}", module_id, item_id, False, "high", start)
        app.extensions["learning"].apply_answer("learner-1", missed)
    sent = []
    with app.app_context():
        mailer = outbox()
        for day in range(1, DAYS + 1):
            jitter = timedelta(seconds=50 if day % 2 else 10)  # later one day, earlier the next
            for run in runs:
                if day == 1 and run < timedelta(hours=first):
                    continue
                now = start + timedelta(days=day) + run + jitter
                if mailer.send_due(now).sent:
                    sent.append((day, now.strftime("%H:%M")))
    return sent
