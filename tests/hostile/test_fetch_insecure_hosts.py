"""Outside demo mode, fhirServer must be https unless its host is in BEDSIDE_FHIR_INSECURE_HOSTS."""

from __future__ import annotations

import pytest

from tests.hostile.fetch_app import call_order_select, cds_app_with
from tests.hostile.fetch_faults import FaultServer

TOKEN = "ehr-token-insecure-hosts"


@pytest.fixture(scope="module")
def local_service():
    """A local service that answers like a FHIR server (what an attacker would point at)."""
    with FaultServer() as server:
        yield server


def call(instance_path, fhir_server: str, **settings):
    """Fire order-select with nothing prefetched at an app with the given settings."""
    with cds_app_with(instance_path, **settings) as app:
        return call_order_select(app, fhir_server, TOKEN)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_http_is_refused_by_default_and_no_token_is_sent(
    instance_path, local_service, host
):
    url = local_service.url("ok").replace("127.0.0.1", host)
    response = call(instance_path, url)
    assert response.status_code == 412
    assert "https" in response.json["error"]["message"]
    assert local_service.requests_seen == []


def test_a_listed_host_and_port_may_be_plain_http(instance_path, local_service):
    response = call(
        instance_path, local_service.url("ok"), FHIR_INSECURE_HOSTS=local_service.netloc
    )
    assert response.status_code == 200
    assert local_service.seen("ok")


def test_a_listed_host_on_another_port_is_refused(instance_path, local_service):
    seen_before = len(local_service.requests_seen)
    response = call(instance_path, local_service.url("ok"), FHIR_INSECURE_HOSTS="127.0.0.1:9")
    assert response.status_code == 412
    assert len(local_service.requests_seen) == seen_before
