"""The /mail pages refuse tampered, expired, reused and unknown links with a readable 4xx page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.delivery.links import ANSWER, CONFIRM, UNSUBSCRIBE, LinkRefused, Links
from app.delivery.schedule import stamp
from app.delivery.store import Preferences
from tests.delivery.conftest import BASE_URL, MODULE, QUESTION

SECRET = "delivery-test-secret"


def local(url: str) -> str:
    """The path and query of a link on BASE_URL."""
    return url.removeprefix(BASE_URL)


def answer_link(app, expires: datetime) -> str:
    """A signed answer link for a stored token of learner-1."""
    token = app.extensions["delivery"].issue_token("learner-1", MODULE, QUESTION, stamp(expires))
    return local(Links(SECRET, BASE_URL).url(ANSWER, token, choice="b"))


def assert_refused(response, status: int, words: str) -> None:
    """A readable HTML page with this status, never a traceback."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert words in response.text
    assert "Traceback" not in response.text


def test_a_tampered_answer_link_is_refused(app):
    link = answer_link(app, datetime.now(UTC) + timedelta(days=1))
    tampered = link.replace("t=", "t=x", 1)
    assert_refused(app.test_client().get(tampered), 400, "This link is not valid")
    assert_refused(app.test_client().post(tampered, data={"choice": "b"}), 400, "not valid")
    assert_refused(app.test_client().get("/mail/answer"), 400, "not valid")


def test_an_expired_answer_link_is_refused_and_records_nothing(app):
    link = answer_link(app, datetime.now(UTC) - timedelta(minutes=1))
    response = app.test_client().post(link, data={"choice": "b"})
    assert_refused(response, 410, "This link has expired")
    assert app.extensions["learning"].mastery("learner-1") == {}


def test_a_signature_older_than_seven_days_is_expired(monkeypatch):
    links = Links(SECRET, BASE_URL)
    signed = links.url(ANSWER, "token-id").split("t=")[1].split("&")[0]
    later = datetime.now(UTC).timestamp() + 8 * 24 * 3600
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    with pytest.raises(LinkRefused, match="expired"):
        links.read(ANSWER, signed)


def test_a_link_signed_for_one_purpose_does_not_work_for_another():
    links = Links(SECRET, BASE_URL)
    signed = links.url(UNSUBSCRIBE, "nonce").split("t=")[1].split("&")[0]
    with pytest.raises(LinkRefused, match="tampered"):
        links.read(CONFIRM, signed)
    assert links.read(UNSUBSCRIBE, signed) == "nonce"


def test_a_signed_link_for_an_unknown_token_is_refused(app):
    link = local(Links(SECRET, BASE_URL).url(ANSWER, "never-issued"))
    assert_refused(app.test_client().get(link), 400, "not valid")


def test_an_option_the_question_lacks_is_refused_and_the_token_kept(app):
    link = answer_link(app, datetime.now(UTC) + timedelta(days=1))
    client = app.test_client()
    assert client.post(link, data={"choice": "z"}).status_code == 400
    assert client.post(link, data={"choice": "b"}).status_code == 200


def test_the_confirmation_link_confirms_only_on_post(app, inbox):
    store = app.extensions["delivery"]
    nonce = store.subscribe("learner-1", "a@example.org", Preferences(), stamp(datetime.now(UTC)))
    link = local(Links(SECRET, BASE_URL).url(CONFIRM, nonce, lang="es"))
    client = app.test_client()

    shown = client.get(link)
    assert shown.status_code == 200
    assert "Confirme su dirección" in shown.text
    assert store.subscription("learner-1").status == "pending"
    done = client.post(link)
    assert done.status_code == 200
    assert store.subscription("learner-1").status == "active"
