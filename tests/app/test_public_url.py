"""One public base URL for every absolute link: SMART callback, CDS audience, badge issuer."""

from __future__ import annotations

from app.ledger.outputs.views import badge_url
from app.public_url import public_base_url
from app.smart.clients import callback_url
from cds_hooks.blueprint import audience_url


def test_without_a_setting_a_bedside_under_a_path_prefix_names_itself_with_the_prefix(app):
    app.config["PUBLIC_BASE_URL"] = None
    with app.test_request_context(
        "/cds-services/bedside-order-select", base_url="https://ehr.example/bedside/"
    ):
        assert public_base_url() == "https://ehr.example/bedside"
        assert callback_url() == "https://ehr.example/bedside/smart/callback"
        assert audience_url() == "https://ehr.example/bedside/cds-services/bedside-order-select"
        assert badge_url(7, "ab" * 32) == (
            f"https://ehr.example/bedside/ledger/badges/credits/7-{'ab' * 32}.jwt"
        )


def test_the_setting_wins_over_the_request_everywhere(app):
    app.config["PUBLIC_BASE_URL"] = "https://cds.example.org/bedside"
    with app.test_request_context("/smart/launch", base_url="http://10.0.0.7:8000/"):
        assert callback_url() == "https://cds.example.org/bedside/smart/callback"
        assert badge_url(7, "ab" * 32).startswith("https://cds.example.org/bedside/ledger/badges/")
