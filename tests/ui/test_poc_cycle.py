"""The point-of-care cycle end to end: ask, search (with a typo), read, apply later, 0.5 credit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.ledger.helpers import award, request
from tests.ui.helpers import (
    SEPSIS,
    count_rows,
    get,
    launch,
    learner,
    ledger_rows,
    ledger_store,
    post,
    section,
    unbound,
    write_transactions,
)

REPLAYED = "This credit was already recorded; it is counted once."
QUESTION = "Should blood cultures come before the first antibiotic dose in sepsis?"
APPLICATION = {
    "answered": "yes",
    "impact": ["changed-test"],
    "rating": "5",
    "commercial_bias": "no",
    "notes": "Drew two culture sets before the first dose of ceftriaxone.",
}


def ask(browser, question: str = QUESTION) -> str:
    """Ask a clinical question; return the cycle's search URL."""
    form = get(browser, "/app/poc/new")
    response = post(browser, "/app/poc/new", form, question=question, reason="diagnostic-dilemma")
    return unbound(response.headers["Location"])


def read_and_record(browser, search_url: str, when: str) -> str:
    """Search with a typo, open the sepsis module's summary and record it as the source."""
    results = get(browser, search_url, query_string={"q": "sepsiss lactat"})
    assert "Showing results for “sepsis lactat”" in results
    assert "<mark>" in section(results, "search-hits")
    read_url = search_url.replace("/search", f"/read/{SEPSIS}")
    summary = get(browser, read_url)
    return unbound(post(browser, read_url, summary, next=when).headers["Location"])


def test_a_full_cycle_applied_later_earns_half_a_credit_once(ui_app, browser, auth_server):
    launch(browser, auth_server)
    search_url = ask(browser)
    assert QUESTION in get(browser, search_url)
    assert read_and_record(browser, search_url, "later") == "/app/"
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []

    launch(browser, auth_server)  # later the same day: relaunched from the EHR
    home = get(browser, "/app/")
    cycles = section(home, "open-cycles")
    assert QUESTION in cycles
    apply_url = search_url.replace("/search", "/apply")
    assert apply_url in cycles

    done = post(browser, apply_url, get(browser, apply_url), **APPLICATION).headers["Location"]
    page = get(browser, done)
    assert "Cycle complete" in page
    assert "0.50 AMA PRA Category 1 Credit™" in page
    assert "Recorded in your transcript." in section(page, "credit")
    assert "already recorded" not in page
    records = ledger_store(ui_app).credits_for(learner(ui_app))
    assert [(r.activity_type, r.module_id, r.amount) for r in records] == [
        ("poc", SEPSIS, Decimal("0.50"))
    ]
    assert "open-cycles" not in get(browser, "/app/")


def test_the_ledger_holds_the_three_steps(ui_app, browser, auth_server):
    launch(browser, auth_server)
    search_url = ask(browser)
    apply_url = read_and_record(browser, search_url, "now")
    assert apply_url == search_url.replace("/search", "/apply")
    post(browser, apply_url, get(browser, apply_url), **APPLICATION)
    attempt_id = apply_url.split("/")[3]
    steps = {a.item_id: a.response for a in ledger_store(ui_app).answers(attempt_id)}
    assert steps["question"] == {"text": QUESTION, "reason": "diagnostic-dilemma"}
    assert steps["sources"] == {"modules": [SEPSIS], "version": "2.0.0"}
    assert steps["application"]["impact"] == ["changed-test"]
    assert steps["application"]["rating"] == 5


