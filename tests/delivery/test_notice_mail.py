"""Notices by e-mail through a real SMTP server: one digest a learner a run, each notice once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for

from app.collaboration.store import Notice
from app.db import close_stores
from app.delivery.notices import NOTICE_DAYS
from app.delivery.outbox import outbox
from app.delivery.store import Preferences
from app.notice_mail import page
from tests.delivery.conftest import BASE_URL, mail_app, send_due_on_all_at_once
from tests.delivery.test_send_due import parts, run
from tests.support.serve import free_port

SEPSIS = "sepsis-hour-1-bundle"
STARTER, REPLIER, THIRD = "learner-a", "learner-b", "learner-c"
ADDRESS = "a@example.org"
NOTICES_ON = Preferences(quiet_start=0, quiet_end=0, notices=True)
REPLY = "Repeat the lactate within 2 h; my own words."


def opt_in(app, learner: str, address: str, preferences: Preferences = NOTICES_ON) -> None:
    """A confirmed subscription (no review question due) with these preferences."""
    store = app.extensions["delivery"]
    store.confirm(store.subscribe(learner, address, preferences, datetime.now(UTC).isoformat()))


def collab(app):
    """The app's collaboration store."""
    return app.extensions["collaboration"].store


def thread_replied_to(app, *repliers: str) -> str:
    """A thread STARTER opened on the sepsis module, replied to by each replier; its id."""
    thread_id = collab(app).start_thread("module", SEPSIS, "2.0.0", "Lactate?", STARTER, "When?")
    for replier in repliers:
        collab(app).reply(thread_id, replier, REPLY)
    return thread_id


def send_due(app, now: datetime | None = None):
    """One `send-due` run at this moment; its report."""
    with app.app_context():
        return outbox().send_due(now or datetime.now(UTC))


def test_a_reply_mails_the_starter_one_digest_with_the_link_and_a_second_run_nothing(app, inbox):
    opt_in(app, STARTER, ADDRESS)
    opt_in(app, REPLIER, "b@example.org")
    thread_id = thread_replied_to(app, REPLIER)

    result = run(app, "notify", "send-due")
    assert result.exit_code == 0, result.output
    assert "0 questions, 0 digests and 1 notice digests sent" in result.output
    [mail] = inbox.messages  # nobody is mailed about their own reply
    assert inbox.recipients == [[ADDRESS]]
    text, html = parts(mail)
    assert mail["Subject"] == "Bedside: 1 new notice"
    assert "A new reply in a discussion you take part in." in text
    assert f"{BASE_URL}/app/discuss/thread/{thread_id}" in text
    assert f'href="{BASE_URL}/app/discuss/thread/{thread_id}"' in html
    assert "Sepsis" in text  # the module's title
    assert REPLY not in text and REPLY not in html  # what happened and where, never the post
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "You get these notices because you asked for them" in text

    assert "0 notice digests sent" in run(app, "notify", "send-due").output
    assert len(inbox.messages) == 1


def test_notices_are_batched_in_one_mail_per_run_then_held_by_the_cap(app, inbox):
    opt_in(app, STARTER, ADDRESS)
    thread_id = thread_replied_to(app, REPLIER, THIRD)
    send_due(app)
    collab(app).reply(thread_id, REPLIER, "One more thought on the timing.")
    send_due(app)

    [mail] = inbox.to(ADDRESS)
    assert mail["Subject"] == "Bedside: 2 new notices"
    assert parts(mail)[0].count("A new reply in a discussion you take part in.") == 2
    a_day_on = datetime.now(UTC) + timedelta(days=1, minutes=1)
    assert send_due(app, a_day_on).notices == 1  # the third reply, once the daily cap allows
    assert inbox.to(ADDRESS)[-1]["Subject"] == "Bedside: 1 new notice"


