"""STARTTLS and smtps:// against a real TLS SMTP server on loopback (a throwaway certificate)."""

from __future__ import annotations

import ssl

import pytest
from aiosmtpd.controller import Controller

from app.delivery import smtp
from app.delivery.messages import sender_domain
from tests.delivery.conftest import SMTP_PASSWORD, SMTP_USER, Authenticator, Inbox
from tests.support.certificates import loopback_certificate, server_context
from tests.support.serve import free_port


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by this test's default SSL context."""
    cert_file, key_file = loopback_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # ssl.create_default_context reads it
    return server_context(cert_file, key_file)


def tls_server(context: ssl.SSLContext, **options) -> tuple[Controller, Inbox, int]:
    """Start an SMTP server that requires AUTH, and TLS before it."""
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=Authenticator(inbox),
        **{"auth_required": True, **options},
    )
    controller.start()
    return controller, inbox, port


def a_message():
    """A small message to send."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@bedside.test", "b@example.org", "Hi"
    message.set_content("Hello")
    return message


def test_starttls_then_auth_delivers(certificate):
    controller, inbox, port = tls_server(
        certificate, tls_context=certificate, require_starttls=True
    )
    url = smtp.parse_smtp_url(
        f"smtp://{SMTP_USER}:{SMTP_PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}?starttls=1"
    )
    try:
        smtp.send(url, a_message())
    finally:
        controller.stop()
    assert inbox.logins == [SMTP_USER]
    assert [m["Subject"] for m in inbox.messages] == ["Hi"]


def test_without_starttls_a_server_that_requires_it_refuses(certificate):
    controller, inbox, port = tls_server(
        certificate, tls_context=certificate, require_starttls=True
    )
    url = smtp.parse_smtp_url(f"smtp://{SMTP_USER}:x@127.0.0.1:{port}")
    try:
        with pytest.raises(smtp.SendFailed, match=r"from smtp://bedside@127\.0\.0\.1"):
            smtp.send(url, a_message())
    finally:
        controller.stop()
    assert inbox.messages == []


def test_the_sender_domain_names_message_ids():
    assert sender_domain("Bedside <reviews@cme.example.org>") == "cme.example.org"


def test_smtps_speaks_tls_from_the_start(certificate):
    # aiosmtpd does not count implicit TLS as TLS for AUTH, so this server offers AUTH without
    # demanding it; the login is still checked and recorded.
    controller, inbox, port = tls_server(
        certificate, ssl_context=certificate, auth_required=False, auth_require_tls=False
    )
    url = smtp.parse_smtp_url(
        f"smtps://{SMTP_USER}:{SMTP_PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}"
    )
    try:
        smtp.send(url, a_message())
    finally:
        controller.stop()
    assert inbox.logins == [SMTP_USER]
    assert [m["Subject"] for m in inbox.messages] == ["Hi"]
