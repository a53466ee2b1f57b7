"""Certificates a board accepts: the learner's consented name and credentials, a badge QR code."""

from __future__ import annotations

import re

from app.ledger.outputs import badges
from app.ui.learner_profile import name_from_practitioner, qualification_codes
from tests.ui.helpers import get, launch, learner, ledger_store, post
from tests.ui.test_transcript import pass_the_sepsis_case

NAME = {
    "first_name": "Chinwe",
    "last_name": "Okafor",
    "credentials": "MD",
    "npi": "1234567893",
    "licence_state": "ca",
    "licence_id": "A123456",
}


def save_name(browser, status: int = 303, **fields):
    """Post the profile's certificate-name form."""
    profile = get(browser, "/app/profile")
    return post(browser, "/app/profile/certificate-name", profile, status=status, **fields)


def certificate(browser, language: str = "en") -> str:
    """The learner's first certificate page."""
    return get(browser, "/ledger/certificates/1", query_string={"lang": language})


def test_the_profile_offers_the_ehr_name_but_prints_nothing_without_consent(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server)
    pass_the_sepsis_case(browser, sepsis)
    profile = get(browser, "/app/profile")
    assert "Your EHR knows you as Chinwe Okafor" in profile
    assert 'value="Chinwe"' in profile and 'value="Okafor"' in profile
    refused = save_name(browser, status=400, **NAME)  # the consent box left unticked
    assert "Tick the box" in refused.get_data(as_text=True)
    assert ledger_store(ui_app).reporting_identity(learner(ui_app)) is None
    page = certificate(browser)
    assert "[No name printed]" in page and "Chinwe" not in page
    assert re.search(r'href="/app/profile\?launch=[\w-]+#certificate-name"', page)
    assert learner(ui_app) not in page


def test_a_consented_name_and_credentials_are_printed_with_a_badge_qr_code(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server)
    pass_the_sepsis_case(browser, sepsis)
    save_name(browser, **NAME, consent="yes")
    assert "Printed on your certificates: Chinwe Okafor, MD" in get(browser, "/app/profile")
    page = certificate(browser)
    assert "Chinwe Okafor, MD" in page
    assert "NPI 1234567893" in page and "Licence CA A123456" in page
    assert sepsis["title"]["en"] in page and "AMA PRA Category 1 Credit™" in page
    assert re.search(r"<dd><time datetime=\"\d{4}-\d\d-\d\d\">[A-Z][a-z]+ \d{1,2}, \d{4}<", page)
    assert learner(ui_app) not in page
    [url] = re.findall(r'class="badge-url" href="([^"]+)"', page)
    assert '<svg width="' in page and 'class="badge-qr"' in page
    response = browser.get(url.removeprefix("http://localhost"))
    assert response.status_code == 200 and response.mimetype == "application/jwt"
    jwks = browser.get("/ledger/badges/jwks.json").get_json()
    report = badges.verify_badge(response.get_data(as_text=True), jwks)
    assert report.ok, report.problems
    subject = report.credential["credentialSubject"]
    assert subject["id"] == badges.learner_uri(learner(ui_app))  # opaque id, never the name
    assert "Chinwe" not in str(report.credential)


def test_a_wrong_hash_or_unknown_record_finds_no_badge(browser, auth_server, sepsis):
    launch(browser, auth_server)
    pass_the_sepsis_case(browser, sepsis)
    [url] = re.findall(r'class="badge-url" href="([^"]+)"', certificate(browser))
    path = url.removeprefix("http://localhost")
    assert browser.get(path[:-8] + "0000.jwt").status_code == 404
    assert browser.get(path.replace("/credits/1-", "/credits/9-")).status_code == 404


def test_withdrawing_consent_erases_the_name(ui_app, browser, auth_server, sepsis):
    launch(browser, auth_server)
    pass_the_sepsis_case(browser, sepsis)
    save_name(browser, **NAME, consent="yes")
    profile = get(browser, "/app/profile")
    post(browser, "/app/profile/certificate-name/remove", profile)
    assert ledger_store(ui_app).reporting_identity(learner(ui_app)) is None
    assert "[No name printed]" in certificate(browser)


def test_a_bad_npi_is_refused_with_a_message(ui_app, browser, auth_server):
    launch(browser, auth_server)
    refused = save_name(browser, status=400, **{**NAME, "npi": "1234567890"}, consent="yes")
    assert "valid check digit" in refused.get_data(as_text=True)
    assert 'value="1234567890"' in refused.get_data(as_text=True)  # what was typed is kept
    assert ledger_store(ui_app).reporting_identity(learner(ui_app)) is None


def test_the_practitioner_name_and_qualifications_are_read_from_fhir():
    practitioner = {
        "resourceType": "Practitioner",
        "name": [{"use": "official", "family": "Okafor", "given": ["Chinwe", "A."]}],
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
        "qualification": [
            {
                "code": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0360",
                            "code": "MD",
                            "display": "Doctor of Medicine",
                        }
                    ]
                }
            },
            {"code": {"text": "Board certified in emergency medicine"}},
        ],
    }
    name = name_from_practitioner(practitioner)
    assert (name.first_name, name.last_name, name.npi) == ("Chinwe A.", "Okafor", "1234567893")
    assert qualification_codes(practitioner) == ["MD", "Board certified in emergency medicine"]
    assert name_from_practitioner({"resourceType": "Patient"}) is None


def test_the_certificate_in_spanish_is_all_spanish(browser, auth_server, sepsis):
    launch(browser, auth_server)
    pass_the_sepsis_case(browser, sepsis)
    save_name(browser, **NAME, consent="yes")
    page = certificate(browser, "es")
    assert '<html lang="es">' in page
    assert "Certificado de finalización" in page and "Se certifica que" in page
    assert "completó la actividad" in page and "Tipo de actividad" in page
    assert sepsis["title"]["es"] in page
    assert re.search(r"\d{1,2} de [a-z]+ de \d{4}", page)
    assert "0,25" in page and "designa esta actividad (material duradero)" in page
    for english in ("completed the", "Certificate of", "This certifies", "Verification", "Licence"):
        assert english not in page
