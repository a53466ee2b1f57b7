"""Logging that never writes bearer tokens, JWTs, OAuth codes, Authorization headers or rows."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
SECRET_PATTERNS = (
    # Authorization: Bearer <anything>, Basic <anything>
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*"),
    # compact JWS/JWT anywhere
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    # key=value and "key": "value" for credential-bearing names
    re.compile(
        r"(?i)([\"']?\b(?:authorization|access_token|refresh_token|id_token|client_secret|"
        r"code_verifier|client_assertion|password|token|code)\b[\"']?\s*[:=]\s*[\"']?)"
        r"[^\s\"'&,;}]+"
    ),
    # PostgreSQL error details quote the row: "DETAIL:  Key (learner_id)=(…) already exists."
    re.compile(r"(?m)^(DETAIL:\s*).*$"),
)
# Loggers whose DEBUG records carry what no log may hold, kept at INFO or above whatever LOG_LEVEL
# says: Authlib logs token responses; urllib3 (under requests) logs each request line, whose FHIR
# path and query name the patient ("GET /fhir/Observation?patient=…").
QUIET_LOGGERS = ("authlib", "urllib3", "requests")


def redact(text: str) -> str:
    """Replace every credential-looking fragment of text with a marker."""
    text = SECRET_PATTERNS[0].sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    text = SECRET_PATTERNS[1].sub(REDACTED, text)
    text = SECRET_PATTERNS[2].sub(lambda match: f"{match.group(1)}{REDACTED}", text)
    return SECRET_PATTERNS[3].sub(lambda match: f"{match.group(1)}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrite each record's final message with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Format the message once, redact it, and drop the raw arguments."""
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.msg = redact(message)
        record.args = None
        return True


def install_redaction(level: str) -> None:
    """Attach the redacting filter to the root handlers (once) and set the levels."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    for handler in root.handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())
    root.setLevel(level)
    for name in QUIET_LOGGERS:  # never below INFO, nor below what the operator set for it
        quiet = logging.getLogger(name)
        quiet.setLevel(max(logging.INFO, root.level, quiet.level))
