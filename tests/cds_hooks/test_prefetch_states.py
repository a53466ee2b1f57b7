"""Every prefetch state, and the FHIR fallback against a loopback server that checks tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.devtools.fhir_server import FixtureFhirServer
from tests.cds_hooks.conftest import PATIENTS_DIR
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

SEPSIS = "sepsis-adult"
TOKEN = "ehr-access-token-7f3a"
SERVICE = "bedside-order-select"


@pytest.fixture(scope="module")
def fhir_server():
    """A fixture FHIR server on loopback that requires the EHR's access token."""
    with FixtureFhirServer(PATIENTS_DIR, token=TOKEN, now=datetime.now(UTC)) as server:
        yield server


def order_select(prefetch, **extra):
    """The sepsis patient with a drafted antibiotic."""
    return hook_request(
        "order-select", SEPSIS, prefetch=prefetch, draft_orders=[draft_medication(SEPSIS)], **extra
    )


def sepsis_card_in(response) -> bool:
    """Tell whether the sepsis module's card is in a response."""
    return any(
        "sepsis-hour-1-bundle" in c["links"][0]["appContext"] for c in response.json["cards"]
    )


def test_full_prefetch_needs_no_fetch(cds, fixture_store, fhir_server):
    seen_before = len(fhir_server.requests_seen)
    body = order_select(
        prefetch_for(fixture_store, SEPSIS), fhir_server=fhir_server.base_url, access_token=TOKEN
    )
    assert sepsis_card_in(cds.hook(SERVICE, body))
    assert len(fhir_server.requests_seen) == seen_before


def test_absent_keys_are_fetched_with_the_bearer_token(cds, fhir_server):
    seen_before = len(fhir_server.requests_seen)
    body = order_select(None, fhir_server=fhir_server.base_url, access_token=TOKEN)
    response = cds.hook(SERVICE, body)
    assert response.status_code == 200
    assert sepsis_card_in(response)
    fetched = fhir_server.requests_seen[seen_before:]
    assert {
        path.split("?")[0].rsplit("/", 2)[-1]
        if "?" not in path
        else path.split("?")[0].rsplit("/", 1)[-1]
        for _, path, _ in fetched
    } >= {"Condition", "MedicationRequest", "Observation"}
    assert all(had_token for _, _, had_token in fetched)


def test_null_means_no_data_and_is_not_refetched(cds, fixture_store, fhir_server):
    prefetch = prefetch_for(fixture_store, SEPSIS)
    prefetch["allergies"] = None
    seen_before = len(fhir_server.requests_seen)
    body = order_select(prefetch, fhir_server=fhir_server.base_url, access_token=TOKEN)
    assert cds.hook(SERVICE, body).status_code == 200
    assert len(fhir_server.requests_seen) == seen_before


ERROR_OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "timeout"}],
}


@pytest.mark.parametrize(
    "reported",
    [
        ERROR_OUTCOME,
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": ERROR_OUTCOME}]},
    ],
    ids=["outcome", "bundle-of-an-error-outcome"],
)
def test_operation_outcome_is_treated_as_missing_and_fetched(
    cds, fixture_store, fhir_server, reported
):
    prefetch = prefetch_for(fixture_store, SEPSIS)
    prefetch["conditions"] = reported
    seen_before = len(fhir_server.requests_seen)
    body = order_select(prefetch, fhir_server=fhir_server.base_url, access_token=TOKEN)
    response = cds.hook(SERVICE, body)
    assert sepsis_card_in(response)  # the sepsis Condition came from the fetch
    fetched = [path for _, path, _ in fhir_server.requests_seen[seen_before:]]
    assert len(fetched) == 1 and "/Condition?" in fetched[0]


def test_paged_prefetch_bundle_is_followed(cds, fixture_store, fhir_server):
    prefetch = prefetch_for(fixture_store, SEPSIS)
    first_page = (
        f"{fhir_server.base_url}/Condition?patient={SEPSIS}&clinical-status=active&_count=1"
    )
    import requests

    with requests.get(first_page, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5) as page:
        prefetch["conditions"] = page.json()
    assert any(link["relation"] == "next" for link in prefetch["conditions"]["link"])
    body = order_select(prefetch, fhir_server=fhir_server.base_url, access_token=TOKEN)
    response = cds.hook(SERVICE, body)
    assert response.status_code == 200


def test_missing_data_without_a_fhir_server_is_412(cds, fixture_store):
    prefetch = prefetch_for(fixture_store, SEPSIS)
    del prefetch["observations"]
    response = cds.hook(SERVICE, order_select(prefetch))
    assert response.status_code == 412
    assert response.json["error"]["code"] == "prefetch_unavailable"
    assert response.json["error"]["field"] == "prefetch.observations"


def test_missing_optional_allergies_do_not_fail_the_call(cds, fixture_store):
    prefetch = prefetch_for(fixture_store, SEPSIS)
    del prefetch["allergies"]
    assert cds.hook(SERVICE, order_select(prefetch)).status_code == 200


def test_wrong_access_token_is_412(cds, fhir_server):
    body = order_select(None, fhir_server=fhir_server.base_url, access_token="not-the-token")
    response = cds.hook(SERVICE, body)
    assert response.status_code == 412
    assert "refused the token (401)" in response.json["error"]["message"]
    assert "not-the-token" not in response.get_data(as_text=True)


def test_server_down_is_412(cds):
    body = order_select(None, fhir_server="http://127.0.0.1:9/fhir", access_token=TOKEN)
    response = cds.hook(SERVICE, body)
    assert response.status_code == 412
    assert "unreachable" in response.json["error"]["message"]


def test_plain_http_fhir_server_off_loopback_is_refused(cds):
    body = order_select(None, fhir_server="http://ehr.example.org/fhir", access_token=TOKEN)
    response = cds.hook(SERVICE, body)
    assert response.status_code == 412
    assert "https" in response.json["error"]["message"]


def test_the_access_token_never_reaches_the_log(cds, fhir_server, caplog):
    caplog.set_level("DEBUG")
    body = order_select(None, fhir_server=fhir_server.base_url, access_token="wrong-secret-token")
    cds.hook(SERVICE, body)
    assert "wrong-secret-token" not in caplog.text


@pytest.mark.parametrize(
    "oddity",
    [
        {"link": 5},
        {"link": [5, {"relation": "next", "url": 5}]},
    ],
    ids=["link-number", "odd-links"],
)
def test_a_prefetched_bundle_with_odd_links_is_answered_without_a_server_error(
    cds, fixture_store, fhir_server, oddity
):
    """Odd links in a prefetched Bundle are not followed: the call is still answered."""
    prefetch = prefetch_for(fixture_store, SEPSIS)
    prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", **oddity}
    body = order_select(prefetch, fhir_server=fhir_server.base_url, access_token=TOKEN)
    response = cds.hook(SERVICE, body)
    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    "oddity",
    [
        {"entry": 5},
        {"entry": [5, {"resource": 5}]},
        {"link": [{"relation": "next", "url": "/Condition?page=2"}], "entry": 5},
    ],
    ids=["entry-number", "odd-entries", "next-with-entry-number"],
)
def test_a_prefetched_bundle_whose_entries_are_not_objects_is_a_400_naming_the_key(
    cds, fixture_store, fhir_server, oddity
):
    """Entries that are not objects cannot be read as Conditions: the client is told so."""
    prefetch = prefetch_for(fixture_store, SEPSIS)
    prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", **oddity}
    body = order_select(prefetch, fhir_server=fhir_server.base_url, access_token=TOKEN)
    response = cds.hook(SERVICE, body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"].startswith("prefetch.conditions.entry")