def test_two_runs_at_once_mail_each_notice_once(instance_path, inbox, database_url):
    hosts = [mail_app(instance_path, inbox.port, database_url) for _ in range(2)]
    learners = [f"starter-{n}" for n in range(4)]
    for learner in learners:
        opt_in(hosts[0], learner, f"{learner}@example.org")
        thread_id = collab(hosts[0]).start_thread("module", SEPSIS, "2.0.0", "T", learner, "Hi")
        collab(hosts[0]).reply(thread_id, REPLIER, REPLY)
    reports = send_due_on_all_at_once(hosts)

    assert sum(report.notices for report in reports) == len(learners)
    assert sorted(r[0] for r in inbox.recipients) == sorted(f"{n}@example.org" for n in learners)


def test_without_the_notices_choice_no_notice_is_mailed(app, inbox):
    opt_in(app, STARTER, ADDRESS, Preferences(quiet_start=0, quiet_end=0))
    thread_replied_to(app, REPLIER)
    assert send_due(app).notices == 0
    assert inbox.messages == []


def test_one_click_unsubscribe_stops_the_notices_too(app, inbox):
    opt_in(app, STARTER, ADDRESS)
    nonce = app.extensions["delivery"].subscription(STARTER).nonce
    app.extensions["delivery"].unsubscribe(nonce)
    thread_replied_to(app, REPLIER)
    send_due(app)
    assert inbox.messages == []


def test_quiet_hours_hold_the_notices_back_until_they_end(app, inbox):
    opt_in(
        app,
        STARTER,
        ADDRESS,
        Preferences(time_zone="UTC", quiet_start=21, quiet_end=7, notices=True),
    )
    thread_replied_to(app, REPLIER)
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    night, morning = today.replace(hour=23), today.replace(hour=8) + timedelta(days=1)
    assert send_due(app, night).quiet == 1
    assert inbox.messages == []
    assert send_due(app, morning).notices == 1


def test_a_bounced_address_gets_no_notices(app, inbox):
    opt_in(app, STARTER, ADDRESS)
    app.extensions["delivery"].suppress(ADDRESS, "bounce", datetime.now(UTC).isoformat())
    thread_replied_to(app, REPLIER)
    send_due(app)
    assert inbox.messages == []


def test_a_hidden_reply_and_a_notice_read_in_the_app_are_not_mailed(app, inbox):
    opt_in(app, STARTER, ADDRESS)
    thread_id = thread_replied_to(app, REPLIER)
    hidden = collab(app).reply(thread_id, THIRD, "Off topic entirely.")
    collab(app).set_hidden(hidden, "moderator", hidden=True)
    collab(app).mark_read({STARTER})  # both read on the notices page before the run
    collab(app).set_hidden(hidden, "moderator", hidden=False)
    collab(app).set_hidden(collab(app).reply(thread_id, THIRD, "Spam."), "moderator", hidden=True)

    assert send_due(app).notices == 0
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        (
            "es",
            "Bedside: 1 aviso nuevo",
            "Una nueva respuesta en una discusión en la que participa.",
        ),
        ("fr", "Bedside : 1 nouvelle notification", "Une nouvelle réponse dans une discussion"),
    ],
)
def test_the_digest_is_in_the_learners_language(app, inbox, language, subject, line):
    opt_in(app, STARTER, ADDRESS, Preferences(language, quiet_start=0, quiet_end=0, notices=True))
    thread_replied_to(app, REPLIER)
    send_due(app)
    [mail] = inbox.messages
    assert mail["Subject"] == subject
    assert line in parts(mail)[0]


def test_an_editor_and_a_reporter_are_mailed_about_the_queue(app, inbox):
    store = collab(app)
    opt_in(app, "editor", "editor@example.org")
    opt_in(app, STARTER, ADDRESS)
    store.note_role("editor", "edit-queue", held=True)
    item_id = store.file_item(
        {"id": SEPSIS, "version": "2.0.0"}, "error", "Cut-off moved.", STARTER
    )
    store.reply_to_reporter(item_id, "editor", "Thanks, on it.")
    send_due(app)

    [editor_mail] = inbox.to("editor@example.org")
    [reporter_mail] = inbox.to(ADDRESS)
    assert f"{BASE_URL}/app/editorial/{item_id}" in parts(editor_mail)[0]
    reporter_text = parts(reporter_mail)[0]
    assert "News about a comment you sent on the content." in reporter_text
    assert f"{BASE_URL}/app/notices" in reporter_text
    assert "Thanks, on it." not in reporter_text and "Cut-off moved." not in reporter_text


