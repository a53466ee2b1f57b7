"""The teaching case store on SQLite and PostgreSQL: drafts, review, who may read what."""

from __future__ import annotations

import pytest

from app.case_conferences.store import (
    CaseChanged,
    CaseConferenceStore,
    CaseNotFound,
    CaseStateError,
    OwnCaseReview,
)
from app.database import Database, parse_database_url
from app.ledger.models import PatientDataRefused
from app.ledger.privacy import identifying_terms

VIGNETTE = (
    "A 67-year-old woman. Day 0 is the day of the encounter.\n\n- Lactate: 3.1 mmol/L (day 0)\n"
)


@pytest.fixture
def cases(database_url):
    """The teaching case store."""
    database = Database(parse_database_url(database_url))
    yield CaseConferenceStore(database)
    database.dispose()


def test_a_draft_is_the_authors_alone_until_a_moderator_approves_it(cases):
    case_id = cases.draft("A1", "Urosepsis in the ED", VIGNETTE)
    assert cases.visible_case(case_id, "A1", moderator=False).status == "draft"
    for reader, moderator in (("L2", False), ("M1", True)):
        with pytest.raises(CaseNotFound):
            cases.visible_case(case_id, reader, moderator=moderator)
    cases.submit(case_id, "A1")
    assert cases.visible_case(case_id, "M1", moderator=True).status == "submitted"
    with pytest.raises(CaseNotFound):
        cases.visible_case(case_id, "L2", moderator=False)
    cases.review(case_id, "M1", approve=True, seen=cases.case(case_id).updated_at)
    cases.open_discussion(case_id, "T1")
    approved = cases.visible_case(case_id, "L2", moderator=False)
    assert (approved.status, approved.reviewed_by, approved.thread_id) == ("approved", "M1", "T1")
    assert [case.case_id for case in cases.cases("approved")] == [case_id]


def test_only_the_author_edits_and_an_edit_goes_back_to_draft(cases):
    case_id = cases.draft("A1", "Urosepsis in the ED", VIGNETTE)
    cases.submit(case_id, "A1")
    with pytest.raises(CaseNotFound):
        cases.edit(case_id, "L2", "Hijacked", VIGNETTE)
    cases.edit(case_id, "A1", "Urosepsis, day 0", VIGNETTE + "- Fluids given (day 0)\n")
    edited = cases.case(case_id)
    assert (edited.title, edited.status) == ("Urosepsis, day 0", "draft")
    with pytest.raises(CaseStateError):
        cases.review(case_id, "M1", approve=True, seen=cases.case(case_id).updated_at)


def test_the_guard_runs_on_every_draft_and_edit_with_the_patients_own_terms(cases):
    patient = {"id": "sepsis-adult", "name": [{"family": "Harlow", "given": ["Maeve"]}]}
    known = identifying_terms(patient)
    with pytest.raises(PatientDataRefused):
        cases.draft("A1", "Ms Harlow's sepsis", VIGNETTE, known)
    case_id = cases.draft("A1", "Urosepsis", VIGNETTE, known)
    with pytest.raises(PatientDataRefused):
        cases.edit(case_id, "A1", "Urosepsis", VIGNETTE + "Maeve was confused.", known)
    with pytest.raises(PatientDataRefused):
        cases.edit(case_id, "A1", "Urosepsis", VIGNETTE + "Call 503-555-0142.")
    assert cases.case(case_id).vignette == VIGNETTE


def test_a_rejected_case_stays_hidden_and_may_be_reworked(cases):
    case_id = cases.draft("A1", "Urosepsis", VIGNETTE)
    cases.submit(case_id, "A1")
    cases.review(case_id, "M1", approve=False, seen=cases.case(case_id).updated_at)
    with pytest.raises(CaseNotFound):
        cases.visible_case(case_id, "L2", moderator=False)
    with pytest.raises(CaseStateError):
        cases.submit(case_id, "A1")
    cases.edit(case_id, "A1", "Urosepsis, reworked", VIGNETTE)
    cases.submit(case_id, "A1")
    assert cases.case(case_id).status == "submitted"


def test_a_moderator_cannot_approve_their_own_case(cases):
    case_id = cases.draft("M1", "Urosepsis", VIGNETTE)
    cases.submit(case_id, "M1")
    with pytest.raises(OwnCaseReview):
        cases.review(case_id, "M1", approve=True, seen=cases.case(case_id).updated_at)
    assert (cases.case(case_id).status, cases.case(case_id).reviewed_by) == ("submitted", None)


def test_approval_holds_only_for_the_version_the_moderator_read(cases):
    case_id = cases.draft("A1", "Urosepsis", VIGNETTE)
    cases.submit(case_id, "A1")
    seen = cases.case(case_id).updated_at
    cases.edit(case_id, "A1", "Urosepsis", VIGNETTE + "- Seen again on day 2\n")
    cases.submit(case_id, "A1")
    with pytest.raises(CaseChanged):
        cases.review(case_id, "M1", approve=True, seen=seen)
    assert cases.case(case_id).status == "submitted"


def test_of_two_moderators_reviewing_at_once_only_the_first_passes(cases):
    case_id = cases.draft("A1", "Urosepsis", VIGNETTE)
    cases.submit(case_id, "A1")
    seen = cases.case(case_id).updated_at
    cases.review(case_id, "M1", approve=True, seen=seen)
    with pytest.raises(CaseChanged):
        cases.review(case_id, "M2", approve=False, seen=seen)
    assert (cases.case(case_id).status, cases.case(case_id).reviewed_by) == ("approved", "M1")


def test_deleting_an_authors_data_removes_only_their_unapproved_cases(cases):
    approved = cases.draft("A1", "Urosepsis", VIGNETTE)
    cases.submit(approved, "A1")
    cases.review(approved, "M1", approve=True, seen=cases.case(approved).updated_at)
    submitted = cases.draft("A1", "Urosepsis, again", VIGNETTE)
    cases.submit(submitted, "A1")
    cases.draft("A1", "Urosepsis, a draft", VIGNETTE)
    others = cases.draft("A2", "Someone else's draft", VIGNETTE)
    cases.delete_unapproved("A1")
    assert [case["case_id"] for case in cases.export("A1")] == [approved]
    assert cases.case(others).status == "draft"
