"""Download my data: everything stored under the learner id, questions and reflections too."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

from app.ledger.models import ReportingIdentity
from app.ui.learner_profile import EXPORTED_TABLES
from tests.ui.helpers import (
    PATIENT_WORDS,
    SEPSIS,
    answer_all,
    get,
    launch,
    learner,
    ledger_store,
    post,
    result_url,
    start_case,
)
from tests.ui.test_poc_cycle import APPLICATION, QUESTION, ask, read_and_record


def exported(browser) -> dict:
    """GET the profile export and parse it."""
    response = browser.get("/app/profile/export")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert not [word for word in PATIENT_WORDS if word in body]
    return json.loads(body)


def test_the_export_holds_questions_reflections_answers_and_identity(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server)
    first = start_case(browser)
    post(browser, result_url(first), answer_all(browser, first, sepsis, correctly=True))
    apply_url = read_and_record(browser, ask(browser), "now")
    post(browser, apply_url, get(browser, apply_url), **APPLICATION)
    identity = ReportingIdentity("Ada", "Okafor", board_id="1234567893", licence_state="CA")
    ledger_store(ui_app).set_reporting_identity(learner(ui_app), identity)

    data = exported(browser)["ledger"]
    body = json.dumps(data, ensure_ascii=False)
    assert QUESTION in body and APPLICATION["notes"] in body
    kinds = sorted(a["activity_key"].split(":")[0] for a in data["attempts"])
    assert kinds == ["case", "poc"]
    case = next(a for a in data["attempts"] if a["activity_key"].startswith("case:"))
    assert len(case["answers"]) == len(sepsis["case"]["questions"])
    assert data["reporting_identity"]["last_name"] == "Okafor"
    assert data["reporting_identity"]["board_id"] == "1234567893"
    assert data["learner"]["learner_id"] == learner(ui_app)
    credits = data["credits"]
    assert [(c["activity_type"], c["module_id"], c["amount"]) for c in credits] == [
        ("case", SEPSIS, "0.25"),
        ("poc", SEPSIS, "0.50"),
    ]
    assert all(len(c["record_hash"]) == 64 and "idempotency_hash" not in c for c in credits)


def test_every_table_keyed_on_the_learner_id_is_in_the_export(ui_app, browser, auth_server):
    launch(browser, auth_server)
    get(browser, "/app/profile")
    with sqlite3.connect(ui_app.config["DATABASE"]) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        keyed = {
            table
            for table in tables
            if any(
                column[1] == "learner_id"
                for column in connection.execute(f"PRAGMA table_info('{table}')")
            )
        }
    assert {"ledger_attempts", "learning_cards"} <= keyed
    assert keyed - set(EXPORTED_TABLES) == set()


def test_clubs_and_teaching_cases_are_exported_and_delete_removes_only_unapproved_cases(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    get(browser, "/app/profile")
    me = learner(ui_app)
    clubs, cases = ui_app.extensions["journal_clubs"], ui_app.extensions["case_conferences"]
    now = datetime.now(UTC)
    club_id = clubs.create_club(
        title="Sepsis club",
        facilitator_id="F1",
        topic_kind="module",
        topic=SEPSIS,
        topic_version="2.0.0",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
    )
    clubs.join(club_id, me)
    clubs.reflect(club_id, me, "Repeat lactate within two hours", "Night shifts", now)
    draft = cases.draft(me, "Urosepsis, a draft", "A woman with urosepsis on day 0.")
    approved = cases.draft(me, "Urosepsis, approved", "A man with urosepsis on day 0.")
    cases.submit(approved, me)
    cases.review(approved, "M1", approve=True, seen=cases.case(approved).updated_at)

    data = exported(browser)
    assert [m["club_id"] for m in data["journal_clubs"]["memberships"]] == [club_id]
    [reflection] = data["journal_clubs"]["reflections"]
    assert reflection["practice_change"] == "Repeat lactate within two hours"
    assert {case["case_id"] for case in data["teaching_cases"]} == {draft, approved}

    post(browser, "/app/profile/delete", get(browser, "/app/profile/delete"))
    assert [case.case_id for case in cases.cases_by(me)] == [approved]
    assert clubs.is_member(club_id, me) and len(clubs.reflections(club_id, me)) == 1
