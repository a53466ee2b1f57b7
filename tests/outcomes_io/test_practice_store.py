"""The practice store on SQLite and PostgreSQL: whole saves only, one period stored once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from app.database import Database, parse_database_url
from app.outcomes.cases import MeasureCase
from app.outcomes.practice_store import PracticeStore, StoredCase

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
HOSTS = 2
SAVES = 8


def cases(count: int, measure: str = "uri-abx") -> list[MeasureCase]:
    """`count` denominator cases in October, one a day, every third one met."""
    return [
        MeasureCase(
            measure_id=measure,
            patient_key=f"patient-{n}",
            encounter_id=f"encounter-{n}",
            clinician="Practitioner/c1",
            period_start=START + timedelta(days=n % 31, hours=9),
            in_denominator=True,
            in_numerator=n % 3 == 0,
        )
        for n in range(count)
    ]


@pytest.fixture
def hosts(database_url):
    """The practice stores of two hosts sharing one database (each with its own engine)."""
    databases = [Database(parse_database_url(database_url)) for _ in range(HOSTS)]
    yield [PracticeStore(database) for database in databases]
    for database in databases:
        database.dispose()


def test_a_save_reads_back_as_days_and_flags_only(hosts):
    store = hosts[0]
    assert store.load() is None
    summary = store.save_import([*cases(3), *cases(1, "hf-bb")], START, END, "ndjson")
    assert (summary.saved, summary.replaced, summary.undated) == (4, 0, 0)
    stored = hosts[1].load()
    assert (stored.start, stored.end) == (date(2026, 10, 1), date(2026, 11, 1))
    assert stored.cases == [
        StoredCase("hf-bb", "Practitioner/c1", date(2026, 10, 1), False, True),
        StoredCase("uri-abx", "Practitioner/c1", date(2026, 10, 1), False, True),
        StoredCase("uri-abx", "Practitioner/c1", date(2026, 10, 2), False, False),
        StoredCase("uri-abx", "Practitioner/c1", date(2026, 10, 3), False, False),
    ]


def test_saves_at_once_through_two_hosts_keep_the_period_once_and_readers_see_whole_saves(
    hosts,
):
    sizes = {2**n for n in range(SAVES)}  # no sum of two of them is another
    seen: list[int] = []
    saving = threading.Event()

    def read_until_done() -> None:
        while saving.is_set():
            stored = hosts[1].load()
            seen.append(len(stored.cases) if stored else 0)

    def save(n: int) -> None:
        hosts[n % HOSTS].save_import(cases(2**n), START, END, "fhir")

    saving.set()
    reader = threading.Thread(target=read_until_done)
    reader.start()
    run_together([lambda n=n: save(n) for n in range(SAVES)])
    saving.clear()
    reader.join()
    stored = hosts[0].load()
    assert len(stored.cases) in sizes  # one save's cases: none left behind, none doubled
    assert set(seen) <= sizes | {0}  # never a mixture of two saves


def run_together(calls: list) -> None:
    """Run each call in its own thread, all released at once; wait for them all."""
    start = threading.Barrier(len(calls))

    def run(call) -> None:
        start.wait()
        call()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
