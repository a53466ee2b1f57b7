"""The demo SMART server's credentials, made once per instance: signing key and client secrets."""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from joserfc.jwk import RSAKey

CREDENTIALS_FILE = "demo_smart_auth.json"
SIGNING_KID = "demo-smart-rs256"
JWT_CLIENT_KID = "bedside-demo-jwt-rs384"


@dataclass(frozen=True)
class DemoCredentials:
    """The id_token signing key, the confidential client's secret and the JWT client's key."""

    signing_key: RSAKey = field(repr=False)
    client_secret: str = field(repr=False)
    jwt_client_key: RSAKey = field(repr=False)

    def public_jwks(self) -> dict:
        """The server's public signing keys, as served at jwks_uri."""
        public = self.signing_key.as_dict(private=False)
        return {"keys": [{**public, "use": "sig", "alg": "RS256"}]}

    def jwt_client_jwks(self) -> dict:
        """The private_key_jwt client's registered public key set."""
        return {"keys": [self.jwt_client_key.as_dict(private=False)]}


def load_credentials(instance_path: Path) -> DemoCredentials:
    """Read the demo credentials, creating them on first use (mode 0600, race-safe)."""
    path = Path(instance_path) / CREDENTIALS_FILE
    if not path.exists():
        _create(path)
    data = _read(path)
    return DemoCredentials(
        signing_key=RSAKey.import_key(data["signing_key"]),
        client_secret=data["client_secret"],
        jwt_client_key=RSAKey.import_key(data["jwt_client_key"]),
    )


def _create(path: Path) -> None:
    """Write fresh credentials unless another worker already did."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "signing_key": _rsa_key(SIGNING_KID, "RS256"),
        "client_secret": secrets.token_urlsafe(32),
        "jwt_client_key": _rsa_key(JWT_CLIENT_KID, "RS384"),
    }
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another worker made it first
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle)


def _rsa_key(kid: str, alg: str) -> dict:
    """Generate a 2048-bit RSA key as a private JWK."""
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": alg})
    return key.as_dict(private=True)


def _read(path: Path) -> dict:
    """Read a credentials file another worker may still be writing."""
    for _ in range(100):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            time.sleep(0.02)
    raise RuntimeError(f"Demo SMART credentials file {path} is unreadable; delete it and restart.")
