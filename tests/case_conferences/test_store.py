"""The teaching case store on SQLite and PostgreSQL: drafts, review, who may read what."""

from __future__ import annotations

import pytest

from app.case_conferences.store import CaseConferenceStore, CaseNotFound, CaseStateError
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
    cases.review(case_id, "M1", approve=True, thread_id="T1")
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
        cases.review(case_id, "M1", approve=True, thread_id="T1")


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
    cases.review(case_id, "M1", approve=False, thread_id="T1")
    with pytest.raises(CaseNotFound):
        cases.visible_case(case_id, "L2", moderator=False)
    with pytest.raises(CaseStateError):
        cases.submit(case_id, "A1")
    cases.edit(case_id, "A1", "Urosepsis, reworked", VIGNETTE)
    cases.submit(case_id, "A1")
    assert cases.case(case_id).status == "submitted"
