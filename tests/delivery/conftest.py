"""A real SMTP server on loopback (aiosmtpd) and Bedside apps that mail through it."""

from __future__ import annotations

import email
import email.policy
import threading
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from app import create_app
from app.db import close_stores
from app.delivery.outbox import outbox
from app.delivery.store import Preferences
from app.learning.profile_store import AnswerEvent
from tests.support.serve import free_port

BASE_URL = "http://bedside.test"
SMTP_USER, SMTP_PASSWORD = "bedside", "s3cret pass"
MODULE, QUESTION = "af-anticoagulation", "q1"
# A wrong answer a day ago: fsrs (Again) puts the question due again within minutes.
ANSWERED = datetime.now(UTC) - timedelta(days=1)
NO_QUIET = Preferences(quiet_start=0, quiet_end=0)


class Inbox:
    """What the SMTP server received: parsed messages, their envelope recipients, the logins."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.logins: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        """Keep the message as received."""
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        """The messages addressed to this address."""
        return [m for m, r in zip(self.messages, self.recipients, strict=True) if address in r]


class Authenticator:
    """Accept exactly one user and password (checks that Bedside logs in as configured)."""

    def __init__(self, inbox: Inbox):
        self.inbox = inbox

    def __call__(self, server, session, envelope, mechanism, auth_data):
        """Check the login and remember who logged in."""
        ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
        if ok:
            self.inbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


@pytest.fixture
def inbox():
    """A real SMTP server on a free loopback port that checks AUTH (LOGIN/PLAIN, no TLS)."""
    received = Inbox()
    port = free_port()
    controller = Controller(
        received,
        hostname="127.0.0.1",
        port=port,
        authenticator=Authenticator(received),
        auth_required=False,  # offered and checked when used; required only with TLS (warning)
        auth_require_tls=False,
    )
    controller.start()
    received.port = port
    yield received
    controller.stop()


def smtp_url(port: int) -> str:
    """The BEDSIDE_SMTP_URL of the loopback server, with its login (the space percent-encoded)."""
    return f"smtp://{SMTP_USER}:{SMTP_PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}"


def mail_app(instance_path, port: int, database_url: str | None = None):
    """Bedside (not demo) mailing through the loopback server; its links on BASE_URL."""
    config = {
        "TESTING": True,
        "DATABASE": str(instance_path / "bedside.db"),
        "PUBLIC_BASE_URL": BASE_URL,
        "SMTP_URL": smtp_url(port),
        "MAIL_FROM": "Bedside <reviews@bedside.test>",
        "SECRET_KEY": "delivery-test-secret",
        "SMART_TOKEN_KEY": "delivery-test-token-key",
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    return create_app(config, instance_path=instance_path)


@pytest.fixture
def app(instance_path, inbox):
    """Bedside mailing through the loopback SMTP server (SQLite)."""
    made = mail_app(instance_path, inbox.port)
    yield made
    close_stores(made)


def subscribe(app, learner: str, address: str, preferences: Preferences = NO_QUIET) -> str:
    """An opted-in, confirmed learner with a review question due; the subscription's nonce."""
    missed = AnswerEvent(f"attempt-{learner}", MODULE, QUESTION, False, "high", ANSWERED)
    app.extensions["learning"].apply_answer(learner, missed)
    store = app.extensions["delivery"]
    nonce = store.subscribe(learner, address, preferences, ANSWERED.isoformat())
    assert store.confirm(nonce) == learner
    return nonce


def send_due_on_all_at_once(hosts: list) -> list:
    """Run `send-due` on every host at the same instant (one thread each); their reports."""
    start = threading.Barrier(len(hosts))
    reports = []

    def send(host) -> None:
        with host.app_context():
            mailer = outbox()
            start.wait()
            reports.append(mailer.send_due(datetime.now(UTC)))

    threads = [threading.Thread(target=send, args=(host,)) for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for host in hosts:
        close_stores(host)
    return reports
