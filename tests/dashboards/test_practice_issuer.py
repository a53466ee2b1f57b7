"""Practice data name clinicians `Practitioner/<id>` without an EHR: ids of the configured one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.db import close_stores
from tests.dashboards.conftest import ISSUER, build_app, save_synthetic, sign_in
from tests.dashboards.test_practice_data import complete_module, page

OTHER = "https://other-ehr.example/fhir"
OWN_PAGES = (
    "/dashboards/clinicians/C03?cases=mine",
    "/dashboards/clinicians/C03/measure-reports/summary.json",
    "/dashboards/clinicians/C03/measure-reports/individual.json",
)


def client_at(app, issuer: str, fhir_user: str):
    """A client with a SMART session at this EHR for this fhirUser."""
    client = app.test_client()
    sign_in(app, client, fhir_user, issuer=issuer)
    return client


def assert_not_the_owner(client) -> None:
    """C03's page, summaries and cases are refused; the programme offers no 'My dashboard'."""
    for url in OWN_PAGES:
        assert client.get(url).status_code == 403, url
    assert 'id="my-dashboard"' not in page(client, "/dashboards/")


def assert_no_completions(client) -> None:
    """The programme's URI section has no completion markers and no pooled before/after."""
    section = page(client, "/dashboards/").split('id="measure-uri-appropriate-treatment"')[1]
    section = section.split("</section>")[0]
    assert "dash-completions" not in section and 'id="pooled-' not in section


@pytest.mark.parametrize("fhir_user", [f"{OTHER}/Practitioner/C03", "Practitioner/C03"])
def test_the_same_practitioner_id_at_another_ehr_is_not_the_owner(live_app, fhir_user):
    """A session at another EHR naming Practitioner/C03 (absolute or relative) is refused."""
    save_synthetic(live_app)
    assert_not_the_owner(client_at(live_app, OTHER, fhir_user))
    owner = client_at(live_app, ISSUER, f"{ISSUER}/Practitioner/C03")
    assert all(owner.get(url).status_code == 200 for url in OWN_PAGES)


@pytest.fixture
def two_ehr_app(instance_path):
    """An app outside demo mode trusting two EHRs: which one's Practitioner/C03 is meant?"""
    app = build_app(instance_path, demo=False, trusted=(ISSUER, OTHER))
    yield app
    close_stores(app)


def test_with_two_trusted_ehrs_no_session_owns_the_practice_ids(two_ehr_app):
    """Neither EHR's Practitioner/C03 is C03 of the data; no completions are linked to C03."""
    save_synthetic(two_ehr_app)
    complete_module(two_ehr_app, f"{ISSUER}/Practitioner/C03", datetime(2026, 5, 1, tzinfo=UTC))
    for issuer in (ISSUER, OTHER):
        client = client_at(two_ehr_app, issuer, f"{issuer}/Practitioner/C03")
        assert_not_the_owner(client)
        assert_no_completions(client)


def test_completions_are_read_at_the_ehr_of_the_practice_ids_not_the_viewers(live_app):
    """A completion by Practitioner/C07 of another EHR marks nothing, whoever looks."""
    save_synthetic(live_app)
    other_c07 = f"{OTHER}/Practitioner/C07"
    complete_module(live_app, other_c07, datetime(2026, 5, 1, tzinfo=UTC), issuer=OTHER)
    for client in (
        client_at(live_app, OTHER, other_c07),
        client_at(live_app, ISSUER, f"{ISSUER}/Practitioner/C03"),
    ):
        assert_no_completions(client)


def test_with_two_trusted_ehrs_the_practice_issuer_setting_names_whose_ids_they_are(instance_path):
    """BEDSIDE_PRACTICE_ISSUER picks the EHR: its C03 is the owner, the other EHR's C03 is not."""
    app = build_app(instance_path, demo=False, trusted=(ISSUER, OTHER), PRACTICE_ISSUER=OTHER)
    try:
        save_synthetic(app)
        assert_not_the_owner(client_at(app, ISSUER, f"{ISSUER}/Practitioner/C03"))
        owner = client_at(app, OTHER, f"{OTHER}/Practitioner/C03")
        assert all(owner.get(url).status_code == 200 for url in OWN_PAGES)
    finally:
        close_stores(app)


def test_the_practice_issuer_setting_matches_a_session_whatever_the_case_of_its_host(
    instance_path,
):
    """BEDSIDE_PRACTICE_ISSUER spelled with another host case still names the same EHR."""
    shouted = OTHER.replace("other-ehr.example", "OTHER-EHR.Example")
    app = build_app(instance_path, demo=False, trusted=(ISSUER, OTHER), PRACTICE_ISSUER=shouted)
    try:
        save_synthetic(app)
        owner = client_at(app, OTHER, f"{OTHER}/Practitioner/C03")
        assert all(owner.get(url).status_code == 200 for url in OWN_PAGES)
    finally:
        close_stores(app)
