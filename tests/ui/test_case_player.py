"""The case player end to end, from an EHR launch whose appContext names the sepsis module."""

from __future__ import annotations

from decimal import Decimal

from tests.smart.helpers import ISS, new_launch
from tests.ui.helpers import (
    SEPSIS,
    answer_all,
    count_rows,
    get,
    launch,
    launch_as,
    learner,
    ledger_rows,
    ledger_store,
    post,
    result_url,
    section,
    start_case,
    unbound,
    write_transactions,
)


def test_app_context_opens_the_case_with_disclosures_before_any_question(
    browser, auth_server, sepsis
):
    callback = launch(browser, auth_server, SEPSIS)
    assert unbound(callback.headers["Location"]) == f"/app/case/{SEPSIS}"
    intro = get(browser, callback.headers["Location"])
    assert "Disclosures" in intro
    assert sepsis["disclosures"]["statement"]["en"] in intro
    assert "Bedside editorial team" in intro
    assert "Commercial support:" in intro
    assert "75% of the answers correct" in intro
    assert "Draft: not yet reviewed by a clinician" in intro
    assert "0.25 AMA PRA Category 1 Credit™" in intro
    assert sepsis["case"]["questions"][0]["stem"]["en"] not in intro
    assert intro.index("Disclosures") < intro.index("start the case")
    home = get(browser, "/app/")
    assert f"Continue: {sepsis['title']['en']}" in home


def test_no_banner_when_the_ehr_shows_its_own(browser, auth_server):
    launch_id = new_launch(auth_server, need_patient_banner=False)
    step = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    for _ in range(2):
        step = browser.get(step.headers["Location"])
    assert unbound(step.headers["Location"]) == "/app/"
    page = get(browser, "/app/")
    assert "patient-banner" not in page
    assert "Harlow" not in page


def test_the_banner_shows_the_launched_patient(browser, auth_server):
    launch(browser, auth_server, SEPSIS)
    banner = section(get(browser, f"/app/case/{SEPSIS}"), "patient-banner")
    assert "Maeve Josephine Harlow" in banner
    assert "Female" in banner


def test_the_question_page_shows_this_patients_lactate_labelled_as_such(
    browser, auth_server, sepsis
):
    launch(browser, auth_server, SEPSIS)
    page = get(browser, start_case(browser))
    facts = section(page, "patient-facts")
    assert "From this patient\u2019s record" in facts
    assert "3.1 mmol/L" in facts
    assert "minutes ago" in facts
    assert "Sepsis, suspected urinary source" in facts
    assert "Nothing on record" in facts  # no blood culture yet
    assert sepsis["case"]["vignette"]["en"] in section(page, "vignette")


RECORDED = "Recorded in your transcript."
REPLAYED = "This credit was already recorded; it is counted once."


def test_a_first_pass_says_its_credit_is_recorded_and_holds_one_record(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)
    last = answer_all(browser, first, sepsis, correctly=True)
    location = post(browser, result_url(first), last).headers["Location"]
    credit = section(get(browser, location), "credit")
    assert "0.25 AMA PRA Category 1 Credit™" in credit
    assert RECORDED in credit
    assert REPLAYED not in credit
    assert count_rows(ui_app, "ledger_credits") == 1
    assert len(ledger_store(ui_app).credits_for(learner(ui_app))) == 1


def test_finishing_completes_the_attempt_and_claims_its_credit_in_one_transaction(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)
    last = answer_all(browser, first, sepsis, correctly=True)
    before = write_transactions(ui_app)
    post(browser, result_url(first), last)
    assert write_transactions(ui_app) == before + 1
    attempt = ledger_store(ui_app).attempt(first.split("/")[5])
    assert (attempt.correct, attempt.total) == (4, 4)
    [record] = ledger_store(ui_app).credits_for(learner(ui_app))
    assert record.attempt_id == attempt.attempt_id


def test_reloading_the_result_page_writes_nothing_and_keeps_saying_recorded(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)
    last = answer_all(browser, first, sepsis, correctly=True)
    location = post(browser, result_url(first), last).headers["Location"]
    rows, chain = ledger_rows(ui_app), list(ledger_store(ui_app).iter_chain())
    transactions = write_transactions(ui_app)
    for _ in range(3):
        credit = section(get(browser, location), "credit")
        assert RECORDED in credit
        assert REPLAYED not in credit
    assert write_transactions(ui_app) == transactions
    assert ledger_rows(ui_app) == rows
    assert list(ledger_store(ui_app).iter_chain()) == chain


def test_posting_the_result_twice_earns_the_credit_once_and_says_so(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)
    last = answer_all(browser, first, sepsis, correctly=True)
    question = sepsis["case"]["questions"][-1]
    assert question["reference"] in last
    assert "Rationale" in last
    locations = [post(browser, result_url(first), last).headers["Location"] for _ in range(2)]
    assert REPLAYED not in section(get(browser, locations[0]), "credit")
    result = get(browser, locations[1])
    assert "4 of 4 correct" in result
    assert "Passed." in result
    assert "0.25 AMA PRA Category 1 Credit™" in result
    assert f"{RECORDED} {REPLAYED}" in section(result, "credit")
    records = ledger_store(ui_app).credits_for(learner(ui_app))
    assert [(r.activity_type, r.module_id, r.amount) for r in records] == [
        ("case", SEPSIS, Decimal("0.25"))
    ]
    assert count_rows(ui_app, "ledger_credits") == 1


