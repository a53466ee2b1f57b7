"""An approved case always gets one discussion: opened when needed, and kept across re-approval."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app.ui import conference_views
from tests.case_conferences.conftest import MODERATOR
from tests.case_conferences.test_case_pages import draft_case, launched, review
from tests.ui.helpers import get, post


@pytest.fixture
def clients(clubs_app, auth_server) -> tuple:
    """The author, a peer with no role and a moderator, each launched from the EHR."""
    clinicians = ("dr-ed-okafor", "dr-peer-patel", MODERATOR)
    return tuple(launched(clubs_app, auth_server, clinician) for clinician in clinicians)


def case_id_of(case_path: str) -> str:
    """The case id at the end of a case's path."""
    return case_path.rsplit("/", 1)[1]


def set_case_columns(app, case_path: str, **columns: str | None) -> None:
    """Change a stored case directly, as an earlier worker or release left it."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with app.extensions["case_conferences"].database.write() as connection:
        connection.exec_driver_sql(
            f"UPDATE conf_cases SET {assignments} WHERE case_id = :id",
            {**columns, "id": case_id_of(case_path)},
        )


def case_threads(app, case_path: str) -> list:
    """The collaboration threads opened for a case."""
    return app.extensions["collaboration"].store.threads("case", case_id_of(case_path))


def reply_as(client, case_path: str, name: str, body: str) -> None:
    """Choose a display name, then reply on the case's page."""
    post(client, "/app/discuss/name", get(client, "/app/discuss/name"), name=name)
    post(client, case_path, get(client, case_path), body=body)


def approved_case(author, moderator) -> str:
    """A case drafted, submitted and approved through the pages."""
    case = draft_case(author)
    post(author, case + "/submit", get(author, case + "/edit"))
    review(moderator, case, "approve")
    return case


def test_an_approved_case_left_without_a_thread_is_discussed_from_its_page(clubs_app, clients):
    author, peer, moderator = clients
    case = draft_case(author)
    post(author, case + "/submit", get(author, case + "/edit"))
    cases = clubs_app.extensions["case_conferences"]
    seen = cases.case(case_id_of(case)).updated_at
    cases.review(case_id_of(case), "moderator-elsewhere", approve=True, seen=seen)  # then died
    assert cases.case(case_id_of(case)).thread_id is None
    get(moderator, case)
    opened = cases.case(case_id_of(case)).thread_id
    reply_as(peer, case, "Dr Peer", "Would you give **fluids** first?")
    assert "<strong>fluids</strong>" in get(author, case)
    assert [thread.thread_id for thread in case_threads(clubs_app, case)] == [opened]


def test_reapproving_a_case_an_edit_took_back_keeps_its_discussion(clubs_app, clients):
    author, peer, moderator = clients
    case = approved_case(author, moderator)
    reply_as(peer, case, "Dr Peer", "Would you give **fluids** first?")
    first = clubs_app.extensions["case_conferences"].case(case_id_of(case)).thread_id
    set_case_columns(clubs_app, case, status="draft")  # as an edit racing the approval left it
    post(author, case + "/submit", get(author, case + "/edit"))
    review(moderator, case, "approve")
    assert clubs_app.extensions["case_conferences"].case(case_id_of(case)).thread_id == first
    assert [thread.thread_id for thread in case_threads(clubs_app, case)] == [first]
    assert "<strong>fluids</strong>" in get(peer, case)


def test_a_cases_thread_is_not_answered_through_the_module_thread_page(clubs_app, clients):
    author, peer, moderator = clients
    case = approved_case(author, moderator)
    thread_id = clubs_app.extensions["case_conferences"].case(case_id_of(case)).thread_id
    post(peer, "/app/discuss/name", get(peer, "/app/discuss/name"), name="Dr Peer")
    page = get(peer, case)
    post(peer, f"/app/discuss/thread/{thread_id}", page, status=404, body="Sideways")
    get(peer, f"/app/discuss/thread/{thread_id}", status=404)
    assert clubs_app.extensions["collaboration"].store.post_count(thread_id) == 1


def test_reporting_and_moderating_a_case_post_lead_back_to_its_case_page(clubs_app, clients):
    author, peer, moderator = clients
    case = approved_case(author, moderator)
    reply_as(peer, case, "Dr Peer", "Would you give **fluids** first?")
    thread_id = clubs_app.extensions["case_conferences"].case(case_id_of(case)).thread_id
    reply = clubs_app.extensions["collaboration"].store.posts(thread_id)[-1]
    reported = post(author, f"/app/discuss/post/{reply.post_id}/report", get(author, case))
    assert urlsplit(reported.headers["Location"]).path == case
    queue = get(moderator, "/app/moderation")
    assert f'href="{case}' in queue and "/app/discuss/thread/" not in queue
    hidden = post(moderator, f"/app/discuss/post/{reply.post_id}/hide", get(moderator, case))
    assert urlsplit(hidden.headers["Location"]).path == case


def test_two_workers_opening_an_approved_cases_discussion_at_once_open_one_thread(
    clubs_app, clients, monkeypatch
):
    author, peer, _moderator = clients
    case = draft_case(author)
    post(author, case + "/submit", get(author, case + "/edit"))
    cases = clubs_app.extensions["case_conferences"]
    seen = cases.case(case_id_of(case)).updated_at
    cases.review(case_id_of(case), "moderator-elsewhere", approve=True, seen=seen)  # then died
    attach = cases.open_discussion

    def another_worker_opens_it_first(case_id: str, thread_id: str) -> str:
        """Between this worker's opening and attaching, another worker's view does both."""
        monkeypatch.setattr(cases, "open_discussion", attach)
        with clubs_app.test_request_context():
            conference_views.discussion_of(cases.case(case_id))
        return attach(case_id, thread_id)

    monkeypatch.setattr(cases, "open_discussion", another_worker_opens_it_first)
    get(peer, case)
    threads = case_threads(clubs_app, case)
    assert [thread.thread_id for thread in threads] == [cases.case(case_id_of(case)).thread_id]
    assert clubs_app.extensions["collaboration"].store.post_count(threads[0].thread_id) == 1


def test_a_case_post_is_edited_reported_and_hidden_from_the_case_page(clubs_app, clients):
    author, peer, moderator = clients
    case = approved_case(author, moderator)
    reply_as(peer, case, "Dr Peer", "Would you give fluids first?")
    thread_id = clubs_app.extensions["case_conferences"].case(case_id_of(case)).thread_id
    reply = clubs_app.extensions["collaboration"].store.posts(thread_id)[-1]
    edit_link = f"/app/discuss/post/{reply.post_id}/edit"
    assert edit_link in get(peer, case) and edit_link not in get(author, case)
    form = get(peer, edit_link)
    assert f'class="button" href="{case}' in form  # Cancel leads back to the case
    edited = post(peer, edit_link, form, body="Would you give **fluids** first?")
    assert urlsplit(edited.headers["Location"]).path == case
    assert f"/app/discuss/post/{reply.post_id}/history" in get(peer, case)
    author_view = get(author, case)
    assert f"/app/discuss/post/{reply.post_id}/report" in author_view
    reported = post(author, f"/app/discuss/post/{reply.post_id}/report", author_view)
    assert "the moderators will look at this post" in get(author, reported.headers["Location"])
    post(moderator, f"/app/discuss/post/{reply.post_id}/hide", get(moderator, case))
    assert "A moderator hid this post." in get(author, case)
    assert "<strong>fluids</strong>" not in get(author, case)
    moderated = get(moderator, case)
    assert "<strong>fluids</strong>" in moderated
    assert f"/app/discuss/post/{reply.post_id}/restore" in moderated
