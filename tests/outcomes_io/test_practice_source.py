"""The dashboards' practice source reads the stored cases once, until a save or merge changes them.

Each test runs on SQLite and PostgreSQL, with the save made by another host's store."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import pytest

from app.database import Database, parse_database_url
from app.outcomes import practice_store
from app.outcomes.practice_data import PracticeSource
from app.outcomes.practice_store import PracticeStore, encounter_key
from tests.outcomes_io.test_practice_store import END, START, cases

CONTENT = str(Path(__file__).resolve().parents[2] / "content")
MEASURE = "uri-appropriate-treatment"


@pytest.fixture
def two_hosts(database, database_url):
    """One host's practice source and another host's store, sharing one database."""
    other = Database(parse_database_url(database_url))
    yield PracticeSource(PracticeStore(database), CONTENT), PracticeStore(other)
    other.dispose()


def denominator(source: PracticeSource) -> int:
    """How many stored cases of the measure the source gives."""
    data = source.dataset()
    return 0 if data is None else len(data.cases[MEASURE])


def test_the_stored_cases_are_read_once_until_they_change(two_hosts):
    source, other_host = two_hosts
    assert source.dataset() is None
    other_host.save_import(cases(6, MEASURE), START, END, "ndjson")
    first = source.dataset()
    assert len(first.cases[MEASURE]) == 6
    assert source.dataset() is first


def test_another_hosts_save_is_seen_on_the_next_request(two_hosts):
    source, other_host = two_hosts
    other_host.save_import(cases(6, MEASURE), START, END, "ndjson")
    assert denominator(source) == 6
    other_host.save_import(cases(4, MEASURE), START, END, "ndjson")
    assert denominator(source) == 4


def test_a_merge_that_only_removes_cases_is_seen_on_the_next_request(two_hosts):
    source, other_host = two_hosts
    other_host.merge_import(cases(6, MEASURE), "ndjson")
    assert denominator(source) == 6
    left_the_denominator = [replace(case, in_denominator=False) for case in cases(2, MEASURE)]
    summary = other_host.merge_import(left_the_denominator, "ndjson")
    assert (summary.saved, summary.replaced) == (0, 2)
    assert denominator(source) == 4


@pytest.mark.parametrize("saving", ["save_import", "merge_import"])
def test_a_save_makes_its_keyed_hashes_before_taking_the_write_lock(database, monkeypatch, saving):
    store = PracticeStore(database)
    store.save_import(cases(1, MEASURE), START, END, "ndjson")  # the key exists
    writing = []
    hashed_while_writing = []
    opened_write = database.write

    @contextlib.contextmanager
    def write():
        writing.append(True)
        try:
            with opened_write() as connection:
                yield connection
        finally:
            writing.pop()

    def keyed(key, case):
        hashed_while_writing.append(bool(writing))
        return encounter_key(key, case)

    monkeypatch.setattr(database, "write", write)
    monkeypatch.setattr(practice_store, "encounter_key", keyed)
    arguments = (START, END, "ndjson") if saving == "save_import" else ("ndjson",)
    getattr(store, saving)(cases(5, MEASURE), *arguments)
    assert hashed_while_writing and not any(hashed_while_writing)
    assert denominator(PracticeSource(store, CONTENT)) == 5


@pytest.mark.parametrize("saving", ["save_import", "merge_import"])
def test_a_resave_with_the_same_number_of_cases_and_new_verdicts_is_seen(two_hosts, saving):
    source, other_host = two_hosts
    arguments = (START, END, "ndjson") if saving == "save_import" else ("ndjson",)
    getattr(other_host, saving)(cases(6, MEASURE), *arguments)
    assert met(source) == 2
    corrected = [replace(case, in_numerator=not case.in_numerator) for case in cases(6, MEASURE)]
    getattr(other_host, saving)(corrected, *arguments)
    assert met(source) == 4


def met(source: PracticeSource) -> int:
    """How many of the measure's stored cases the source gives as met."""
    return sum(case.in_numerator for case in source.dataset().cases[MEASURE])
