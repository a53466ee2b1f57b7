"""Each CDS client has its own call budget; a caller forging its issuer spends only its own."""

from __future__ import annotations

import pytest

from app import create_app
from app.db import close_stores
from app.errors import ConfigError
from tests.cds_hooks.conftest import CdsCaller
from tests.cds_hooks.jwt_helpers import make_ec_key
from tests.cds_hooks.test_service import sepsis_order_select

SERVICE = "bedside-order-select"
EHR_ADDRESS = {"REMOTE_ADDR": "127.0.0.1"}
OTHER_ADDRESS = {"REMOTE_ADDR": "127.0.0.9"}


@pytest.fixture
def limited_app(cds_config, instance_path):
    """The CDS service with a budget of 3 calls a minute per client."""
    app = create_app({**cds_config, "CDS_RATE_LIMIT": "3 per minute"}, instance_path=instance_path)
    yield app
    close_stores(app)


def caller(app, key, address) -> CdsCaller:
    """A signed-call helper whose requests come from one address."""
    client = app.test_client()
    client.environ_base.update(address)
    return CdsCaller(client, key)


def test_a_client_over_its_budget_gets_429_with_retry_after_in_the_json_error_shape(
    limited_app, ec_key, fixture_store
):
    ehr = caller(limited_app, ec_key, EHR_ADDRESS)
    body = sepsis_order_select(fixture_store)
    assert [ehr.hook(SERVICE, body).status_code for _ in range(3)] == [200, 200, 200]
    refused = ehr.hook(SERVICE, body)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_a_forged_issuer_spends_only_the_forgers_budget(limited_app, ec_key, fixture_store):
    forger = caller(limited_app, make_ec_key("not-the-ehr"), OTHER_ADDRESS)  # signs as the EHR
    body = sepsis_order_select(fixture_store)
    assert [forger.hook(SERVICE, body).status_code for _ in range(4)] == [401, 401, 401, 429]
    ehr = caller(limited_app, ec_key, EHR_ADDRESS)  # the real EHR_ISS, from its own address
    assert ehr.hook(SERVICE, body).status_code == 200


def test_app_pages_are_limited_per_session_or_address(cds_config, instance_path):
    app = create_app({**cds_config, "APP_RATE_LIMIT": "2 per minute"}, instance_path=instance_path)
    browser = app.test_client()
    statuses = [browser.get("/app/").status_code for _ in range(3)]
    other = app.test_client()
    other.environ_base.update(OTHER_ADDRESS)
    elsewhere = other.get("/app/")
    close_stores(app)
    assert statuses == [401, 401, 429]  # no launch yet: the address is the key
    assert elsewhere.status_code == 401
    assert elsewhere.headers["X-RateLimit-Remaining"] == "1"  # a budget of its own


def test_an_unreadable_limit_stops_start_up_with_a_sentence(cds_config, instance_path):
    with pytest.raises(ConfigError, match="BEDSIDE_CDS_RATE_LIMIT must be a rate"):
        create_app({**cds_config, "CDS_RATE_LIMIT": "lots"}, instance_path=instance_path)


def app_page_budgets(app, forwarded_for: list[str]) -> list[str]:
    """Remaining app-page budget seen by callers behind the proxy at 127.0.0.1, one per address."""
    remaining = []
    for address in forwarded_for:
        browser = app.test_client()
        browser.environ_base.update(EHR_ADDRESS)
        response = browser.get("/app/", headers={"X-Forwarded-For": address})
        remaining.append(response.headers["X-RateLimit-Remaining"])
    return remaining


def test_behind_a_trusted_proxy_each_caller_has_its_own_budget(cds_config, instance_path):
    config = {**cds_config, "APP_RATE_LIMIT": "5 per minute", "PROXY_HOPS": 1}
    app = create_app(config, instance_path=instance_path)
    budgets = app_page_budgets(app, ["198.51.100.7", "198.51.100.8", "203.0.113.9, 198.51.100.7"])
    close_stores(app)
    # the third sends its own X-Forwarded-For: only the proxy's (right-most) entry counts
    assert budgets == ["4", "4", "3"]


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(cds_config, instance_path):
    app = create_app({**cds_config, "APP_RATE_LIMIT": "5 per minute"}, instance_path=instance_path)
    budgets = app_page_budgets(app, ["198.51.100.7", "198.51.100.8"])
    close_stores(app)
    assert budgets == ["4", "3"]  # one address (the proxy's), one budget
