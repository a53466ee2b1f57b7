"""Confidence after each answer, the learner profile page and the "what next" page."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from app.devtools import fhir_search
from app.devtools.synthetic.dataset import SyntheticPracticeSource
from app.learning import practice, recommend
from app.learning.profile_store import AnswerEvent
from app.learning.reviews import ReviewKey
from app.outcomes.practice_data import SOURCE, PracticeSource
from app.ui import reason_texts
from tests.ui.helpers import (
    PATIENT_WORDS,
    SEPSIS,
    answer_all,
    count_rows,
    get,
    launch,
    learner,
    ledger_store,
    post,
    result_url,
    start_case,
)

URI = "uri-antibiotics-adults"
# The store's database stayed locked: sqlite3's own error, or SQLAlchemy's wrapping it.
LOCKED = sqlite3.OperationalError("database is locked")
BUSY = [LOCKED, OperationalError("DELETE FROM learning_profiles …", {}, LOCKED)]


def learning(app):
    """The app's learning store."""
    return app.extensions["learning"]


def wrong_option(question: dict) -> str:
    """An option that is not the best answer."""
    return next(o["id"] for o in question["options"] if o["id"] != question["answer"])


def test_the_confidence_is_kept_with_the_answer_and_moves_mastery_once(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server)
    first = start_case(browser)
    page = get(browser, first)
    assert "How confident are you?" in page and 'value="low"' in page
    question = sepsis["case"]["questions"][0]
    post(browser, first, page, option=wrong_option(question), confidence="high")
    post(browser, first, page, option=wrong_option(question), confidence="high")  # a re-post
    feedback = get(browser, first)
    assert "You said you were: Certain" in feedback
    attempt_id = first.split("/attempt/")[1].split("/")[0]
    [answer] = ledger_store(ui_app).answers(attempt_id)
    assert answer.response == {"option": wrong_option(question), "confidence": "high"}
    mastery = learning(ui_app).mastery(learner(ui_app))[SEPSIS]
    assert mastery.answers == 1
    assert mastery.score == pytest.approx(0.2)  # 0.5 + 0.3 * 2.0 * (0 - 0.5): confident and wrong
    assert list(learning(ui_app).cards(learner(ui_app))) == [ReviewKey(SEPSIS, question["id"])]


def test_a_right_confident_answer_schedules_no_review(ui_app, browser, auth_server, sepsis):
    launch(browser, auth_server)
    first = start_case(browser)
    question = sepsis["case"]["questions"][0]
    post(browser, first, get(browser, first), option=question["answer"], confidence="high")
    assert learning(ui_app).cards(learner(ui_app)) == {}
    assert learning(ui_app).mastery(learner(ui_app))[SEPSIS].score == pytest.approx(0.65)


def test_an_unknown_confidence_is_a_readable_400_and_records_nothing(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server)
    first = start_case(browser)
    question = sepsis["case"]["questions"][0]
    response = post(
        browser, first, get(browser, first), status=400, option=question["answer"], confidence="x"
    )
    assert "Choose how sure you are" in response.get_data(as_text=True)
    assert count_rows(ui_app, "ledger_answers") == 0
    assert learning(ui_app).mastery(learner(ui_app)) == {}


def test_the_profile_shows_mastery_reviews_due_and_the_ehr_specialty(ui_app, browser, auth_server):
    launch(browser, auth_server)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    event = AnswerEvent("a1", SEPSIS, "q1", False, "high", yesterday)
    assert learning(ui_app).apply_answer(learner(ui_app), event)
    assert not learning(ui_app).apply_answer(learner(ui_app), event)  # applied once only
    page = get(browser, "/app/profile")
    assert "Emergency medicine" in page and "from your EHR" in page
    assert "Mastery by topic" in page and "20%" in page
    assert "1 question due" in page
    assert "Delete my learning data" in page and "Download my data" in page


def test_without_a_practitioner_role_search_the_specialty_is_not_claimed(
    browser, auth_server, monkeypatch
):
    monkeypatch.delitem(fhir_search.SEARCH_PARAMS, "PractitionerRole")  # an EHR that cannot
    launch(browser, auth_server)
    page = get(browser, "/app/profile")
    assert "Not set: your EHR does not say" in page