def test_a_refused_notice_digest_is_released_and_sent_by_the_next_run(instance_path, inbox):
    app = mail_app(instance_path, inbox.port)
    working = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://user:hidden@127.0.0.1:{free_port()}"  # nobody listens
    opt_in(app, STARTER, ADDRESS)
    thread_replied_to(app, REPLIER)

    failed = run(app, "notify", "send-due")
    app.config["SMTP_URL"] = working
    retried = run(app, "notify", "send-due")

    close_stores(app)
    assert failed.exit_code == 1 and "0 notice digests sent" in failed.output
    assert "1 notice digests sent" in retried.output
    assert len(inbox.to(ADDRESS)) == 1


def test_the_mailed_links_are_the_pages_the_app_serves(app):
    notice = collab_notice(thread_id="t1", scope="module", scope_id=SEPSIS)
    case_notice = collab_notice(thread_id="t2", scope="case", scope_id="case-1")
    item = collab_notice(kind="queue-item", item_id="ed-1")
    with app.test_request_context():
        assert page(notice) == url_for("ui.thread_view", thread_id="t1")
        assert page(case_notice) == url_for("ui.case_view", case_id="case-1")
        assert page(item) == url_for("ui.editorial_item", item_id="ed-1")
        assert page(collab_notice(kind="post-reported")) == url_for("ui.moderation")
        assert page(collab_notice(kind="status")) == url_for("ui.notices")


def collab_notice(kind: str = "thread-reply", **values) -> Notice:
    """A collaboration notice of this kind (only what a link is made of)."""
    return Notice("n1", values.pop("item_id", None), kind, "", "", None, **values)


def test_more_notices_than_one_run_reads_go_out_over_two_runs_each_once(app, inbox):
    opt_in(app, STARTER, ADDRESS)
    thread_replied_to(app, *(f"replier-{n}" for n in range(60)))
    now = datetime.now(UTC)
    assert send_due(app, now).notices == 1
    assert send_due(app, now + timedelta(days=1, minutes=1)).notices == 1
    assert send_due(app, now + timedelta(days=2, minutes=2)).notices == 0

    first, second = inbox.to(ADDRESS)
    assert first["Subject"] == "Bedside: 50 new notices"
    assert second["Subject"] == "Bedside: 10 new notices"


def test_a_run_purges_the_notice_claims_older_than_the_mailing_window(app, inbox):
    opt_in(app, STARTER, ADDRESS)
    thread_replied_to(app, REPLIER)
    now = datetime.now(UTC)
    send_due(app, now)
    delivery, early = app.extensions["delivery"], "2000-01-01T00:00:00+00:00"
    assert len(delivery.mailed_notices(STARTER, early)) == 1
    send_due(app, now + timedelta(days=NOTICE_DAYS, minutes=1))
    assert len(delivery.mailed_notices(STARTER, early)) == 1  # kept a day past the window
    send_due(app, now + timedelta(days=NOTICE_DAYS + 1, minutes=1))
    assert delivery.mailed_notices(STARTER, early) == set()


def test_preview_prints_the_notices_digest_without_sending_or_claiming_it(app, inbox):
    opt_in(app, STARTER, ADDRESS)
    thread_id = thread_replied_to(app, REPLIER)

    result = run(app, "notify", "preview", "--learner", STARTER, "--kind", "notices")

    assert result.exit_code == 0, result.output
    assert "Subject: Bedside: 1 new notice" in result.output
    assert f"{BASE_URL}/app/discuss/thread/{thread_id}" in result.output
    assert ADDRESS not in result.output and REPLY not in result.output
    assert inbox.messages == []
    assert "1 notice digests sent" in run(app, "notify", "send-due").output  # nothing was claimed
    nothing = run(app, "notify", "preview", "--learner", STARTER, "--kind", "notices")
    assert nothing.exit_code == 1 and "no notice to mail" in nothing.output
    refused = run(app, "notify", "preview", "--learner", STARTER, "--kind", "letters")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
