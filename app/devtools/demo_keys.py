"""The demo keys: the demo EHR's CDS signing key and Bedside's demo backend-services key.

Each is made once per instance (mode 0600) and trusted only in demo mode.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from joserfc.jwk import ECKey

from cds_hooks.clients import TrustedClient

DEMO_EHR_ISS = "https://demo-ehr.bedside.example"
DEMO_EHR_KID = "demo-ehr-es384"
KEY_FILE = "demo_ehr_key.json"
BACKEND_KEY_FILE = "demo_backend_key.json"
DEMO_BACKEND_CLIENT = "bedside-demo-backend"
DEMO_BACKEND_KID = "bedside-demo-backend-es384"


def demo_ehr_key(instance_path: Path) -> ECKey:
    """Load the demo EHR's ES384 private key, creating it on first use (mode 0600)."""
    return instance_ec_key(Path(instance_path) / KEY_FILE, DEMO_EHR_KID)


def demo_backend_key(instance_path: Path) -> ECKey:
    """Bedside's ES384 key as the demo EHR's registered backend-services client."""
    return instance_ec_key(Path(instance_path) / BACKEND_KEY_FILE, DEMO_BACKEND_KID)


def instance_ec_key(path: Path, kid: str) -> ECKey:
    """Load a P-384 private key from the instance folder, creating it once (race-safe)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ECKey.generate_key("P-384", parameters={"kid": kid})
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker made it first
        else:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(key.as_dict(private=True), handle)
    return ECKey.import_key(json.loads(path.read_text()))


def demo_ehr_client(instance_path: Path) -> TrustedClient:
    """The demo EHR as a trusted CDS client: its issuer and public key only."""
    public = demo_ehr_key(instance_path).as_dict(private=False)
    return TrustedClient(iss=DEMO_EHR_ISS, jwks={"keys": [public]})