def test_a_self_reported_specialty_wins_and_clearing_it_falls_back_to_the_ehr(browser, auth_server):
    launch(browser, auth_server)
    page = get(browser, "/app/profile")
    form = {"specialty": "pediatrics", "gaps": [URI, SEPSIS], "language": "en"}
    saved = post(browser, "/app/profile", page, **form)
    assert "done=saved" in saved.headers["Location"]
    page = get(browser, saved.headers["Location"])
    assert "Pediatrics" in page and "self-reported" in page
    assert "Your profile was saved." in page
    post(browser, "/app/profile", page, specialty="", language="en")
    assert "from your EHR" in get(browser, "/app/profile")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("specialty", "astrology", "Choose a specialty from the list."),
        ("gaps", "no-such-module", "Choose topics from the library list."),
        ("language", "de", "Choose English, Spanish or French."),
    ],
)
def test_bad_profile_values_are_refused_with_a_message(browser, auth_server, field, value, message):
    launch(browser, auth_server)
    page = get(browser, "/app/profile")
    form = {"specialty": "", "language": "en", field: value}
    response = post(browser, "/app/profile", page, status=400, **form)
    assert message in response.get_data(as_text=True)


def test_the_profile_language_choice_switches_the_app(browser, auth_server):
    launch(browser, auth_server)
    page = get(browser, "/app/profile")
    saved = post(browser, "/app/profile", page, specialty="", language="es")
    assert "lang=es" in saved.headers["Location"]
    browser.get(saved.headers["Location"])
    assert '<html lang="es">' in get(browser, "/app/")