def test_applying_records_the_step_and_its_credit_at_once_and_the_done_page_only_reads(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    apply_url = read_and_record(browser, ask(browser), "now")
    before = write_transactions(ui_app)
    done = post(browser, apply_url, get(browser, apply_url), **APPLICATION).headers["Location"]
    assert write_transactions(ui_app) == before + 1
    rows, transactions = ledger_rows(ui_app), write_transactions(ui_app)
    for _ in range(3):
        credit = section(get(browser, done), "credit")
        assert "Recorded in your transcript." in credit
        assert "already recorded" not in credit
    assert (ledger_rows(ui_app), write_transactions(ui_app)) == (rows, transactions)
    assert count_rows(ui_app, "ledger_credits") == 1


def test_the_summary_page_shows_the_guideline_and_the_draft_label(browser, auth_server, sepsis):
    launch(browser, auth_server)
    search_url = ask(browser)
    page = get(browser, search_url.replace("/search", f"/read/{SEPSIS}"))
    assert "Draft: not yet reviewed by a clinician" in page
    assert sepsis["guideline"]["strength"] in page
    assert sepsis["guideline"]["url"] in page
    assert "<strong>Antimicrobials</strong>" in page  # the Markdown summary, rendered


def test_a_reflection_with_a_patient_identifier_is_refused_clearly(ui_app, browser, auth_server):
    launch(browser, auth_server)
    apply_url = read_and_record(browser, ask(browser), "now")
    form = get(browser, apply_url)
    notes = "Called her daughter on 555-201-7788 about the cultures."
    response = post(browser, apply_url, form, status=400, **{**APPLICATION, "notes": notes})
    html = response.get_data(as_text=True)
    assert "looks like it contains a patient identifier (a phone number)" in html
    assert "555-201-7788" in html  # kept in the form for the learner to edit, not recorded
    attempt_id = apply_url.split("/")[3]
    assert "application" not in {a.item_id for a in ledger_store(ui_app).answers(attempt_id)}
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []


def test_a_question_with_a_record_number_is_refused_before_anything_is_kept(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    form = get(browser, "/app/poc/new")
    question = "Patient/sepsis-adult lactate 3.1: repeat when?"
    response = post(browser, "/app/poc/new", form, status=400, question=question, reason="other")
    assert "patient or encounter reference" in response.get_data(as_text=True)
    assert count_rows(ui_app, "ledger_attempts") == 0


def test_a_question_naming_the_launched_patient_is_refused_and_nothing_is_kept(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    form = get(browser, "/app/poc/new")
    question = "Maeve Harlow born 1961 MRN 12345: repeat lactate when?"
    response = post(browser, "/app/poc/new", form, status=400, question=question, reason="other")
    assert "record number or birth date" in response.get_data(as_text=True)
    assert count_rows(ui_app, "ledger_attempts") == 0
    assert "open-cycles" not in get(browser, "/app/")  # not kept in the session either


def test_a_reflection_with_the_patients_record_number_or_birth_date_is_refused(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    apply_url = read_and_record(browser, ask(browser), "now")
    for notes in ("Reviewed SYN-SEP-000101 cultures with the team.", "DOB 7/22/1958, septic."):
        form = get(browser, apply_url)
        response = post(browser, apply_url, form, status=400, **{**APPLICATION, "notes": notes})
        assert "record number or birth date" in response.get_data(as_text=True)
    attempt_id = apply_url.split("/")[3]
    assert "application" not in {a.item_id for a in ledger_store(ui_app).answers(attempt_id)}
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []


def test_the_application_form_checks_its_choices(browser, auth_server):
    launch(browser, auth_server)
    apply_url = read_and_record(browser, ask(browser), "now")
    form = get(browser, apply_url)
    bad = {**APPLICATION, "impact": ["no-change", "changed-drug"], "rating": "9"}
    html = post(browser, apply_url, form, status=400, **bad).get_data(as_text=True)
    assert "cannot be combined" in html
    assert "from 1 to 5" in html


def test_home_lists_the_library_with_draft_labels_and_the_question_box(browser, auth_server):
    launch(browser, auth_server)
    home = get(browser, "/app/")
    assert "Sepsis: the hour-1 bundle" in home
    assert "Emergency medicine" in home
    assert "10 minutes" in home
    assert 'class="draft-tag"' in home
    assert 'action="/app/poc/new?launch=' in home
    assert "0.50 AMA PRA Category 1 Credit™" in home
    prefilled = get(browser, "/app/poc/new", query_string={"q": "lactate repeat"})
    assert ">lactate repeat</textarea>" in prefilled


def test_many_long_questions_never_overflow_the_session_cookie(browser, auth_server):
    launch(browser, auth_server)
    long_question = "¿Cuándo repetir el lactato en la sepsis con hipotensión persistente? " * 4
    for number in range(8):
        search_url = ask(browser, f"{number} {long_question}"[:300])
    cookie = browser.get_cookie("session")
    assert len(cookie.value) < 3500
    assert "repetir el lactato" in get(browser, search_url)  # the newest cycle goes on


def complete_cycle(browser, question: str = QUESTION) -> str:
    """Ask, read, apply now; return the done page's HTML."""
    apply_url = read_and_record(browser, ask(browser, question), "now")
    done = post(browser, apply_url, get(browser, apply_url), **APPLICATION).headers["Location"]
    return get(browser, done)


def test_every_completed_cycle_earns_its_own_half_credit(ui_app, browser, auth_server):
    launch(browser, auth_server)
    for question in (QUESTION, "When should lactate be remeasured in sepsis?"):
        credit = section(complete_cycle(browser, question), "credit")
        assert "0.50 AMA PRA Category 1 Credit™" in credit and "already" not in credit
    records = ledger_store(ui_app).credits_for(learner(ui_app))
    assert [(r.activity_type, r.amount) for r in records] == [("poc", Decimal("0.50"))] * 2
    assert len({r.attempt_id for r in records}) == 2


def test_asking_a_credited_question_again_is_announced_before_the_form_and_earns_nothing(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    complete_cycle(browser)
    apply_url = read_and_record(browser, ask(browser, QUESTION.upper()), "now")
    form = get(browser, apply_url)
    assert "This cycle will not earn credit." in form
    assert "already earned credit for this clinical question" in form
    done = post(browser, apply_url, form, **APPLICATION).headers["Location"]
    assert "already earned credit for this clinical question" in section(
        get(browser, done), "credit"
    )
    assert len(ledger_store(ui_app).credits_for(learner(ui_app))) == 1


def earlier_credit(app, amount: str) -> None:
    """Give the demo clinician credit already earned this year (a case elsewhere)."""
    held = request(learner(app), earned_at=datetime.now(UTC) - timedelta(seconds=1))
    ledger_store(app).append_credit(held, [award(amount)], "earlier-this-year")


def test_the_forms_say_before_a_cycle_when_the_cap_cuts_its_credit(ui_app, browser, auth_server):
    launch(browser, auth_server)
    earlier_credit(ui_app, "19.75")
    notice = "Only 0.25 AMA PRA Category 1 Credit™ is left under this year\u2019s credit limit"
    assert notice in get(browser, "/app/poc/new")
    apply_url = read_and_record(browser, ask(browser), "now")
    assert notice in get(browser, apply_url)


def test_the_forms_say_before_a_cycle_that_it_earns_nothing_once_the_cap_is_met(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    assert "This cycle will not earn credit." not in get(browser, "/app/poc/new")
    earlier_credit(ui_app, "20")
    form = get(browser, "/app/poc/new")
    assert "This cycle will not earn credit." in form
    assert "You have reached this year\u2019s credit limit." in form
    credit = section(complete_cycle(browser), "credit")
    assert "reached this year&#39;s credit limit" in credit


def test_resubmitting_the_application_says_the_credit_was_already_recorded(
    ui_app, browser, auth_server
):
    launch(browser, auth_server)
    apply_url = read_and_record(browser, ask(browser), "now")
    form = get(browser, apply_url)
    first = post(browser, apply_url, form, **APPLICATION).headers["Location"]
    assert REPLAYED not in get(browser, first)
    again = post(browser, apply_url, form, status=302, **APPLICATION).headers["Location"]
    credit = section(get(browser, again), "credit")
    assert "Recorded in your transcript." in credit and REPLAYED in credit
    assert count_rows(ui_app, "ledger_credits") == 1
