"""STARTTLS and smtps:// against a real TLS SMTP server on loopback (a throwaway certificate)."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.delivery import smtp
from app.delivery.messages import sender_domain
from tests.delivery.conftest import SMTP_PASSWORD, SMTP_USER, Authenticator, Inbox
from tests.support.serve import free_port


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by this test's default SSL context."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # ssl.create_default_context reads it
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


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
