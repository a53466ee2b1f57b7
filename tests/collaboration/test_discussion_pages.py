"""Discussions over HTTP: display names, the patient-data guard, edits, reports, moderation."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from app.collaboration.posting import PAGE_SIZE, POSTS_PER_WINDOW
from tests.collaboration.conftest import MODERATOR, SEPSIS, post_ids, start_thread
from tests.ui.helpers import FHIR_USER, get, launch, launch_as, post
from tests.ui.helpers import learner as demo_learner


@pytest.fixture
def moderator(collab_app, auth_server):
    """A clinician the roles file makes a moderator."""
    client = collab_app.test_client()
    launch_as(client, auth_server, MODERATOR)
    return client


def test_peers_see_the_chosen_name_and_safe_markdown_never_the_ehr_identity(learner, peer):
    url = start_thread(learner, body="Repeat it <script>alert(1)</script> **within 2 h**")
    html = get(peer, url)
    assert "Night owl" in html
    assert "<strong>within 2 h</strong>" in html
    assert "<script>alert" not in html
    assert "dr-ed-okafor" not in html and FHIR_USER not in html
    post(peer, url, html, body="Agreed, and check the **trend**.")
    assert "Day shift" in get(learner, url)


@pytest.mark.parametrize(
    "text",
    ["Maeve Harlow had a lactate of 4", "MRN 48213377 lactate was 4", "born 07/22/1958, lactate 4"],
)
def test_the_guard_refuses_patient_data_and_keeps_what_was_typed(learner, collab_store, text):
    page_html = get(learner, f"/app/discuss/{SEPSIS}")
    response = post(
        learner, f"/app/discuss/{SEPSIS}", page_html, status=400, title="A real case", body=text
    )
    html = response.get_data(as_text=True)
    assert "Bedside never records patient data" in html
    assert text.split(",")[0] in html  # the learner's text is back in the form
    assert collab_store.threads("module", SEPSIS) == []


@pytest.mark.parametrize(
    "text", ["Another patient, DOB 3/4/1950, same issue", "nacida el 03-04-1950"]
)
def test_any_date_of_birth_is_refused_but_clinical_numbers_pass(learner, collab_store, text):
    page_html = get(learner, f"/app/discuss/{SEPSIS}")
    response = post(
        learner, f"/app/discuss/{SEPSIS}", page_html, status=400, title="Similar case", body=text
    )
    assert "date of birth" in response.get_data(as_text=True)
    clinical = "Born at 32 weeks; lactate 4.1 at 10:30, 2 h after 30 mL/kg"
    post(learner, f"/app/discuss/{SEPSIS}", page_html, title="Similar case", body=clinical)
    assert len(collab_store.threads("module", SEPSIS)) == 1


def test_a_post_keeps_the_pages_one_h1_and_no_inline_style(learner):
    body = "# My own title\n\n| dose | time |\n|--:|:-:|\n| 30 mL/kg | 3 h |\n"
    html = get(learner, start_thread(learner, body=body))  # get() refuses style attributes
    assert html.count("<h1") == 1
    assert "<p><strong>My own title</strong></p>" in html


def test_a_post_needs_a_display_name_first(collab_app, auth_server, collab_store):
    client = collab_app.test_client()
    launch_as(client, auth_server, "dr-new-nguyen")
    page_html = get(client, f"/app/discuss/{SEPSIS}")
    assert "Choose your display name" in page_html
    post(client, f"/app/discuss/{SEPSIS}", page_html, status=400, title="Hello all", body="Hi")
    assert collab_store.threads("module", SEPSIS) == []


def test_the_author_edits_and_only_they_and_moderators_read_the_earlier_text(
    learner, peer, moderator, collab_store
):
    url = start_thread(learner, body="First wording")
    post_id = post_ids(get(learner, url))[0]
    edit_form = get(learner, f"/app/discuss/post/{post_id}/edit")
    post(learner, f"/app/discuss/post/{post_id}/edit", edit_form, body="Second wording")
    history_url = f"/app/discuss/post/{post_id}/history"
    history = get(learner, history_url)
    assert history.index("First wording") < history.index("Second wording")
    assert "First wording" in get(moderator, history_url)
    get(peer, history_url, status=404)
    peer_view = get(peer, url)
    assert "edited" in peer_view and history_url not in peer_view
    assert history_url in get(learner, url)


def test_a_learner_cannot_edit_another_learners_post(learner, peer, collab_store):
    url = start_thread(learner, body="Mine")
    post_id = post_ids(get(learner, url))[0]
    get(peer, f"/app/discuss/post/{post_id}/edit", status=403)
    thread_html = get(peer, url)
    response = peer.post(
        f"/app/discuss/post/{post_id}/edit",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', thread_html)[1],
            "body": "Hijacked",
        },
    )
    assert response.status_code == 403
    assert collab_store.post(post_id).body == "Mine"


def test_report_then_the_moderator_hides_and_restores(learner, peer, moderator, collab_store):
    url = start_thread(learner, body="Questionable advice")
    thread_html = get(peer, url)
    post_id = post_ids(thread_html)[0]
    post(peer, f"/app/discuss/post/{post_id}/report", thread_html)
    queue_html = get(moderator, "/app/moderation")
    assert "Questionable advice" in queue_html and "1 report" in queue_html
    post(moderator, f"/app/discuss/post/{post_id}/hide", queue_html, next="moderation")
    assert collab_store.post(post_id).hidden

    hidden_view = get(peer, url)
    assert "Questionable advice" not in hidden_view and "A moderator hid this post." in hidden_view
    get(peer, f"/app/discuss/post/{post_id}/history", status=404)
    get(peer, f"/app/critique/{SEPSIS}?post={post_id}", status=404)
    get(learner, f"/app/discuss/post/{post_id}/edit", status=404)  # hidden from its author too
    assert "Questionable advice" in get(moderator, url)

    post(moderator, f"/app/discuss/post/{post_id}/restore", get(moderator, url))
    assert "Questionable advice" in get(peer, url)


def test_a_learner_cannot_moderate_and_nothing_changes(learner, peer, collab_store):
    url = start_thread(learner, body="Fine post")
    thread_html = get(peer, url)
    post_id = post_ids(thread_html)[0]
    get(peer, "/app/moderation", status=403)
    token = re.search(r'name="csrf_token" value="([^"]+)"', thread_html)[1]
    assert (
        peer.post(f"/app/discuss/post/{post_id}/hide", data={"csrf_token": token}).status_code
        == 403
    )
    assert not collab_store.post(post_id).hidden
    collab_store.set_hidden(post_id, "someone", hidden=True)
    assert (
        peer.post(f"/app/discuss/post/{post_id}/restore", data={"csrf_token": token}).status_code
        == 403
    )
    assert collab_store.post(post_id).hidden
    assert "Hide" not in thread_html


def test_a_post_without_the_csrf_token_is_refused(learner, collab_store):
    response = learner.post(f"/app/discuss/{SEPSIS}", data={"title": "No token", "body": "Hi"})
    assert response.status_code == 400
    assert collab_store.threads("module", SEPSIS) == []


def test_unknown_threads_and_posts_are_404(learner):
    get(learner, "/app/discuss/thread/nope", status=404)
    get(learner, "/app/discuss/post/nope/history", status=404)
    get(learner, "/app/discuss/no-such-module", status=404)


def test_the_pages_in_spanish(learner):
    url = start_thread(learner)
    assert "Responder" in get(learner, url + "?lang=es")


def test_a_learners_export_holds_their_name_and_posts_and_delete_unnames_them(learner, peer):
    url = start_thread(learner, body="Do you repeat lactate within 2 h?")
    exported = learner.get("/app/profile/export").get_json()["collaboration"]
    assert exported["display_name"] == "Night owl"
    assert [p["body"] for p in exported["posts"]] == ["Do you repeat lactate within 2 h?"]
    post(learner, "/app/profile/delete", get(learner, "/app/profile/delete"))
    html = get(peer, url)
    assert "Night owl" not in html and "A learner" in html
    assert "Do you repeat lactate within 2 h?" in html  # the thread keeps its post


def test_over_the_posting_budget_a_reply_is_refused_with_429_and_the_text_is_kept(
    collab_app, learner, collab_store
):
    url = start_thread(learner)
    thread_id = url.rsplit("/", 1)[1]
    for number in range(POSTS_PER_WINDOW - 1):
        collab_store.reply(thread_id, demo_learner(collab_app), f"Quick note {number}")
    html = get(learner, url)
    response = post(learner, url, html, status=429, body="My carefully typed **answer**")
    page_html = response.get_data(as_text=True)
    assert "My carefully typed **answer**" in page_html  # in the form, nothing lost
    assert f"You have posted {POSTS_PER_WINDOW} times in the last 10 minutes" in page_html
    assert 1 <= int(response.headers["Retry-After"]) <= 600
    assert collab_store.post_count(thread_id) == POSTS_PER_WINDOW
    thread_form = get(learner, f"/app/discuss/{SEPSIS}")
    refused = post(
        learner, f"/app/discuss/{SEPSIS}", thread_form, status=429, title="New one", body="Kept"
    )
    assert 'value="New one"' in refused.get_data(as_text=True)


def test_a_long_thread_is_shown_a_page_at_a_time_with_numbered_links(
    collab_app, learner, peer, collab_store
):
    url = start_thread(learner)
    thread_id = url.rsplit("/", 1)[1]
    for number in range(PAGE_SIZE + 5):
        collab_store.reply(thread_id, f"learner-{number % 5}", f"Reply number {number}")
    first = get(peer, url)
    assert len(post_ids(first)) == PAGE_SIZE
    assert f'href="{url}?page=2' in first and "Reply number 48" in first
    second = get(peer, url + "?page=2")
    assert len(post_ids(second)) == 6 and "Reply number 54" in second
    assert 'aria-current="page">2<' in second
    for nonsense in ("abc", "-1", "99999999999999999999"):
        assert len(post_ids(get(peer, f"{url}?page={nonsense}"))) in {PAGE_SIZE, 6}
    replied = post(peer, url, second, body="The newest reply")
    assert "page=2" in replied.headers["Location"]  # straight to the page that shows it


def test_reported_posts_are_paged_50_at_a_time_most_reported_first(
    learner, moderator, collab_store
):
    thread_id = start_thread(learner).rsplit("/", 1)[-1]
    post_ids_made = [collab_store.reply(thread_id, f"L{n}", f"Reply {n}") for n in range(52)]
    for post_id in post_ids_made:
        collab_store.report_post(post_id, "R1")
    collab_store.report_post(post_ids_made[-1], "R2")  # the most reported comes first

    first = get(moderator, "/app/moderation")
    assert first.count('<li class="panel post reported-post">') == 50
    assert first.index("Reply 51") < first.index("Reply 0") and "2 reports" in first
    assert 'href="/app/moderation?page=2&amp;launch=' in first
    second = get(moderator, "/app/moderation?page=2")
    assert second.count('<li class="panel post reported-post">') == 2
    assert "Reply 49" in second and "Reply 50" in second


@pytest.mark.parametrize(
    "target", ["/app/\n", "/app/\r\nSet-Cookie: x=1", "/app/\t", "//evil.example/"]
)
def test_a_next_page_with_a_control_character_or_off_site_goes_to_the_start_page(
    collab_app, auth_server, target
):
    """A newline in `next` cannot go in a Location header: it was a 500 after the name was saved."""
    client = collab_app.test_client()
    launch(client, auth_server)
    form = get(client, "/app/discuss/name")
    response = post(client, "/app/discuss/name", form, name="Night owl", next=target)
    assert urlsplit(response.headers["Location"]).path == "/app/"  # the start page


@pytest.mark.parametrize(
    ("look_alike", "message"),
    [
        ("Night \u200bowl", "Another learner already uses this name."),
        ("N\u0456ght owl", "Write your name in one alphabet"),
    ],
)
def test_a_name_that_could_pass_for_a_taken_one_comes_back_with_a_sentence(
    learner, peer, look_alike, message
):
    response = post(
        peer, "/app/discuss/name", get(peer, "/app/discuss/name"), status=400, name=look_alike
    )
    assert message in response.get_data(as_text=True)
    assert 'value="Day shift"' in get(peer, "/app/discuss/name")  # the peer's name is unchanged


def test_a_moderator_replaces_a_thread_title_that_names_a_patient(
    learner, peer, moderator, collab_store
):
    url = start_thread(learner, title="Case of Mr Tobias Jones bed 12")
    title_url = url + "/title"
    post(peer, title_url, get(peer, url), status=403, title="Hijacked title")
    refused = post(moderator, title_url, get(moderator, url), status=400, title="Born 03/04/1950")
    assert 'value="Born 03/04/1950"' in refused.get_data(as_text=True)  # kept in its form
    post(moderator, title_url, get(moderator, url), title="Lactate in a septic patient")

    assert "Tobias Jones" not in get(learner, f"/app/discuss/{SEPSIS}")
    thread_html = get(learner, url)
    assert "Tobias Jones" not in thread_html and "Lactate in a septic patient" in thread_html
    assert title_url not in thread_html  # the form is for moderators only
    assert [thread.title for thread in collab_store.threads("module", SEPSIS)] == [
        "Lactate in a septic patient"
    ]
