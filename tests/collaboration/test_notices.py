"""In-app notices on SQLite and PostgreSQL: replies in a thread, new queue items, reported posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.collaboration.roles import EDIT_QUEUE, MODERATE
from app.collaboration.store import ERASED_AUTHOR, ROLE_HOLDER_DAYS, CollaborationStore
from cds_hooks.store import CdsStore
from tests.collaboration.test_store import exposure, feedback

MODULE = {"id": "sepsis-hour-1-bundle", "version": "2.0.0"}
EARLY = "2000-01-01T00:00:00+00:00"


@pytest.fixture
def store(database) -> CollaborationStore:
    """The collaboration store, beside the CDS store whose feedback it pulls."""
    CdsStore(database)
    return CollaborationStore(database)


def thread_with_two_posters(store: CollaborationStore) -> str:
    """A thread A started and B replied in; its id."""
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Lactate", "A", "Repeat it?")
    store.reply(thread_id, "B", "Within 2 h.")
    return thread_id


def kinds(store: CollaborationStore, learner: str) -> list[str]:
    """The kinds of a learner's notices, oldest first."""
    return [notice.kind for notice in reversed(store.notices({learner}))]


def test_a_reply_tells_who_started_or_posted_in_the_thread_not_its_author(store):
    thread_id = thread_with_two_posters(store)
    post_id = store.reply(thread_id, "C", "And the trend.")

    assert kinds(store, "A") == ["thread-reply", "thread-reply"]  # B's reply, then C's
    assert kinds(store, "B") == ["thread-reply"]  # C's reply only, never their own
    assert kinds(store, "C") == []
    latest = store.notices({"A"})[0]
    assert (latest.thread_id, latest.post_id, latest.scope_id) == (thread_id, post_id, MODULE["id"])
    assert latest.thread_title == "Lactate" and latest.detail == ""  # never the post's text


def test_a_hidden_reply_notifies_nobody_and_a_restored_one_does_again(store):
    thread_id = thread_with_two_posters(store)
    post_id = store.reply(thread_id, "C", "Off topic.")
    store.set_hidden(post_id, "M", hidden=True)

    assert [n.post_id for n in store.notices({"A"})] != [] and post_id not in {
        n.post_id for n in store.notices({"A"})
    }
    assert post_id not in {n.post_id for n in store.unread_notices("B", EARLY)}
    store.set_hidden(post_id, "M", hidden=False)
    assert post_id in {n.post_id for n in store.unread_notices("B", EARLY)}


def test_editors_seen_holding_the_role_hear_of_each_new_item_once(store):
    store.note_role("E1", EDIT_QUEUE, held=True)
    store.note_role("E2", EDIT_QUEUE, held=True)
    store.note_role("M", MODERATE, held=True)
    item_id = store.file_item(MODULE, "error", "The dose is out of date.", "L1", source_ref="p:1")
    store.file_item(MODULE, "error", "The dose is out of date.", "L1", source_ref="p:1")  # again
    store.file_item(MODULE, "update", "Add the 2026 update.", "E2")

    assert [(n.kind, n.item_id) for n in store.notices({"E1"})][-1] == ("queue-item", item_id)
    assert kinds(store, "E1") == ["queue-item", "queue-item"]  # the repeated source added none
    assert kinds(store, "E2") == ["queue-item"]  # not told of the item they filed themselves
    assert kinds(store, "M") == []


def test_an_editor_who_lost_the_role_hears_of_no_new_item(store):
    store.note_role("E1", EDIT_QUEUE, held=True)
    store.note_role("E1", EDIT_QUEUE, held=False)
    store.file_item(MODULE, "error", "The dose is out of date.", "L1")
    assert kinds(store, "E1") == []


def test_moderators_hear_of_a_reported_post_once_however_many_report_it(store):
    store.note_role("M", MODERATE, held=True)
    store.note_role("E1", EDIT_QUEUE, held=True)
    thread_id = thread_with_two_posters(store)
    post_id = store.posts(thread_id)[1].post_id
    assert store.report_post(post_id, "A")
    assert store.report_post(post_id, "C")

    reported = store.notices({"M"})
    assert [(n.kind, n.post_id, n.thread_title) for n in reported] == [
        ("post-reported", post_id, "Lactate")
    ]
    assert kinds(store, "E1") == []


def test_a_post_reported_again_after_the_moderator_read_of_it_reaches_them_again(store):
    store.note_role("M", MODERATE, held=True)
    thread_id = thread_with_two_posters(store)
    post_id = store.posts(thread_id)[1].post_id
    store.report_post(post_id, "A")
    store.mark_read({"M"})
    store.report_post(post_id, "C")
    store.report_post(post_id, "D")  # while the second notice is unread: no third one

    reported = store.notices({"M"})
    assert [(n.kind, n.post_id) for n in reported] == [("post-reported", post_id)] * 2
    assert [n.read_at is None for n in reported] == [True, False]  # newest first


