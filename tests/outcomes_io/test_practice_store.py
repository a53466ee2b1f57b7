"""The practice store on SQLite and PostgreSQL: whole saves only, one period stored once."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

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


def test_a_merge_replaces_each_encounter_it_saw_and_keeps_the_others(hosts):
    """An incremental export: changed encounters replace their cases; unseen ones stay."""
    hosts[0].save_import(cases(6), START, END, "ndjson")
    changed = [replace(case, in_numerator=not case.in_numerator) for case in cases(3)]
    gone = replace(cases(4)[3], in_denominator=False)  # encounter 3 left the denominator
    new = replace(cases(1)[0], patient_key="patient-10", encounter_id="encounter-10")
    summary = hosts[1].merge_import([*changed, gone, new], "ndjson")
    assert (summary.saved, summary.replaced, summary.undated) == (4, 4, 0)
    stored = flags(hosts[0].load())
    expected = {(day, not met) for day, met in flags_of(cases(3))}
    expected |= set(flags_of(cases(6)[4:])) | {(date(2026, 10, 1), True)}
    assert stored == sorted(expected)


def test_merging_the_same_export_again_changes_nothing(hosts):
    """A re-run of one `_since` export replaces exactly its own cases: no double counting."""
    export = [*cases(5), *cases(2, "hf-bb")]
    first = hosts[0].merge_import(export, "ndjson")
    before = hosts[0].load().cases
    again = hosts[1].merge_import(export, "ndjson")
    assert (first.saved, first.replaced) == (7, 0)
    assert (again.saved, again.replaced) == (7, 7)
    assert hosts[0].load().cases == before


def test_a_period_save_after_merges_replaces_the_period_and_a_merge_then_finds_its_cases(hosts):
    """Period saves store encounter keys too, so a later merge replaces rather than adds."""
    hosts[0].merge_import(cases(3), "fhir")
    hosts[0].save_import(cases(5), START, END, "ndjson")
    summary = hosts[1].merge_import(cases(5), "ndjson")
    assert summary.replaced == 5 and len(hosts[0].load().cases) == 5


def test_encounter_keys_hold_no_patient_or_encounter_id(hosts):
    """The stored encounter key is a keyed hash: neither id appears anywhere in the tables."""
    hosts[0].merge_import(cases(3), "ndjson")
    with hosts[0].database.read() as connection:
        rows = connection.execute(text("SELECT * FROM practice_cases")).fetchall()
    stored = repr(rows)
    assert "patient-" not in stored and "encounter-" not in stored
    assert len({row.encounter_key for row in rows}) == 3


def flags(stored) -> list[tuple[date, bool]]:
    """(day, numerator) of each stored case, sorted."""
    return sorted((case.day, case.in_numerator) for case in stored.cases)


def flags_of(measure_cases: list[MeasureCase]) -> list[tuple[date, bool]]:
    """(day, numerator) of each case as it would be stored."""
    return [(case.period_start.date(), case.in_numerator) for case in measure_cases]
