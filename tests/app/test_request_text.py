"""A NUL character in a path, query or form is a 400 before any view, on SQLite and PostgreSQL.

PostgreSQL's text columns hold no NUL: a display name, a post or an id with one was a 500 there,
and SQLite quietly stored it.
"""

from __future__ import annotations

import pytest

from app.db import close_stores
from tests.smart.conftest import build_demo_app
from tests.ui.helpers import SEPSIS, get, launch, token

REFUSED = "NUL character"


@pytest.fixture
def learner(instance_path, monkeypatch, database_url):
    """The demo clinician, launched, on Bedside over each database."""
    app = build_demo_app(instance_path, monkeypatch, DATABASE_URL=database_url)
    client = app.test_client()
    launch(client, app.extensions["demo_auth"])
    yield client
    close_stores(app)


def test_a_name_with_a_nul_is_refused_and_not_saved(learner):
    form = get(learner, "/app/discuss/name")
    refused = learner.post("/app/discuss/name", data={"csrf_token": token(form), "name": "a\0b"})
    assert refused.status_code == 400 and REFUSED in refused.text
    assert 'value="a' not in get(learner, "/app/discuss/name")
    saved = learner.post("/app/discuss/name", data={"csrf_token": token(form), "name": "Owl"})
    assert saved.status_code == 303


@pytest.mark.parametrize(
    "url",
    [
        "/app/discuss/thread/%00",
        "/app/cases/%00",
        "/app/?launch=%00",
        f"/app/discuss/{SEPSIS}?page=%00",
        "/app/?%00=1",
    ],
)
def test_a_nul_in_a_path_or_query_is_a_400_page(learner, url):
    response = learner.get(url)
    assert response.status_code == 400 and REFUSED in response.text
    assert "Traceback" not in response.text


def test_a_nul_in_an_apis_query_gets_the_json_error_shape(learner):
    response = learner.get("/cds-services?x=%00")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"
