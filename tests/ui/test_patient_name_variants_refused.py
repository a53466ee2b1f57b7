"""The forms refuse the patient's name in capitals and the birth date with its month named."""

from __future__ import annotations

import pytest

from tests.ui.helpers import SEPSIS, count_rows, get, launch, post


@pytest.mark.parametrize(
    "question",
    ["Mrs HARLOW has lactate 4: cultures before ceftriaxone?", "DOB 22 Jul 1958: lactate 4?"],
)
def test_a_point_of_care_question_naming_the_patient_is_refused(
    ui_app, browser, auth_server, question
):
    launch(browser, auth_server)
    form = get(browser, "/app/poc/new")
    response = post(
        browser, "/app/poc/new", form, status=400, question=question, reason="diagnostic-dilemma"
    )
    assert "Bedside never records patient data" in response.get_data(as_text=True)
    assert count_rows(ui_app, "ledger_attempts") == 0


@pytest.mark.parametrize(
    "body",
    [
        "HARLOW, MAEVE J in bay 4: lactate 4.1, cultures drawn after abx. Thoughts?",
        "dob July 22, 1958 lactate 4.1, cultures after abx?",
    ],
)
def test_a_discussion_post_naming_the_patient_is_refused(ui_app, browser, auth_server, body):
    launch(browser, auth_server)
    post(browser, "/app/discuss/name", get(browser, "/app/discuss/name"), name="Dr Okafor ED")
    page = get(browser, f"/app/discuss/{SEPSIS}")
    response = post(
        browser, f"/app/discuss/{SEPSIS}", page, status=400, title="Lactate timing", body=body
    )
    assert "Bedside never records patient data" in response.get_data(as_text=True)
    assert count_rows(ui_app, "collab_posts") == 0
