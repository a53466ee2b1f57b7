"""/app/notices over HTTP: a reply, a new queue item and a reported post, each with its link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.collaboration.conftest import EDITOR, MODERATOR, SEPSIS, post_ids, start_thread
from tests.ui.helpers import get, launch_as, post


@pytest.fixture
def editor(collab_app, auth_server):
    """A clinician the roles file makes an editor, who has opened their notices once."""
    client = collab_app.test_client()
    launch_as(client, auth_server, EDITOR)
    get(client, "/app/notices")
    return client


@pytest.fixture
def moderator(collab_app, auth_server):
    """A clinician the roles file makes a moderator, who has opened their notices once."""
    client = collab_app.test_client()
    launch_as(client, auth_server, MODERATOR)
    get(client, "/app/notices")
    return client


def notice_links(html: str) -> list[str]:
    """The paths the notices of a notices page link to (without this browser's launch)."""
    notices = html[html.index('<ol class="plain notices">') :].split("</ol>")[0]
    return [urlsplit(link).path for link in re.findall(r'<a href="([^"]+)"', notices)]


def test_a_reply_by_a_peer_shows_in_the_starters_notices_with_its_link(learner, peer):
    url = start_thread(learner)
    post(peer, url, get(peer, url), body="Agreed, and check the trend.")

    html = get(learner, "/app/notices")
    assert "A new reply in the discussion “Lactate before fluids?”" in html
    assert notice_links(html) == [url]
    assert "check the trend" not in html  # what happened and where, not the post
    assert "No notices yet." in get(peer, "/app/notices")  # nobody is told of their own post


def test_a_reply_a_moderator_hid_leaves_no_notice(learner, peer, moderator):
    url = start_thread(learner)
    post(peer, url, get(peer, url), body="Off topic entirely.")
    reply_id = post_ids(get(learner, url))[-1]
    thread_html = get(moderator, url)
    post(moderator, f"/app/discuss/post/{reply_id}/hide", thread_html)
    assert "No notices yet." in get(learner, "/app/notices")


def test_an_editor_hears_of_a_learners_critique_with_a_link_to_the_item(editor, learner):
    form = get(learner, f"/app/critique/{SEPSIS}")
    post(learner, f"/app/critique/{SEPSIS}", form, kind="error", body="The lactate cut-off moved.")

    html = get(editor, "/app/notices")
    assert "A new comment on the content is in the editorial queue." in html
    [link] = notice_links(html)
    assert link.startswith("/app/editorial/")
    assert "The lactate cut-off moved." in get(editor, link)


def test_a_moderator_hears_of_a_reported_post(learner, peer, moderator):
    url = start_thread(learner)
    html = get(peer, url)
    post(peer, f"/app/discuss/post/{post_ids(html)[0]}/report", html)
    notices = get(moderator, "/app/notices")
    assert "A learner reported a post in “Lactate before fluids?” for moderation." in notices
    assert notice_links(notices) == ["/app/moderation"]


def test_the_notices_are_paged_50_at_a_time_and_a_junk_page_lands_on_a_real_one(
    collab_app, learner
):
    url = start_thread(learner)
    store = collab_app.extensions["collaboration"].store
    for n in range(55):
        store.reply(url.rsplit("/", 1)[-1], f"replier-{n}", "Agreed.")

    first = get(learner, "/app/notices")
    assert first.count('<li class="panel notice') == 50
    assert 'aria-label="Go to page 2"' in first
    assert get(learner, "/app/notices?page=2").count('<li class="panel notice') == 5
    assert get(learner, "/app/notices?page=x").count('<li class="panel notice') == 50
    assert get(learner, "/app/notices?page=99").count('<li class="panel notice') == 5


def test_mark_all_read_leaves_a_notice_that_came_after_the_page_was_shown_unread(
    collab_app, learner
):
    thread_id = start_thread(learner).rsplit("/", 1)[-1]
    store = collab_app.extensions["collaboration"].store
    store.reply(thread_id, "replier-1", "Agreed.")
    shown = get(learner, "/app/notices")
    shown_at = re.search(r'name="shown_at" value="([^"]+)"', shown)[1]
    store.reply(thread_id, "replier-2", "Me too.")  # arrives while the page is open

    post(learner, "/app/notices/read", shown, shown_at=shown_at)
    assert get(learner, "/app/notices").count('<li class="panel notice unread">') == 1
    for junk in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "not a time"):
        post(learner, "/app/notices/read", shown, shown_at=junk)  # junk marks them all read
    assert get(learner, "/app/notices").count('<li class="panel notice unread">') == 0
