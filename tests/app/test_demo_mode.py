"""Demo mode: the fixture FHIR server is mounted and the demo EHR's key is trusted — only then."""

from __future__ import annotations

from app import create_app
from app.devtools.demo_keys import DEMO_EHR_ISS, DEMO_EHR_KID, demo_ehr_key
from tests.cds_hooks.jwt_helpers import sign_client_token


def demo_token(instance_path) -> str:
    """A discovery token signed with the demo EHR's key."""
    key = demo_ehr_key(instance_path)
    return sign_client_token(
        key, iss=DEMO_EHR_ISS, aud="http://localhost/cds-services", kid=DEMO_EHR_KID
    )


def build(instance_path, demo: bool):
    """An app with or without demo mode."""
    config = {"TESTING": True, "DATABASE": str(instance_path / "b.db"), "DEMO": demo}
    return create_app(config, instance_path=instance_path).test_client()


def test_demo_mode_trusts_the_demo_ehr_and_serves_fixture_fhir(instance_path):
    client = build(instance_path, demo=True)
    token = demo_token(instance_path)
    assert (
        client.get("/cds-services", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    assert (
        client.get("/fhir/Patient/sepsis-adult").status_code == 401
    )  # the EHR's FHIR needs a token
    server = client.application.extensions["demo_auth"]
    access = server.issue_access_token(patient="sepsis-adult")["access_token"]
    patient = client.get(
        "/fhir/Patient/sepsis-adult", headers={"Authorization": f"Bearer {access}"}
    )
    assert patient.json["id"] == "sepsis-adult"


def test_without_demo_mode_the_demo_key_is_not_trusted(instance_path):
    client = build(instance_path, demo=False)
    token = demo_token(instance_path)
    assert (
        client.get("/cds-services", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    assert client.get("/fhir/metadata").status_code == 404


def test_the_demo_key_is_made_once_and_kept_private(instance_path):
    first = demo_ehr_key(instance_path).as_dict(private=True)
    second = demo_ehr_key(instance_path).as_dict(private=True)
    assert first == second
    assert (instance_path / "demo_ehr_key.json").stat().st_mode & 0o777 == 0o600
