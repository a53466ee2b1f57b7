"""Logs never carry tokens, JWTs, OAuth codes or Authorization headers."""

from __future__ import annotations

import io
import logging

import pytest

from app.redaction import RedactingFilter, redact

JWT = "eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJodHRwczovL2VociJ9.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    "text,secret",
    [
        ("Authorization: Bearer abc.def-123", "abc.def-123"),
        ("headers={'Authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        (f"jwt was {JWT}", JWT),
        ('{"access_token": "tok-123", "token_type": "Bearer"}', "tok-123"),
        ("GET /smart/callback?code=auth-code-9&state=xyz", "auth-code-9"),
        ("refresh_token=r-77&client_secret=s3cr3t", "r-77"),
        ("refresh_token=r-77&client_secret=s3cr3t", "s3cr3t"),
    ],
)
def test_secrets_are_redacted(text, secret):
    assert secret not in redact(text)
    assert "[redacted]" in redact(text)


def test_ordinary_text_is_untouched():
    text = "Lactate 3.1 mmol/L (LOINC 2524-7) for hook order-select"
    assert redact(text) == text


def test_filter_redacts_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("calling FHIR with %s", "Bearer live-token-1")
        try:
            raise ValueError(f"bad token {JWT}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "live-token-1" not in output
    assert JWT not in output
    assert "ValueError" in output
