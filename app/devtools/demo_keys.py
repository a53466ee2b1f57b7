"""The demo EHR's signing key: made once per instance, trusted only in demo mode."""

from __future__ import annotations

import json
import os
from pathlib import Path

from joserfc.jwk import ECKey

from cds_hooks.clients import TrustedClient

DEMO_EHR_ISS = "https://demo-ehr.bedside.example"
DEMO_EHR_KID = "demo-ehr-es384"
KEY_FILE = "demo_ehr_key.json"


def demo_ehr_key(instance_path: Path) -> ECKey:
    """Load the demo EHR's ES384 private key, creating it on first use (mode 0600)."""
    path = Path(instance_path) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ECKey.generate_key("P-384", parameters={"kid": DEMO_EHR_KID})
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
