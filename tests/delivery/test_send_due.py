"""`bedside notify send-due` against a real SMTP server on loopback: what arrives, and only once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from app.cli import cli
from app.db import close_stores
from app.delivery.outbox import outbox
from app.delivery.store import Preferences
from app.learning.profile_store import AnswerEvent
from tests.delivery.conftest import (
    ANSWERED,
    BASE_URL,
    MODULE,
    QUESTION,
    SMTP_USER,
    mail_app,
    send_due_on_all_at_once,
    subscribe,
)
from tests.support.serve import free_port

ADDRESS = "dr.okafor@example.org"


def run(app, *args: str):
    """Run a `bedside` command against this app."""
    return app.test_cli_runner().invoke(cli=cli, args=list(args))


def parts(message) -> tuple[str, str]:
    """The plain-text and HTML parts of a received message."""
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def answer_links(text: str) -> dict[str, str]:
    """Option letter → answer link, read from the plain-text part."""
    links = re.findall(r"^([A-H])\. .*\n\s+(\S+)$", text, re.M)
    return dict(links)


def local(url: str) -> str:
    """The path and query of one of Bedside's links (the test client speaks to the app)."""
    parts_ = urlsplit(url)
    assert f"{parts_.scheme}://{parts_.netloc}" == BASE_URL
    return f"{parts_.path}?{parts_.query}"


def mastery_answers(app, learner: str) -> int:
    """How many answers the learner's mastery of the module counts."""
    return app.extensions["learning"].mastery(learner)[MODULE].answers


def test_send_due_delivers_a_question_whose_link_records_the_answer_once(app, inbox):
    subscribe(app, "learner-1", ADDRESS)
    module = app.extensions["ui"].library.modules[MODULE]
    question = module["case"]["questions"][0]

    result = run(app, "notify", "send-due")

    assert result.exit_code == 0, result.output
    assert "1 questions, 0 digests and 0 notice digests sent" in result.output
    assert ADDRESS not in result.output
    [message] = inbox.to(ADDRESS)
    assert inbox.logins == [SMTP_USER]
    assert message["To"] == ADDRESS
    assert message["Content-Language"] == "en"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<http://bedside\.test/mail/unsubscribe\?t=\S+>", message["List-Unsubscribe"]
    )
    text, html = parts(message)
    assert question["stem"]["en"] in text and question["stem"]["en"] in html
    assert all(option["text"]["en"] in html for option in question["options"])
    links = answer_links(text)
    assert len(links) == len(question["options"])
    client = app.test_client()
    correct_letter = "ABCDEFGH"[[o["id"] for o in question["options"]].index(question["answer"])]
    link = local(links[correct_letter])

    shown = client.get(link)  # what a mail scanner's prefetch does: it must record nothing
    assert shown.status_code == 200
    assert 'method="post"' in shown.text
    assert mastery_answers(app, "learner-1") == 1
    recorded = client.post(link, data={"choice": question["answer"], "confidence": "high"})
    assert recorded.status_code == 200
    assert "Your answer was recorded." in recorded.text
    assert mastery_answers(app, "learner-1") == 2
    cards = app.extensions["learning"].cards("learner-1")
    assert min(card.due for card in cards.values()) > datetime.now(UTC)  # rescheduled
    again = client.post(link, data={"choice": question["answer"]})
    assert again.status_code == 409
    assert "already answered" in again.text
    assert mastery_answers(app, "learner-1") == 2

    second = run(app, "notify", "send-due")
    assert second.exit_code == 0
    assert "0 questions" in second.output
    assert len(inbox.messages) == 1


def test_a_wrong_answer_by_mail_lowers_mastery_and_keeps_the_question_on_review(app, inbox):
    subscribe(app, "learner-1", ADDRESS)
    run(app, "notify", "send-due")
    text, _ = parts(inbox.to(ADDRESS)[0])
    question = app.extensions["ui"].library.modules[MODULE]["case"]["questions"][0]
    wrong = next(o["id"] for o in question["options"] if o["id"] != question["answer"])
    before = app.extensions["learning"].mastery("learner-1")[MODULE].score
    link = local(answer_links(text)["A"])

    response = app.test_client().post(link, data={"choice": wrong})

    assert response.status_code == 200
    assert "Not quite" in response.text
    assert app.extensions["learning"].mastery("learner-1")[MODULE].score < before


