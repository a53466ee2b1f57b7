"""Tokens at rest: AES-256-GCM with the instance's SMART token key, bound to the row they sit in.

The database holds SMART access and refresh tokens and PKCE verifiers only in this sealed form,
so a copied database file (or a backup of it) yields no credential for the EHR. The key lives
apart from the database (BEDSIDE_SMART_TOKEN_KEY, else `instance/smart_token_key`, 0600).
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1."  # a format version, so a later scheme can tell its values from these
NONCE_BYTES = 12
KEY_INFO = b"bedside smart tokens at rest v1"


class TokenCipher:
    """Seal and open secret strings; the row's key is authenticated with each value."""

    def __init__(self, secret: str):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO)
        self._aead = AESGCM(key.derive(secret.encode()))

    def seal(self, value: str | None, *, row: str) -> str | None:
        """Encrypt a value for the row keyed `row` (None stays None)."""
        if value is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, value.encode(), row.encode())
        return PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def open(self, sealed: str | None, *, row: str) -> str | None:
        """Decrypt a sealed value of this row; raise UnreadableToken when it cannot be opened."""
        if sealed is None:
            return None
        if not isinstance(sealed, str) or not sealed.startswith(PREFIX):
            raise UnreadableToken("not sealed (written in plaintext by an older version)")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
            nonce, ciphertext = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
            return self._aead.decrypt(nonce, ciphertext, row.encode()).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise UnreadableToken("sealed with another key, or altered") from None


class UnreadableToken(Exception):
    """A stored token that cannot be opened: the session or request it belongs to is void."""
