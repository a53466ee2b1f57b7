"""Fixtures for the CDS Hooks suite: a trusted EHR with real keys, signed calls, fixture data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app import create_app
from app.db import close_stores
from app.devtools.fhir_store import FixtureStore
from app.settings import REPO_ROOT
from tests.cds_hooks.conformance import ConformanceClient
from tests.cds_hooks.jwt_helpers import make_ec_key, make_rsa_key, public_jwks, sign_client_token

EHR_ISS = "https://ehr.test.example"
PATIENTS_DIR = REPO_ROOT / "fhir_fixtures" / "patients"


@pytest.fixture(scope="session")
def ec_key():
    """The EHR's ES384 signing key."""
    return make_ec_key("ehr-es384")


@pytest.fixture(scope="session")
def rsa_key():
    """The EHR's RS384 signing key."""
    return make_rsa_key("ehr-rs384")


@pytest.fixture(scope="session")
def fixture_store():
    """The demo patients, time-shifted so their stories happen now."""
    return FixtureStore.from_directory(PATIENTS_DIR, now=datetime.now(UTC))


@pytest.fixture
def clients_file(tmp_path, ec_key, rsa_key):
    """A BEDSIDE_CDS_CLIENTS file trusting the test EHR's public keys."""
    path = tmp_path / "cds-clients.json"
    path.write_text(json.dumps([{"iss": EHR_ISS, "jwks": public_jwks(ec_key, rsa_key)}]))
    return path


@pytest.fixture
def cds_config(instance_path, clients_file):
    """Configuration for a CDS test app (overridable per test)."""
    return {
        "TESTING": True,
        "DATABASE": str(instance_path / "bedside.db"),
        "CDS_CLIENTS": str(clients_file),
        "FHIR_INSECURE_HOSTS": "127.0.0.1",  # the fixture FHIR servers are plain http on loopback
    }


@pytest.fixture
def cds_app(cds_config, instance_path):
    """An app whose test client checks every hook response for conformance."""
    app = create_app(cds_config, instance_path=instance_path)
    app.test_client_class = ConformanceClient
    yield app
    close_stores(app)


class CdsCaller:
    """Calls the CDS endpoints as the trusted EHR would: a fresh signed JWT per call."""

    def __init__(self, client, key, alg="ES384"):
        self.client = client
        self.key = key
        self.alg = alg

    def token(self, path: str, **claims) -> str:
        """Sign a token whose aud is the exact URL of path."""
        return sign_client_token(
            self.key,
            iss=EHR_ISS,
            aud=f"http://localhost{path}",
            kid=self.key.kid,
            alg=self.alg,
            **claims,
        )

    def get(self, path: str, **headers):
        """GET with a valid token."""
        return self.client.get(
            path, headers={"Authorization": f"Bearer {self.token(path)}", **headers}
        )

    def post(self, path: str, body, **headers):
        """POST JSON with a valid token."""
        auth = {"Authorization": f"Bearer {self.token(path)}"}
        return self.client.post(path, json=body, headers={**auth, **headers})

    def hook(self, service_id: str, body, **headers):
        """Invoke a service."""
        return self.post(f"/cds-services/{service_id}", body, **headers)


@pytest.fixture
def cds(cds_app, ec_key):
    """A signed-call helper bound to the CDS test app."""
    return CdsCaller(cds_app.test_client(), ec_key)