def test_two_runs_at_once_send_each_learner_one_message(instance_path, inbox, database_url):
    hosts = [mail_app(instance_path, inbox.port, database_url) for _ in range(2)]
    learners = [f"learner-{n}" for n in range(6)]
    for learner in learners:
        subscribe(hosts[0], learner, f"{learner}@example.org")
    reports = send_due_on_all_at_once(hosts)

    assert sum(report.sent for report in reports) == len(learners)
    assert sorted(r[0] for r in inbox.recipients) == sorted(f"{n}@example.org" for n in learners)


def test_one_click_unsubscribe_stops_sending_without_a_sign_in(app, inbox):
    subscribe(app, "learner-1", ADDRESS)
    run(app, "notify", "send-due")
    url = inbox.to(ADDRESS)[0]["List-Unsubscribe"].strip("<>")

    response = app.test_client().post(
        local(url),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert app.extensions["delivery"].subscription("learner-1").status == "stopped"
    miss_another_question(app, "learner-1")
    with app.app_context():
        report = outbox().send_due(datetime.now(UTC) + timedelta(days=2))
    assert report.sent == 0
    assert len(inbox.messages) == 1


def test_the_unsubscribe_link_opened_by_a_scanner_changes_nothing(app, inbox):
    subscribe(app, "learner-1", ADDRESS)
    run(app, "notify", "send-due")
    url = inbox.to(ADDRESS)[0]["List-Unsubscribe"].strip("<>")

    page = app.test_client().get(local(url))

    assert page.status_code == 200
    assert 'method="post"' in page.text
    assert app.extensions["delivery"].subscription("learner-1").status == "active"


def test_the_frequency_cap_holds_back_the_next_question_until_it_allows_one(app, inbox):
    subscribe(app, "learner-1", ADDRESS, Preferences(quiet_start=0, quiet_end=0, min_hours=24))
    miss_another_question(app, "learner-1")
    now = datetime.now(UTC)
    with app.app_context():
        mailer = outbox()
        first = mailer.send_due(now)
        capped = mailer.send_due(now + timedelta(hours=23))
        allowed = mailer.send_due(now + timedelta(hours=25))

    assert (first.sent, capped.sent, capped.capped, allowed.sent) == (1, 0, 1, 1)
    subjects = [parts(m)[0] for m in inbox.to(ADDRESS)]
    assert len(subjects) == 2 and subjects[0] != subjects[1]  # two different questions


def test_quiet_hours_in_the_learners_time_zone_hold_mail_back(app, inbox):
    now = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)  # 22:30 the evening before in New York
    quiet = Preferences(time_zone="America/New_York", quiet_start=21, quiet_end=7)
    subscribe(app, "learner-1", ADDRESS, quiet)
    with app.app_context():
        mailer = outbox()
        held = mailer.send_due(now)
        morning = mailer.send_due(now + timedelta(hours=9))  # 07:30 in New York

    assert (held.sent, held.quiet) == (0, 1)
    assert morning.sent == 1


def test_a_bounce_stops_sending_and_refuses_the_address_later(app, inbox):
    subscribe(app, "learner-1", ADDRESS)

    result = run(app, "notify", "bounce", "--address", ADDRESS.upper())

    assert result.exit_code == 0
    assert "1 subscription(s) stopped" in result.output
    assert ADDRESS not in result.output
    assert "0 questions" in run(app, "notify", "send-due").output
    assert inbox.messages == []


def test_preview_prints_the_next_question_without_sending_or_claiming_it(app, inbox):
    subscribe(app, "learner-1", ADDRESS)
    stem = app.extensions["ui"].library.modules[MODULE]["case"]["questions"][0]["stem"]["en"]

    result = run(app, "notify", "preview", "--learner", "learner-1")

    assert result.exit_code == 0, result.output
    assert stem in result.output
    assert ADDRESS not in result.output
    assert inbox.messages == []
    assert "1 questions" in run(app, "notify", "send-due").output


def test_preview_of_the_digest_needs_the_digest_choice_and_sends_nothing(app, inbox):
    subscribe(app, "learner-1", ADDRESS)
    subscribe(
        app, "learner-2", "two@example.org", Preferences(quiet_start=0, quiet_end=0, digest=True)
    )

    without = run(app, "notify", "preview", "--learner", "learner-1", "--kind", "digest")
    chosen = run(app, "notify", "preview", "--learner", "learner-2", "--kind", "digest")

    assert without.exit_code == 1 and "did not choose the digest" in without.output
    assert chosen.exit_code == 0, chosen.output
    assert "Subject: Your week's learning: what to do next" in chosen.output
    assert "two@example.org" not in chosen.output
    assert inbox.messages == []


