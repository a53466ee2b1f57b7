"""The web pages: a learner's transcript and certificates, and the public badge issuer."""

from __future__ import annotations

import pytest

from app.ledger.outputs import badges, views
from tests.ledger_outputs.world import BASE_URL


@pytest.fixture
def client(outputs_app):
    """A test client of the app, which mounts the ledger output pages itself."""
    return outputs_app.test_client()


@pytest.fixture
def as_alice(monkeypatch, world):
    """Pretend Alice launched Bedside from her EHR."""
    monkeypatch.setattr(views, "current_learner_id", lambda: world.learners["alice"])


def test_transcript_page_and_csv_are_private(client, as_alice):
    page = client.get("/ledger/transcript?since=2026-03-01&until=2026-03-31")
    assert page.status_code == 200 and "CME transcript" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert 'href="/ledger/certificates/1"' in page.text
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    download = client.get("/ledger/transcript.csv")
    assert (
        download.mimetype == "text/csv" and "attachment" in download.headers["Content-Disposition"]
    )
    assert download.text.startswith("learner_id,date,activity")


def test_certificate_pages(client, as_alice, world):
    page = client.get(f"/ledger/certificates/{world.sequences['alice-af'][0]}")
    assert page.status_code == 200 and "Certificate of completion" in page.text
    reversed_credit = client.get(f"/ledger/certificates/{world.sequences['alice-sepsis'][0]}")
    assert reversed_credit.status_code == 404
    period = client.get("/ledger/certificates/period?since=2026-03-01&until=2026-03-31")
    assert period.status_code == 200 and "1.75" in period.text


def test_bad_dates_are_400(client, as_alice):
    assert client.get("/ledger/transcript?since=March").status_code == 400


def test_learner_pages_need_a_smart_session(client):
    response = client.get("/ledger/transcript")
    assert response.status_code == 401 and "Open Bedside from your EHR" in response.text


def test_issuer_profile_and_keys_are_public(client, outputs_app):
    profile = client.get("/ledger/badges/issuer").json
    assert profile["id"] == f"{BASE_URL}/ledger/badges/issuer" and profile["type"] == ["Profile"]
    key = badges.issuer_key(outputs_app.instance_path)
    jwks = client.get("/ledger/badges/jwks.json").json
    (public,) = jwks["keys"]
    assert "d" not in public and public["kid"] == badges.key_id(BASE_URL, key)
    assert client.get(public["kid"].removeprefix(BASE_URL)).json == public
    assert client.get("/ledger/badges/keys/not-a-key").status_code == 404


def test_without_fhir_user_the_transcript_uses_sub_like_the_app(client, outputs_app):
    """A launch whose id_token has `sub` but no fhirUser: the same learner as /app, not a 401."""
    from app.identity import learner_id
    from app.smart.sessions import COOKIE_NAME
    from tests.support.smart_sessions import sign_in

    issuer = "https://ehr.example/fhir"
    session_id = sign_in(outputs_app, client, None, issuer, id_claims={"sub": "user-42"})
    assert outputs_app.extensions["smart"].sessions.load(session_id).user == "user-42"
    with outputs_app.test_request_context(headers={"Cookie": f"{COOKIE_NAME}={session_id}"}):
        key = str(outputs_app.config["LEDGER_IDENTITY_KEY"]).encode()
        assert views.current_learner_id() == learner_id(key, issuer, "user-42")
    assert client.get("/ledger/transcript").status_code == 200


def test_until_the_calendars_last_day_is_a_period_with_no_end(client, as_alice):
    """9999-12-31 has no next day: the period runs on instead of failing with a 500."""
    for path in ("/ledger/transcript", "/ledger/transcript.csv", "/ledger/certificates/period"):
        endless = client.get(f"{path}?since=2026-03-01&until=9999-12-31")
        assert endless.status_code == 200, path
        assert endless.text == client.get(f"{path}?since=2026-03-01").text


@pytest.mark.parametrize("number", [2**63 - 1, 2**63, 2**63 + 1, 10**40])
def test_a_record_number_beyond_the_ledgers_integers_is_not_found(client, as_alice, number):
    """The numbers SQLite and PostgreSQL cannot hold are 404s, not an OverflowError's 500."""
    assert client.get(f"/ledger/badges/credits/{number}-{'ab' * 32}.jwt").status_code == 404
    assert client.get(f"/ledger/certificates/{number}").status_code == 404