def test_unread_notices_leave_out_read_and_older_ones(store):
    thread_id = thread_with_two_posters(store)
    first = store.unread_notices("A", EARLY)
    store.mark_read({"A"})
    store.reply(thread_id, "C", "Later.")
    assert len(first) == 1
    assert [n.kind for n in store.unread_notices("A", EARLY)] == ["thread-reply"]
    assert store.unread_notices("A", "2999-01-01T00:00:00+00:00") == []


def test_an_item_reporter_still_hears_of_triage_and_replies(store):
    item_id = store.file_item(MODULE, "error", "The dose is out of date.", "L1")
    store.triage(item_id, "accepted", "E1")
    store.reply_to_reporter(item_id, "E1", "Thanks, we are on it.")
    assert [(n.kind, n.detail) for n in reversed(store.notices({"L1"}))] == [
        ("status", "accepted"),
        ("reply", "Thanks, we are on it."),
    ]


def test_forgetting_a_learner_forgets_the_roles_seen(store):
    store.note_role("E1", EDIT_QUEUE, held=True)
    store.forget_display_name("E1")
    store.file_item(MODULE, "error", "The dose is out of date.", "L1")
    assert kinds(store, "E1") == []


def test_editors_hear_of_an_item_filed_from_a_critiquing_cds_override(store, database):
    store.note_role("E1", EDIT_QUEUE, held=True)
    cds = CdsStore(database)
    cds.record_call([exposure("c1")])
    cds.record_feedback(feedback("c1", "recipient-disagrees-evidence"))
    assert store.import_cds_feedback() == 1
    [item] = store.items()
    assert [(n.kind, n.item_id) for n in store.notices({"E1"})] == [("queue-item", item.item_id)]


def test_mailed_notices_are_left_out_before_the_limit(store):
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Lactate", "A", "Repeat it?")
    for n in range(3):
        store.reply(thread_id, f"R{n}", "Within 2 h.")
    first = store.unread_notices("A", EARLY, limit=2)
    rest = store.unread_notices("A", EARLY, {n.notice_id for n in first}, limit=2)
    assert len(first) == 2 and len(rest) == 1
    assert {n.notice_id for n in first}.isdisjoint(n.notice_id for n in rest)


def seen_days_ago(store: CollaborationStore, learner: str, days: int) -> None:
    """Pretend a role holder was last seen using their role that many days ago."""
    moment = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")
    with store.database.write() as connection:
        connection.execute(
            text("UPDATE collab_role_holders SET seen_at = :at WHERE learner_id = :l"),
            {"at": moment, "l": learner},
        )


def test_a_role_holder_not_seen_for_30_days_hears_of_nothing_until_seen_again(store):
    store.note_role("E1", EDIT_QUEUE, held=True)
    store.note_role("E2", EDIT_QUEUE, held=True)
    seen_days_ago(store, "E1", ROLE_HOLDER_DAYS + 1)
    seen_days_ago(store, "E2", ROLE_HOLDER_DAYS - 1)
    store.file_item(MODULE, "error", "The dose is out of date.", "L1", source_ref="p:1")
    assert kinds(store, "E1") == []
    assert kinds(store, "E2") == ["queue-item"]

    store.note_role("E1", EDIT_QUEUE, held=True)  # back, still an editor
    store.file_item(MODULE, "error", "The interval is wrong.", "L1", source_ref="p:2")
    assert kinds(store, "E1") == ["queue-item"]


def test_a_learner_who_deleted_their_data_keeps_no_notice_and_gets_none(store):
    store.note_role("A", MODERATE, held=True)
    thread_id = thread_with_two_posters(store)
    assert kinds(store, "A") == ["thread-reply"]
    store.forget_display_name("A")
    store.reply(thread_id, "C", "Later.")
    post_id = store.posts(thread_id)[-1].post_id
    store.report_post(post_id, "B")

    assert kinds(store, "A") == []
    assert {post.author_id for post in store.posts(thread_id)} == {"", "B", "C"}
    assert kinds(store, "B") == ["thread-reply"]  # the others still hear of replies
    assert kinds(store, ERASED_AUTHOR) == []  # nobody hears of replies for them


def test_an_erased_learners_items_and_reports_stay_unowned_and_notify_nobody(store):
    thread_id = thread_with_two_posters(store)
    post_id = store.posts(thread_id)[0].post_id
    store.report_post(post_id, "L1")
    store.report_post(post_id, "L2")
    item_id = store.file_item(MODULE, "error", "The dose is out of date.", "L1", source_ref="p:1")
    store.forget_display_name("L1")
    store.triage(item_id, "accepted", "E1")
    store.reply_to_reporter(item_id, "E1", "Thank you, fixed in the next version.")

    assert kinds(store, "L1") == [] and kinds(store, ERASED_AUTHOR) == []
    assert store.export("L1")["items"] == [] and store.export("L1")["reports"] == []
    assert store.item(item_id).status == "accepted"  # the item itself stays in the queue
    assert store.reported_posts()[0][1] == 2  # both reports still count
    assert store.report_post(post_id, "L1") is True  # a new report is a new one, not a duplicate
