"""The Open Badges issuer's signing key: ES256 (P-256), made once per instance, file mode 0600.

The public half is published as a JWKS: written next to each badge export (`issuer-jwks.json`)
and served at /ledger/badges/jwks.json. Each key's `kid` is a URL that dereferences to the public
JWK (/ledger/badges/keys/<RFC 7638 thumbprint>), as Open Badges 3.0 asks of a `kid`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from joserfc.jwk import ECKey

KEY_FILE = "badge_issuer_key.json"
JWKS_FILE = "issuer-jwks.json"
KEYS_PATH = "/ledger/badges/keys/"
ALGORITHM = "ES256"


def issuer_key(instance_path: Path | str) -> ECKey:
    """Load the issuer's private key, creating it on first use (mode 0600, never overwritten)."""
    path = Path(instance_path) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ECKey.generate_key("P-256", private=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; use theirs
        else:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(key.as_dict(private=True), handle)
    return ECKey.import_key(json.loads(path.read_text(encoding="utf-8")))


def key_id(base_url: str, key: ECKey) -> str:
    """Return the key's `kid`: the URL of its public JWK."""
    return f"{base_url.rstrip('/')}{KEYS_PATH}{key.thumbprint()}"


def public_jwk(key: ECKey, kid: str) -> dict:
    """Return the public JWK (never `d`) with its kid, algorithm and use."""
    public = {k: v for k, v in key.as_dict(private=False).items() if k != "d"}
    return {**public, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def public_jwks(key: ECKey, kid: str) -> dict:
    """Return the JWKS verifiers use to check this issuer's badges."""
    return {"keys": [public_jwk(key, kid)]}


def write_jwks(path: Path, jwks: dict) -> Path:
    """Write a public JWKS to a file and return its path."""
    path.write_text(json.dumps(jwks, indent=2) + "\n", encoding="utf-8")
    return path
