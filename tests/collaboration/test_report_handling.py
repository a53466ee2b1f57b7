"""Moderators mark a reported post handled (or hide it): it leaves the list until reported again."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from app.collaboration.store import (
    COLLABORATION_SCHEMA,
    DISMISSED,
    POSTS,
    CollaborationStore,
    NotFound,
    handle_reports,
    lock_row,
)
from app.database import POSTGRESQL, SQLITE, Database, parse_database_url, role_script
from tests.collaboration.conftest import MODERATOR, post_ids, start_thread
from tests.ui.helpers import get, launch_as, post

MODULE_ID = "sepsis-hour-1-bundle"


@pytest.fixture
def store(database) -> CollaborationStore:
    """The collaboration store."""
    return CollaborationStore(database)


@pytest.fixture
def post_id(store) -> str:
    """A post L1 wrote."""
    thread_id = store.start_thread("module", MODULE_ID, "2.0.0", "Lactate timing", "L1", "Text")
    return store.posts(thread_id)[0].post_id


def listed(store: CollaborationStore) -> list[tuple[str, int]]:
    """The reported posts on the moderation list, with their open reports."""
    return [(post.post_id, count) for post, count in store.reported_posts()]


def handlings(database, table: str = "collab_report_handlings") -> list[tuple[str, str, bool]]:
    """Who handled reports, how, and whether the time was recorded, oldest first."""
    with database.read() as connection:
        rows = connection.execute(
            text(f"SELECT handled_by, action, handled_at FROM {table} ORDER BY handled_at")
        ).all()
    return [(by, action, bool(at)) for by, action, at in rows]


def test_a_post_marked_handled_leaves_the_list_until_someone_reports_it_again(
    store, database, post_id
):
    store.report_post(post_id, "L2")
    store.report_post(post_id, "L3")
    store.dismiss_reports(post_id, "M1")

    assert listed(store) == []
    assert not store.post(post_id).hidden  # handled, and still shown
    assert handlings(database) == [("M1", "dismissed", True)]
    assert store.reported_post_count() == 0
    assert store.report_post(post_id, "L4") is True
    assert listed(store) == [(post_id, 1)]  # only the report made after the handling counts


def test_a_learner_may_report_again_after_a_handling_but_only_once_before_it(store, post_id):
    assert store.report_post(post_id, "L2") is True
    assert store.report_post(post_id, "L2") is False
    store.dismiss_reports(post_id, "M1")
    assert store.report_post(post_id, "L2") is True  # what they report may have changed since
    assert store.report_post(post_id, "L2") is False
    assert listed(store) == [(post_id, 1)]


def test_hiding_a_post_marks_its_reports_handled_and_restoring_does_not_reopen_them(
    store, database, post_id
):
    store.report_post(post_id, "L2")
    store.set_hidden(post_id, "M1", hidden=True)
    assert listed(store) == []
    store.set_hidden(post_id, "M2", hidden=False)
    assert listed(store) == []
    assert handlings(database) == [("M1", "hidden", True)]


def test_marking_an_unknown_post_handled_is_not_found(store, database):
    with pytest.raises(NotFound):
        store.dismiss_reports("no-such-post", "M1")
    assert handlings(database) == []


def lock_waits(database) -> int:
    """How many PostgreSQL sessions of this database wait on a lock."""
    with database.read() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()


def test_a_report_made_while_a_moderator_handles_the_post_stays_open(store, database, post_id):
    store.report_post(post_id, "L2")
    reported = []
    racer = threading.Thread(target=lambda: reported.append(store.report_post(post_id, "L3")))
    with database.write() as moderator:  # the moderator's handling, under way
        lock_row(moderator, POSTS, post_id)
        racer.start()
        if database.dialect == POSTGRESQL:  # the report waits for the post's row lock
            deadline = time.monotonic() + 30
            while racer.is_alive() and not lock_waits(database) and time.monotonic() < deadline:
                time.sleep(0.01)
        assert handle_reports(moderator, POSTS, post_id, "M1", DISMISSED) == 1
    racer.join(timeout=30)

    assert reported == [True]
    assert listed(store) == [(post_id, 1)]  # L3's report, made during the handling, is open


def forget_report_handlings(database) -> None:
    """Take the database back to before reports could be handled (as the old code left it)."""
    table = "_sqlite_migrations" if database.dialect == SQLITE else "bedside_migrations"
    with database.write() as connection:
        connection.execute(text("DROP TABLE collab_report_handlings"))
        connection.execute(text("ALTER TABLE collab_reports DROP COLUMN handling_id"))
        connection.execute(
            text(f"DELETE FROM {table} WHERE migration_set = :set AND name = :name"),
            {"set": COLLABORATION_SCHEMA.name, "name": "add_report_handlings"},
        )


def test_an_old_database_upgrades_in_place_and_a_post_hidden_before_counts_as_handled(
    store, database
):
    thread_id = store.start_thread("module", MODULE_ID, "2.0.0", "Lactate timing", "L1", "One")
    shown = store.posts(thread_id)[0].post_id
    hidden = store.reply(thread_id, "L2", "Two")
    forget_report_handlings(database)
    with database.write() as connection:  # as the old code wrote reports and hid a post
        for post_id in (shown, hidden):
            connection.execute(
                text(
                    "INSERT INTO collab_reports (post_id, reporter_id, reported_at)"
                    " VALUES (:p, 'L3', '2024-01-01T00:00:00.000000+00:00')"
                ),
                {"p": post_id},
            )
        connection.execute(
            text(
                "UPDATE collab_posts SET hidden_at = '2024-01-02T00:00:00.000000+00:00',"
                " hidden_by = 'M1' WHERE post_id = :p"
            ),
            {"p": hidden},
        )

    assert database.migrate(COLLABORATION_SCHEMA) == ["add_report_handlings"]

    assert listed(store) == [(shown, 1)]
    assert handlings(database) == [("M1", "hidden", True)]
    store.dismiss_reports(shown, "M2")
    assert listed(store) == []


@pytest.fixture
def moderator(collab_app, auth_server):
    """A clinician the roles file makes a moderator."""
    client = collab_app.test_client()
    launch_as(client, auth_server, MODERATOR)
    return client


def test_the_moderator_marks_a_reported_post_handled_and_it_stays_shown(
    learner, peer, moderator, collab_store
):
    url = start_thread(learner, body="Borderline advice")
    thread_html = get(peer, url)
    post_id = post_ids(thread_html)[0]
    post(peer, f"/app/discuss/post/{post_id}/report", thread_html)
    queue_html = get(moderator, "/app/moderation")
    assert "Borderline advice" in queue_html and "Mark handled" in queue_html
    assert "Day shift" not in queue_html  # the reporter is never named

    answer = post(moderator, f"/app/discuss/post/{post_id}/handled", queue_html, next="moderation")
    assert answer.headers["Location"].split("?")[0].endswith("/app/moderation")
    after = get(moderator, "/app/moderation")
    assert "Borderline advice" not in after and "No post has been reported." in after
    assert "Borderline advice" in get(peer, url)  # handled, not hidden
    post(peer, f"/app/discuss/post/{post_id}/report", get(peer, url))
    assert "Borderline advice" in get(moderator, "/app/moderation")


def test_a_learner_cannot_mark_a_post_handled_and_nothing_changes(learner, peer, collab_store):
    url = start_thread(learner, body="Fine post")
    thread_html = get(peer, url)
    post_id = post_ids(thread_html)[0]
    post(peer, f"/app/discuss/post/{post_id}/report", thread_html)
    post(peer, f"/app/discuss/post/{post_id}/handled", thread_html, status=403)
    assert [row.post_id for row, _ in collab_store.reported_posts()] == [post_id]


ROLE = "bedside_collab_handling"


def test_marking_handled_runs_with_only_the_printed_grants(postgres_url):
    owner = Database(parse_database_url(postgres_url))
    CollaborationStore(owner)
    with owner.write() as connection:
        connection.execute(text(f"CREATE ROLE {ROLE} LOGIN"))
        connection.exec_driver_sql(role_script([COLLABORATION_SCHEMA], ROLE))
    as_app = Database(parse_database_url(postgres_url.replace("://postgres@", f"://{ROLE}@")))
    try:
        store = CollaborationStore(as_app)
        thread_id = store.start_thread("module", MODULE_ID, "2.0.0", "A title", "L1", "Text")
        post_id = store.posts(thread_id)[0].post_id
        store.report_post(post_id, "L2")
        store.dismiss_reports(post_id, "M1")
        store.report_post(post_id, "L2")
        store.set_hidden(post_id, "M1", hidden=True)
        assert listed(store) == []
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text(f"DROP OWNED BY {ROLE}"))
            connection.execute(text(f"DROP ROLE {ROLE}"))
        owner.dispose()