def test_a_failing_attempt_earns_nothing_and_offers_a_retry(ui_app, browser, auth_server, sepsis):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)
    last = answer_all(browser, first, sepsis, correctly=False)
    assert "Not the best answer." in last
    post(browser, result_url(first), last)
    result = get(browser, result_url(first))
    assert "0 of 4 correct" in result
    assert "Not passed this time." in result
    assert "below the pass mark" in result
    assert RECORDED not in result
    assert "Try the case again" in result
    assert ledger_store(ui_app).credits_for(learner(ui_app)) == []
    assert count_rows(ui_app, "ledger_credits") == 0
    retry = post(browser, f"/app/case/{SEPSIS}/start", result).headers["Location"]
    assert retry != first


def test_a_second_pass_says_the_credit_was_already_earned(ui_app, browser, auth_server, sepsis):
    launch(browser, auth_server, SEPSIS)
    for _ in range(2):
        first = start_case(browser)
        last = answer_all(browser, first, sepsis, correctly=True)
        post(browser, result_url(first), last)
    result = get(browser, result_url(first))
    assert "already earned credit for this activity" in result
    assert len(ledger_store(ui_app).credits_for(learner(ui_app))) == 1


def test_an_answer_is_final_and_questions_cannot_be_skipped(browser, auth_server, sepsis):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)
    skip = browser.get(first.replace("/q/1", "/q/3"))
    assert skip.status_code == 302 and unbound(skip.headers["Location"]).endswith("/q/1")
    page = get(browser, first)
    answer = sepsis["case"]["questions"][0]["answer"]
    post(browser, first, page, option=answer)
    post(browser, first, page, option="a")  # a second answer changes nothing
    assert "Correct." in get(browser, first)
    early = browser.get(result_url(first))
    assert early.status_code == 302 and unbound(early.headers["Location"]).endswith("/q/2")


def test_no_option_chosen_is_a_clear_error(browser, auth_server):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)
    response = post(browser, first, get(browser, first), status=400)
    assert "Choose one answer" in response.get_data(as_text=True)


def test_unknown_attempts_and_modules_are_not_found(browser, auth_server):
    launch(browser, auth_server, SEPSIS)
    get(browser, f"/app/case/{SEPSIS}/attempt/not-a-uuid/q/1", status=404)
    missing = "00000000-0000-4000-8000-000000000000"
    get(browser, f"/app/case/{SEPSIS}/attempt/{missing}/q/1", status=404)
    get(browser, "/app/case/no-such-module", status=404)


def test_another_learner_cannot_view_answer_or_finish_someone_elses_attempt(
    ui_app, browser, auth_server, sepsis
):
    launch(browser, auth_server, SEPSIS)
    first = unbound(start_case(browser))  # B's pages name B's launch; this is about the ledger
    questions = sepsis["case"]["questions"]
    last_url = first.replace("/q/1", f"/q/{len(questions)}")
    for number, question in enumerate(questions[:-1], start=1):
        url = first.replace("/q/1", f"/q/{number}")
        post(browser, url, get(browser, url), option=question["answer"])
    attempt_id = first.split("/")[5]
    store = ledger_store(ui_app)
    before = store.answers(attempt_id)

    other = ui_app.test_client()
    launch_as(other, auth_server, "dr-hf-haddad")
    own_page = get(other, start_case(other))  # a page of B's own, for a valid CSRF token
    get(other, first, status=404)
    post(other, last_url, own_page, status=404, option=questions[-1]["answer"])
    assert store.answers(attempt_id) == before

    post(browser, last_url, get(browser, last_url), option=questions[-1]["answer"])
    finished = store.answers(attempt_id)
    post(other, result_url(first), own_page, status=404)
    get(other, result_url(first), status=404)
    assert store.attempt(attempt_id).completed_at is None
    assert store.answers(attempt_id) == finished
    assert store.credits_for(learner(ui_app)) == []

    post(browser, result_url(first), get(browser, last_url))
    assert "Passed." in get(browser, result_url(first))
    assert len(store.credits_for(learner(ui_app))) == 1


def test_the_facts_panel_says_so_when_the_ehr_cannot_be_read(browser, auth_server, transport):
    launch(browser, auth_server, SEPSIS)
    first = start_case(browser)

    def fail_observations(request, response):
        """Make the EHR's Observation search fail."""
        if "/fhir/Observation" in request.url:
            response.status_code = 503

    transport.rewrites.append(fail_observations)
    facts = section(get(browser, first), "patient-facts")
    assert "could not be read from the EHR" in facts
    assert "Sepsis, suspected urinary source" in facts