def test_send_due_without_an_smtp_url_says_so_in_one_sentence(instance_path, inbox):
    app = mail_app(instance_path, inbox.port)
    app.config["SMTP_URL"] = None
    subscribe(app, "learner-1", ADDRESS)

    result = run(app, "notify", "send-due")

    app.config["SMTP_URL"] = mail_app_url(inbox.port)
    configured = run(app, "notify", "send-due")

    close_stores(app)
    assert result.exit_code == 1
    assert "Set BEDSIDE_SMTP_URL" in result.output
    assert "Traceback" not in result.output
    assert "1 questions" in configured.output  # nothing was left claimed by the refused run
    assert len(inbox.to(ADDRESS)) == 1


def test_a_run_that_fails_after_sending_releases_the_claim_and_resends_with_the_same_id(
    app, inbox, monkeypatch
):
    subscribe(app, "learner-1", ADDRESS)
    store = app.extensions["delivery"]

    def database_gone(claim):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(store, "mark_sent", database_gone)  # a fault after SMTP accepted it
    with app.app_context(), pytest.raises(RuntimeError):
        outbox().send_due(datetime.now(UTC))
    monkeypatch.undo()
    retried = run(app, "notify", "send-due")

    first, second = inbox.to(ADDRESS)
    assert "1 questions" in retried.output
    assert first["Message-ID"] == second["Message-ID"]
    assert "learner-1" not in first["Message-ID"]


def test_a_refused_send_is_released_for_the_next_run(instance_path, inbox):
    app = mail_app(instance_path, inbox.port)
    app.config["SMTP_URL"] = f"smtp://user:hidden@127.0.0.1:{free_port()}"  # nobody listens
    subscribe(app, "learner-1", ADDRESS)

    failed = run(app, "notify", "send-due")
    app.config["SMTP_URL"] = mail_app_url(inbox.port)
    retried = run(app, "notify", "send-due")

    close_stores(app)
    assert failed.exit_code == 1
    assert "not sent: ConnectionRefusedError from smtp://user@127.0.0.1:" in failed.output
    assert "hidden" not in failed.output  # never the password
    assert "1 questions" in retried.output
    assert len(inbox.to(ADDRESS)) == 1


def mail_app_url(port: int) -> str:
    """The working SMTP URL (with the right login)."""
    from tests.delivery.conftest import smtp_url

    return smtp_url(port)


def miss_another_question(app, learner: str) -> None:
    """A second question of the module answered wrongly a day ago (due for review now)."""
    missed = AnswerEvent(f"attempt2-{learner}", MODULE, "q2", False, "high", ANSWERED)
    app.extensions["learning"].apply_answer(learner, missed)


@pytest.fixture(autouse=True)
def _question_is_known():
    """The tests rely on the module's first question being QUESTION."""
    assert QUESTION == "q1"


def test_a_spanish_learner_gets_the_question_in_spanish(app, inbox):
    subscribe(app, "learner-1", ADDRESS, Preferences(language="es", quiet_start=0, quiet_end=0))
    question = app.extensions["ui"].library.modules[MODULE]["case"]["questions"][0]

    run(app, "notify", "send-due")

    [message] = inbox.to(ADDRESS)
    text, html = parts(message)
    assert message["Subject"].startswith("Pregunta de repaso: ")
    assert question["stem"]["es"] in text and question["stem"]["es"] in html
    assert "Dejar de recibir estos correos" in text
    assert 'lang="es"' in html


def test_the_weekly_digest_goes_to_those_who_asked_once_a_week(app, inbox):
    digest = Preferences(quiet_start=0, quiet_end=0, digest=True)
    subscribe(app, "learner-1", ADDRESS, digest)
    now = datetime.now(UTC)
    with app.app_context():
        mailer = outbox()
        first = mailer.send_due(now)
        same_week = mailer.send_due(now + timedelta(days=3))
        next_week = mailer.send_due(now + timedelta(days=8))

    assert (first.digests, same_week.digests, next_week.digests) == (1, 0, 1)
    digests = [m for m in inbox.to(ADDRESS) if "what to do next" in m["Subject"]]
    text, html = parts(digests[0])
    assert "What to learn next" in html and "What to learn next" in text
    assert digests[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
