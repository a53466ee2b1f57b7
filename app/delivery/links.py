"""The signed links in Bedside's e-mails: answer, confirm (double opt-in) and unsubscribe.

Each link carries an itsdangerous signature over a random id (never the learner id, never the
address) with a purpose of its own, so one kind of link can never stand in for another. Answer
links also expire (ANSWER_DAYS, enforced by the signature and by the token's row) and are spent
once (the row's used_at); unsubscribe links never expire (RFC 8058 asks them to keep working).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

ANSWER_DAYS = 7
CONFIRM_DAYS = 3
ANSWER, CONFIRM, UNSUBSCRIBE = "answer", "confirm", "unsubscribe"
MAX_AGE = {
    ANSWER: timedelta(days=ANSWER_DAYS),
    CONFIRM: timedelta(days=CONFIRM_DAYS),
    UNSUBSCRIBE: None,
}
# The signature travels in the query (`t=`): the access log records paths without their query.
PATHS = {ANSWER: "/mail/answer", CONFIRM: "/mail/confirm", UNSUBSCRIBE: "/mail/unsubscribe"}


class LinkRefused(Exception):
    """A link that is not Bedside's (`tampered`) or too old (`expired`)."""


class Links:
    """Make and read the signed links of one Bedside instance."""

    def __init__(self, secret_key: str, base_url: str):
        self.secret_key = secret_key
        self.base_url = base_url.rstrip("/")

    def url(self, purpose: str, value: str, **query: str) -> str:
        """The absolute URL of a signed link for this purpose."""
        signed = self._serializer(purpose).dumps(value)
        return f"{self.base_url}{PATHS[purpose]}?" + urlencode({"t": signed, **query})

    def read(self, purpose: str, signed: str) -> str:
        """The id a signed link carries; LinkRefused when tampered with or expired."""
        age = MAX_AGE[purpose]
        try:
            value = self._serializer(purpose).loads(
                signed, max_age=int(age.total_seconds()) if age else None
            )
        except SignatureExpired:
            raise LinkRefused("expired") from None
        except BadSignature:
            raise LinkRefused("tampered") from None
        if not isinstance(value, str):
            raise LinkRefused("tampered")
        return value

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        """A serializer whose salt names the purpose."""
        return URLSafeTimedSerializer(self.secret_key, salt=f"bedside.delivery.{purpose}")
