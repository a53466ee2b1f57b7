"""The collaboration store on SQLite and on PostgreSQL: threads, edits, hiding, the queue."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from app.collaboration.posting import POSTING_WINDOW, POSTS_PER_WINDOW, PostingTooFast
from app.collaboration.store import (
    CollaborationError,
    CollaborationStore,
    NameMixesScripts,
    NameTaken,
    NotFound,
    mark_resolved,
)
from app.ledger.models import PatientDataRefused
from cds_hooks.store import CdsStore, Exposure, FeedbackRecord

MODULE = {"id": "sepsis-hour-1-bundle", "version": "2.0.0"}
NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"


@pytest.fixture
def store(database) -> CollaborationStore:
    """The collaboration store, beside the CDS store whose feedback it pulls."""
    CdsStore(database)
    return CollaborationStore(database)


def test_a_thread_keeps_its_posts_in_order_with_names_chosen_by_learners(store):
    store.set_display_name("L1", "Night owl")
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Lactate timing", "L1", "Hi")
    store.reply(thread_id, "L2", "A reply")

    assert [t.title for t in store.threads("module", MODULE["id"])] == ["Lactate timing"]
    assert store.threads("module", MODULE["id"])[0].posts == 2
    assert store.threads("club", MODULE["id"]) == []  # a journal club's scope is its own
    assert [(p.author_id, p.body) for p in store.posts(thread_id)] == [
        ("L1", "Hi"),
        ("L2", "A reply"),
    ]
    assert store.display_names({"L1", "L2"}) == {"L1": "Night owl"}


def test_two_learners_saving_one_name_at_once_leaves_the_second_with_name_taken(store, database):
    outcome = []

    def second_learner():
        try:
            store.set_display_name("L2", "Night owl")
            outcome.append("saved")
        except NameTaken:
            outcome.append("taken")

    with database.write() as first:  # L1's save, checked and inserted, not yet committed
        first.execute(
            text(
                "INSERT INTO collab_names (learner_id, display_name, name_key)"
                " VALUES ('L1', 'Night owl', 'night owl')"
            )
        )
        racer = threading.Thread(target=second_learner)
        racer.start()
        racer.join(timeout=1)  # L2 has checked (no owner yet) and now waits on the unique index
    racer.join(timeout=10)

    assert outcome == ["taken"]
    assert store.display_names({"L1", "L2"}) == {"L1": "Night owl"}


def test_a_display_name_belongs_to_one_learner(store):
    store.set_display_name("L1", "Night owl")
    with pytest.raises(NameTaken):
        store.set_display_name("L2", "night  OWL")
    store.set_display_name("L1", "Night Owl")  # the owner may change its case
    assert store.display_name("L1") == "Night Owl"


@pytest.mark.parametrize(
    "look_alike",
    [
        "Night \u200bowl",  # a zero-width space
        "Night owl\u2060",  # a word joiner
        "Night o\u034fwl",  # a combining grapheme joiner
        "Night ow\u217c",  # small roman numeral fifty
        "\uff2eight owl",  # full-width N
    ],
)
def test_a_name_that_reads_the_same_as_a_taken_one_is_taken(store, look_alike):
    store.set_display_name("L1", "Night owl")
    with pytest.raises(NameTaken):
        store.set_display_name("L2", look_alike)
    assert store.display_names({"L1", "L2"}) == {"L1": "Night owl"}


def test_a_new_name_mixing_scripts_is_refused_and_a_kept_one_still_saves(store, database):
    with pytest.raises(NameMixesScripts):
        store.set_display_name("L2", "N\u0456ght owl")  # a Cyrillic i
    store.set_display_name("L3", "\u5c71\u7530 Taro")  # Han with Latin
    store.set_display_name("L4", "\u0418\u0432\u0430\u043d")  # all Cyrillic
    with database.write() as connection:  # saved before names were checked
        connection.execute(
            text(
                "INSERT INTO collab_names (learner_id, display_name, name_key)"
                " VALUES ('L5', 'Dr \u0418\u0432\u0430\u043d', 'dr \u0438\u0432\u0430\u043d')"
            )
        )
    store.set_display_name("L5", "Dr \u0418\u0432\u0430\u043d")
    assert store.display_names({"L2", "L3", "L4", "L5"}) == {
        "L3": "\u5c71\u7530 Taro",
        "L4": "\u0418\u0432\u0430\u043d",
        "L5": "Dr \u0418\u0432\u0430\u043d",
    }


def test_an_edit_keeps_the_earlier_text_and_only_the_author_may_edit(store):
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Title here", "L1", "First")
    post = store.posts(thread_id)[0]
    store.edit_post(post.post_id, "L1", "Second")
    with pytest.raises(NotFound):
        store.edit_post(post.post_id, "L2", "Hijacked")

    assert store.post(post.post_id).body == "Second"
    assert store.post(post.post_id).edited_at is not None
    assert [edit.body for edit in store.edits(post.post_id)] == ["First"]


def test_two_edits_at_once_keep_both_earlier_texts_in_the_history(store, database):
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Title here", "L1", "v0 text")
    post_id = store.posts(thread_id)[0].post_id
    editors = [
        threading.Thread(target=store.edit_post, args=(post_id, "L1", body))
        for body in ("v1 from one tab", "v2 from another tab")
    ]
    with database.write() as holder:  # another write holds the post while both edits start
        holder.execute(
            text("UPDATE collab_posts SET edited_at = edited_at WHERE post_id = :id"),
            {"id": post_id},
        )
        for editor in editors:
            editor.start()
            editor.join(timeout=1)  # the edit has read the post (unlocked) or waits to
    for editor in editors:
        editor.join(timeout=30)

    history = [edit.body for edit in store.edits(post_id)]
    current = store.post(post_id).body
    assert history[0] == "v0 text"
    assert sorted([*history[1:], current]) == ["v1 from one tab", "v2 from another tab"]


def test_a_triage_racing_the_release_that_resolves_the_item_leaves_it_resolved(store, database):
    item_id = store.file_item(MODULE, "error", "The lactate threshold is wrong here", "L1")
    refused = []

    def triage():
        try:
            store.triage(item_id, "accepted", "E1")
        except CollaborationError as error:
            refused.append(str(error))

    editor = threading.Thread(target=triage)
    with database.write() as release:  # a starting worker resolving the item, not yet committed
        assert mark_resolved(release, item_id, "2.1.0")
        editor.start()
        editor.join(timeout=1)  # the triage has read the item (unlocked) or waits to
    editor.join(timeout=30)

    item = store.item(item_id)
    assert (item.status, item.resolved_version) == ("resolved", "2.1.0")
    assert refused == ["A resolved item stays resolved."]
    assert [event.kind for event in store.events(item_id)] == []


def test_a_moderator_replaces_a_thread_title_with_a_checked_one(store):
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Mr Jones, bed 4", "L1", "Hi")
    with pytest.raises(PatientDataRefused):
        store.retitle_thread(thread_id, "MRN 12345678 here")
    store.retitle_thread(thread_id, "Lactate timing")
    with pytest.raises(NotFound):
        store.retitle_thread("no-such-thread", "Lactate timing")
    assert store.thread(thread_id).title == "Lactate timing"


def test_hiding_keeps_the_text_and_restoring_shows_it_again(store):
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Title here", "L1", "Text")
    post_id = store.posts(thread_id)[0].post_id
    assert store.report_post(post_id, "L2") is True
    assert store.report_post(post_id, "L2") is False  # once per learner
    store.set_hidden(post_id, "M1", hidden=True)
    hidden = store.post(post_id)
    assert hidden.hidden and hidden.hidden_by == "M1" and hidden.body == "Text"
    assert store.reported_posts() == []  # hiding handled its report
    store.set_hidden(post_id, "M1", hidden=False)
    assert not store.post(post_id).hidden


def test_patient_data_never_enters_the_store(store):
    with pytest.raises(PatientDataRefused):
        store.start_thread("module", MODULE["id"], "2.0.0", "Title", "L1", "MRN 12345678 here")
    with pytest.raises(PatientDataRefused):
        store.file_item(MODULE, "error", "See Patient/abc-1 for details", "L1")
    assert store.threads("module", MODULE["id"]) == []
    assert store.items() == []


def test_triage_replies_and_resolution_notify_the_reporter(store):
    item_id = store.file_item(MODULE, "error", "The lactate threshold is wrong", "L1")
    store.triage(item_id, "accepted", "E1")
    store.reply_to_reporter(item_id, "E1", "Thank you, we are checking it")
    store.link_field(item_id, "card", "E1")
    unchanged = {MODULE["id"]: {**MODULE, "editorial": {"changelog": []}}}
    assert store.resolve_published(unchanged) == []
    published = {
        MODULE["id"]: {
            "id": MODULE["id"],
            "version": "2.1.0",
            "editorial": {"changelog": [{"version": "2.1.0", "resolves": [item_id]}]},
        }
    }
    assert store.resolve_published(published) == [item_id]
    assert store.resolve_published(published) == []  # once

    item = store.item(item_id)
    assert (item.status, item.resolved_version, item.field) == ("resolved", "2.1.0", "card")
    kinds = [notice.kind for notice in store.notices({"L1"})]
    assert sorted(kinds) == ["reply", "resolved", "status"]
    assert store.notices({"L2"}) == []
    store.mark_read({"L1"})
    assert all(notice.read_at for notice in store.notices({"L1"}))


def test_critiquing_cds_overrides_are_filed_once_without_patient_data(store, database):
    cds = CdsStore(database)
    for card, reason in (("c1", "recipient-disagrees-evidence"), ("c2", "cds-not-applicable")):
        cds.record_call([exposure(card)])
        cds.record_feedback(feedback(card, reason))

    assert store.import_cds_feedback() == 1
    assert store.import_cds_feedback() == 0  # keyed by the feedback's id
    [item] = store.items()
    assert (item.kind, item.source, item.module_version, item.body) == (
        "evidence",
        "cds",
        "2.0.0",
        "",
    )
    assert item.reporter_key == "cds:user-hash"
    assert "patient-hash" not in repr(item)


def exposure(card: str) -> Exposure:
    """A card shown to a (hashed) user about a (hashed) patient."""
    return Exposure(
        card_uuid=card,
        module_id=MODULE["id"],
        module_version="2.0.0",
        service_id="bedside-order-select",
        user_key="user-hash",
        patient_key="patient-hash",
        shown_at=1.0,
        client="",
        encounter_key="",
    )


def feedback(card: str, reason: str) -> FeedbackRecord:
    """An override of that card with a non-adherence reason."""
    return FeedbackRecord(
        feedback_key=f"key-{card}",
        card_uuid=card,
        module_id=MODULE["id"],
        user_key="user-hash",
        outcome="overridden",
        override_reason=reason,
        override_reason_system=NON_ADHERENCE,
        accepted_suggestions=(),
        outcome_at="2026-12-06T10:00:00Z",
    )


def test_a_learner_posts_at_most_the_budget_in_the_window_and_others_are_not_held_up(store):
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Fluids", "L1", "First")
    for number in range(POSTS_PER_WINDOW - 1):
        store.reply(thread_id, "L1", f"Reply {number}")
    with pytest.raises(PostingTooFast) as refused:
        store.reply(thread_id, "L1", "One too many")
    assert 1 <= refused.value.wait_seconds <= POSTING_WINDOW.total_seconds()
    with pytest.raises(PostingTooFast):
        store.start_thread("module", MODULE["id"], "2.0.0", "Another", "L1", "Still too many")
    store.reply(thread_id, "L2", "Another learner's budget is their own")
    assert store.post_count(thread_id) == POSTS_PER_WINDOW + 1
    assert "One too many" not in [post.body for post in store.posts(thread_id, limit=100)]


def test_a_learner_files_at_most_the_budget_of_critiques_in_the_window(store):
    for number in range(POSTS_PER_WINDOW):
        store.file_item(MODULE, "error", f"Critique {number} of the card", "L1")
    with pytest.raises(PostingTooFast) as refused:
        store.file_item(MODULE, "error", "One too many", "L1")
    assert 1 <= refused.value.wait_seconds <= POSTING_WINDOW.total_seconds()
    store.file_item(MODULE, "error", "Another learner's budget is their own", "L2")
    assert store.item_count() == POSTS_PER_WINDOW + 1


def test_posts_sent_at_once_by_one_learner_never_pass_the_budget(store):
    thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "Fluids", "L1", "First")
    start = threading.Barrier(8)

    def post_five(worker: int) -> int:
        """Post five replies at once with the other workers; how many were accepted."""
        accepted = 0
        for number in range(5):
            start.wait(timeout=30)
            try:
                store.reply(thread_id, "L1", f"Reply {worker}.{number}")
                accepted += 1
            except PostingTooFast:
                pass
        return accepted

    with ThreadPoolExecutor(8) as pool:
        accepted = sum(pool.map(post_five, range(8)))
    assert accepted == POSTS_PER_WINDOW - 1  # 40 tried; the thread's first post counts too
    assert store.post_count(thread_id) == POSTS_PER_WINDOW


def test_threads_and_posts_are_read_a_page_at_a_time(store):
    thread_ids = [
        store.start_thread("module", MODULE["id"], "2.0.0", f"Thread {n}", f"L{n}", "Hi")
        for n in range(3)
    ]
    for number in range(4):
        store.reply(thread_ids[0], f"L{number}", f"Reply {number}")
    store.set_hidden(store.posts(thread_ids[0])[1].post_id, "M1", hidden=True)

    assert store.thread_count("module", MODULE["id"]) == 3
    newest_first = store.threads("module", MODULE["id"], limit=2)
    assert [t.title for t in newest_first] == ["Thread 2", "Thread 1"]
    assert [t.title for t in store.threads("module", MODULE["id"], limit=2, offset=2)] == [
        "Thread 0"
    ]
    page_two = store.posts(thread_ids[0], limit=2, offset=2)
    assert [post.body for post in page_two] == ["Reply 1", "Reply 2"]
    assert store.post_count(thread_ids[0]) == 5
    assert store.post_count(thread_ids[0], hidden=False) == 4
    shown = store.posts(thread_ids[0], limit=10, hidden=False)
    assert [post.body for post in shown] == ["Hi", "Reply 1", "Reply 2", "Reply 3"]
