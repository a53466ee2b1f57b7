"""Sending mail through BEDSIDE_SMTP_URL with the standard library's smtplib.

`smtp://user:pass@host:587?starttls=1` (STARTTLS, then AUTH), `smtps://user:pass@host:465`
(implicit TLS) or `smtp://host:25` (no auth: a local relay). User and password are
percent-decoded; neither is ever logged or shown (`SmtpUrl.shown` drops the password).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote

from app.config import split_url
from app.errors import ConfigError

TIMEOUT_SECONDS = 30
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpUrl:
    """A parsed BEDSIDE_SMTP_URL."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    user: str | None = None
    password: str | None = None

    @property
    def shown(self) -> str:
        """The URL without its password, for messages."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.user}@" if self.user else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


class SendFailed(Exception):
    """The SMTP server refused or could not be reached; the message says why in one line."""


def parse_smtp_url(text: str) -> SmtpUrl:
    """Read an smtp:// or smtps:// URL; ConfigError in one sentence when it is not one."""
    parts = split_url(text.strip())
    if parts is None or parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError("BEDSIDE_SMTP_URL must look like smtp://user:pass@host:587?starttls=1.")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    starttls = parse_qs(parts.query).get("starttls", ["0"])[0].lower() in {"1", "true", "yes"}
    return SmtpUrl(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def send(url: SmtpUrl, message: EmailMessage) -> None:
    """Hand one message to the SMTP server; SendFailed when it is refused or unreachable."""
    try:
        with connect(url) as client:
            if url.starttls:
                client.starttls(context=ssl.create_default_context())
            if url.user:
                client.login(url.user, url.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise SendFailed(f"{type(error).__name__} from {url.shown}") from None


def connect(url: SmtpUrl) -> smtplib.SMTP:
    """An open SMTP connection, TLS from the start for smtps://."""
    if url.implicit_tls:
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(url.host, url.port, timeout=TIMEOUT_SECONDS, context=context)
    return smtplib.SMTP(url.host, url.port, timeout=TIMEOUT_SECONDS)