def test_download_my_data_is_json_without_patient_data(ui_app, browser, auth_server, sepsis):
    launch(browser, auth_server)
    first = start_case(browser)
    last = answer_all(browser, first, sepsis, correctly=True)
    post(browser, result_url(first), last)
    response = browser.get("/app/profile/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["mastery"][SEPSIS]["answers"] == len(sepsis["case"]["questions"])
    assert data["ledger_credits"]["records"] == 1
    assert data["ledger_credits"]["net_totals"] == {"ama-pra-category-1": "0.25"}
    body = response.get_data(as_text=True)
    assert not [word for word in PATIENT_WORDS if word in body]


def test_delete_asks_first_and_keeps_the_ledger_credits(ui_app, browser, auth_server, sepsis):
    launch(browser, auth_server)
    first = start_case(browser)
    last = answer_all(browser, first, sepsis, correctly=False)
    post(browser, result_url(first), last)
    credits_before = count_rows(ui_app, "ledger_credits")
    confirm = get(browser, "/app/profile/delete")
    assert "audit record" in confirm
    assert learning(ui_app).mastery(learner(ui_app))
    done = post(browser, "/app/profile/delete", confirm)
    assert "done=deleted" in done.headers["Location"]
    assert learning(ui_app).export(learner(ui_app))["mastery"] == {}
    assert learning(ui_app).cards(learner(ui_app)) == {}
    assert count_rows(ui_app, "ledger_credits") == credits_before
    assert count_rows(ui_app, "ledger_answers") == len(sepsis["case"]["questions"])
    assert "still in the CME ledger" in get(browser, "/app/profile?done=deleted")


def test_what_next_in_demo_labels_the_synthetic_practice_data_and_shows_reasons(
    browser, auth_server
):
    launch(browser, auth_server)
    page = get(browser, "/app/next")
    assert "Demo: practice data is synthetic clinician C03" in page
    assert (
        "12 of your 31 URI encounters in the last 12 months had an antibiotic ordered; "
        "peer median 3 of 10"
    ) in page
    assert f'href="/app/case/{URI}?launch=' in page
    assert "<details" in page and "peer median rate" in page
    why = page[page.index("<details") : page.index("</details>")]
    assert "A gap in your practice data" in why and "Practice data, URI:" in why
    for artefact in ("antibiotic_gap", "practice_gap", "uri-appropriate-treatment", "<code>", "="):
        assert artefact not in why.replace('="', "")


def test_what_next_ranks_a_due_review_and_a_chosen_topic(ui_app, browser, auth_server):
    launch(browser, auth_server)
    past = datetime.now(UTC) - timedelta(days=1)
    learning(ui_app).apply_answer(
        learner(ui_app), AnswerEvent("a1", SEPSIS, "q1", False, "low", past)
    )
    page = get(browser, "/app/next")
    assert "1 question from this module is due for review" in page
    assert "question(s)" not in page and "review_due" not in page
    assert "Questions due for review" in page
    assert f'href="/app/case/{SEPSIS}?launch=' in page


def test_what_next_orders_practice_gap_then_review_then_chosen_topic(ui_app, browser, auth_server):
    launch(browser, auth_server)
    profile = get(browser, "/app/profile")
    post(browser, "/app/profile", profile, gaps="aom-children", specialty="", language="en")
    past = datetime.now(UTC) - timedelta(days=1)
    learning(ui_app).apply_answer(
        learner(ui_app), AnswerEvent("a1", SEPSIS, "q1", False, "low", past)
    )
    page = get(browser, "/app/next")
    modules = (URI, SEPSIS, "aom-children")
    order = [page.index(f'href="/app/case/{module}?launch=') for module in modules]
    assert order == sorted(order)  # practice gap (C03's URI) > review due > self-reported gap


def test_profile_changes_without_the_csrf_token_are_refused(ui_app, browser, auth_server, sepsis):
    launch(browser, auth_server)
    first = start_case(browser)
    answer_all(browser, first, sepsis, correctly=False)
    before = learning(ui_app).export(learner(ui_app))
    for url, data in (("/app/profile", {"specialty": "cardiology"}), ("/app/profile/delete", {})):
        refused = browser.post(url, data=data)
        assert refused.status_code == 400
        assert "missing its security token" in refused.get_data(as_text=True)
    assert learning(ui_app).export(learner(ui_app)) == before


@pytest.mark.parametrize("busy", BUSY, ids=["sqlite3", "sqlalchemy"])
def test_a_locked_store_on_delete_is_a_clear_503_and_nothing_is_lost(
    ui_app, browser, auth_server, sepsis, busy
):
    launch(browser, auth_server)
    first = start_case(browser)
    answer_all(browser, first, sepsis, correctly=False)

    def locked(*args):
        raise busy

    ui_app.extensions["learning"].delete = locked
    confirm = get(browser, "/app/profile/delete")
    response = post(browser, "/app/profile/delete", confirm, status=503)
    assert "nothing was changed" in response.get_data(as_text=True)
    assert learning(ui_app).mastery(learner(ui_app))


def test_outside_demo_no_practice_data_is_invented(ui_app, browser, auth_server):
    launch(browser, auth_server)
    content = str(ui_app.config["CONTENT_DIR"])
    ui_app.extensions[SOURCE] = PracticeSource(ui_app.extensions["practice_store"], content)
    page = get(browser, "/app/next")
    assert "No practice data has been loaded for you yet" in page
    assert "synthetic clinician" not in page
    assert "had an antibiotic ordered" not in page


def test_an_unknown_demo_clinician_means_no_practice_data(ui_app, browser, auth_server):
    launch(browser, auth_server)
    content = str(ui_app.config["CONTENT_DIR"])
    ui_app.extensions[SOURCE] = SyntheticPracticeSource(content, "C99")
    assert "No practice data has been loaded for you yet" in get(browser, "/app/next")


def test_home_and_nav_link_the_learner_pages(browser, auth_server):
    launch(browser, auth_server)
    home = get(browser, "/app/")
    assert 'href="/app/next?launch=' in home and 'href="/app/profile?launch=' in home


def test_the_learner_pages_need_a_smart_session(browser):
    for url in ("/app/profile", "/app/next", "/app/profile/export", "/app/profile/delete"):
        get(browser, url, status=401)


def test_every_reason_template_is_marked_for_translation():
    expected = {
        *recommend.TEMPLATES.values(),
        *practice.TEMPLATES.values(),
        *practice.SHORT_LABELS.values(),
        *practice.UNIT_PLURALS.values(),
        *recommend.LEVELS,
    }
    assert reason_texts.message_ids() == expected


@pytest.mark.parametrize("busy", BUSY, ids=["sqlite3", "sqlalchemy"])
def test_a_locked_learning_store_never_loses_the_answer(ui_app, browser, auth_server, sepsis, busy):
    launch(browser, auth_server)
    first = start_case(browser)

    def locked(*args):
        raise busy

    ui_app.extensions["learning"].apply_answer = locked
    question = sepsis["case"]["questions"][0]
    post(browser, first, get(browser, first), option=question["answer"], confidence="low")
    assert "Correct." in get(browser, first)
    assert count_rows(ui_app, "ledger_answers") == 1


def test_a_ledger_that_does_not_answer_gives_the_transcript_a_503_not_a_500(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)

    def unreachable(*args, **kwargs):
        raise BUSY[1]  # SQLAlchemy's error, as either engine raises it

    ui_app.extensions["ledger"].store.credits_for = unreachable
    response = browser.get("/ledger/transcript")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "nothing was changed" in response.get_data(as_text=True)
