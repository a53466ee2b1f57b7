"""Two hosts' case stores on one database (SQLite, PostgreSQL): a review amid another's change."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.case_conferences.store import CaseConferenceStore, CaseStateError
from app.database import Database, parse_database_url
from tests.case_conferences.test_store import VIGNETTE


@pytest.fixture
def hosts(database_url):
    """The author's host and the moderator's host: each its own engine on the one database."""
    databases = [Database(parse_database_url(database_url)) for _ in range(2)]
    yield [CaseConferenceStore(database) for database in databases]
    for database in databases:
        database.dispose()


def before_next_write(store: CaseConferenceStore, meanwhile: Callable[[], None]) -> None:
    """Run `meanwhile` (on another host) just before this store's next write transaction opens."""
    database = store.database
    write = database.write

    def write_after_the_other_host():
        del database.write  # once
        meanwhile()
        return write()

    database.write = write_after_the_other_host


def submitted_case(store: CaseConferenceStore) -> tuple[str, str]:
    """A case its author submitted, and the version a moderator opens."""
    case_id = store.draft("A1", "Urosepsis in the ED", VIGNETTE)
    store.submit(case_id, "A1")
    return case_id, store.case(case_id).updated_at


def test_an_edit_racing_an_approval_on_another_host_is_refused_and_the_approval_stands(hosts):
    author_host, moderator_host = hosts
    case_id, seen = submitted_case(author_host)

    def approve():
        moderator_host.review(case_id, "M1", approve=True, seen=seen)
        moderator_host.open_discussion(case_id, "T1")

    before_next_write(author_host, approve)
    with pytest.raises(CaseStateError):
        author_host.edit(case_id, "A1", "Urosepsis in the ED", "Changed after approval, unseen.")
    case = moderator_host.case(case_id)
    assert (case.status, case.vignette, case.reviewed_by, case.thread_id) == (
        "approved",
        VIGNETTE,
        "M1",
        "T1",
    )


def test_a_submit_racing_an_approval_on_another_host_does_not_take_the_approval_back(hosts):
    author_host, other_host = hosts
    case_id = author_host.draft("A1", "Urosepsis in the ED", VIGNETTE)

    def submit_in_another_tab_and_approve():
        other_host.submit(case_id, "A1")
        other_host.review(case_id, "M1", approve=True, seen=other_host.case(case_id).updated_at)

    before_next_write(author_host, submit_in_another_tab_and_approve)
    with pytest.raises(CaseStateError):
        author_host.submit(case_id, "A1")
    assert (author_host.case(case_id).status, author_host.case(case_id).reviewed_by) == (
        "approved",
        "M1",
    )


def test_of_two_threads_opened_at_once_for_an_approved_case_the_first_attached_stays(hosts):
    first_host, second_host = hosts
    case_id, seen = submitted_case(first_host)
    first_host.review(case_id, "M1", approve=True, seen=seen)
    assert first_host.open_discussion(case_id, "T1") == "T1"
    assert second_host.open_discussion(case_id, "T2") == "T1"
    assert second_host.case(case_id).thread_id == "T1"


def test_a_case_not_approved_gets_no_discussion(hosts):
    store, _ = hosts
    case_id, _ = submitted_case(store)
    with pytest.raises(CaseStateError):
        store.open_discussion(case_id, "T1")
    assert store.case(case_id).thread_id is None
