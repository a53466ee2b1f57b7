"""Every save of a teaching case is checked for Safe Harbor identifiers, as its draft was.

The source patient's own terms are checked from the hashes the case keeps, whichever patient the
author launched since; a refusal keeps what was typed and names the kind of identifier found.
"""

from __future__ import annotations

import html as markup
import json

import pytest

from tests.case_conferences.conftest import MODERATOR
from tests.case_conferences.test_case_pages import (
    PATIENTS,
    bundle_resources,
    draft_case,
    launched,
    review,
)
from tests.ui.helpers import get, post

HFREF = next(path for path in PATIENTS if path.stem == "hfref-adult")
OLDEST = [
    {
        "resourceType": "Patient",
        "id": "oldest-adult",
        "name": [{"family": "Quillfeather", "given": ["Ottoline"]}],
        "gender": "female",
        "birthDate": "1931-02-14",
        "address": [{"state": "Oregon"}],
    },
    {
        "resourceType": "Encounter",
        "id": "oldest-adult-visit",
        "status": "in-progress",
        "subject": {"reference": "Patient/oldest-adult"},
        "period": {"start": "2026-03-10T08:00:00Z"},
    },
]


@pytest.fixture
def author(clubs_app, auth_server):
    """The demo clinician, launched on the sepsis patient."""
    return launched(clubs_app, auth_server, "dr-ed-okafor")


def stored(app, case: str):
    """The stored case."""
    return app.extensions["case_conferences"].case(case.rsplit("/", 1)[1])


def kept_terms(app, case: str) -> str | None:
    """The source terms column a case keeps."""
    with app.extensions["case_conferences"].database.read() as connection:
        return connection.exec_driver_sql(
            "SELECT source_terms FROM conf_cases WHERE case_id = ?", (case.rsplit("/", 1)[1],)
        ).scalar()


def refused_edit(client, case: str, status: int = 400, **fields) -> str:
    """Post an edit of a case from its edit page; return the answer's HTML."""
    values = {"title": "Urosepsis in the ED", "vignette": "A woman with urosepsis on day 0."}
    response = post(client, case + "/edit", get(client, case + "/edit"), status, **values | fields)
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    "vignette",
    [
        "Maeve Josephine Harlow, born 22 Jul 1958, MRN SYN-SEP-000101, had sepsis.",
        "Maeve was confused on day 1 and febrile.",
        "Mrs Harlow had urosepsis on day 0.",
        "HARLOW, MAEVE: urosepsis with a lactate of 3.1 mmol/L.",
    ],
)
def test_an_edit_naming_the_source_patient_is_refused_after_relaunching_on_another(
    clubs_app, auth_server, author, vignette
):
    case = draft_case(author)
    before = stored(clubs_app, case).vignette
    relaunched = launched(clubs_app, auth_server, "dr-ed-okafor", bundle_resources(HFREF))
    page = refused_edit(relaunched, case, vignette=vignette)
    assert "a name, number or place from the patient&#39;s record" in page
    assert markup.escape(vignette) in page  # what was typed comes back in the form
    assert stored(clubs_app, case).vignette == before
    peer = launched(clubs_app, auth_server, "dr-peer-patel")  # cannot probe another's case
    post(peer, case + "/edit", get(peer, "/app/cases"), 404, title="Sepsis", vignette=vignette)


@pytest.mark.parametrize(
    ("vignette", "kind"),
    [
        ("Admitted on 03/10/2026 with urosepsis.", "a date more precise than the year"),
        ("Seen March 10 with urosepsis and rigors.", "a date more precise than the year"),
        ("She lives at 14 Elm Street with her daughter.", "a street address"),
        ("She lives in ZIP 97201, near the hospital.", "a ZIP code"),
        ("She lives in Springfield, OR 97201 now.", "a ZIP code"),
        ("She is 94 years old and has urosepsis.", "an age over 89"),
        ("She was born 1931 and has urosepsis.", "a birth year that tells an age over 89"),
        ("Notes at https://example.org/people/mh today.", "a web address"),
        ("Call her daughter on 555-1234 about it.", "a phone number"),
    ],
)
def test_safe_harbor_identifiers_are_refused_on_every_save_and_the_kind_is_named(
    clubs_app, author, vignette, kind
):
    case = draft_case(author)
    before = stored(clubs_app, case).vignette
    page = refused_edit(author, case, vignette=vignette)
    assert f"a patient identifier ({kind})" in page
    assert markup.escape(vignette) in page
    assert stored(clubs_app, case).vignette == before


def test_a_title_with_an_identifier_is_refused_on_the_title(clubs_app, author):
    case = draft_case(author)
    page = refused_edit(author, case, title="Urosepsis seen 03/10/2026")
    assert "a date more precise than the year" in page
    assert stored(clubs_app, case).title != "Urosepsis seen 03/10/2026"


def test_an_unedited_draft_and_clinical_prose_are_saved(clubs_app, author):
    case = draft_case(author)
    drafted = stored(clubs_app, case).vignette
    refused_edit(author, case, status=303, vignette=drafted)
    prose = (
        "A woman in her sixties with urosepsis: lactate 3.1 mmol/L and WBC 17.4 on day 0, "
        "2 L of crystalloid by day 1, aged 67 years. Born in the 1950s. Ceftriaxone 2000mg IV, "
        "a 500mL bolus, 10000 units of heparin, ABG 7.30/55/60."
    )
    refused_edit(author, case, status=303, vignette=prose)
    assert stored(clubs_app, case).vignette == prose


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_draft_of_a_patient_over_89_saves_and_their_birth_year_is_refused(
    clubs_app, auth_server, language
):
    for resource in OLDEST:
        clubs_app.extensions["demo_fhir_store"].add(resource, origin="test")
    oldest = launched(clubs_app, auth_server, "dr-ed-okafor", OLDEST)
    get(oldest, "/app/cases", query_string={"lang": language})
    case = draft_case(oldest)
    drafted = stored(clubs_app, case).vignette
    assert "90" in drafted
    refused_edit(oldest, case, status=303, vignette=drafted)
    refused_edit(oldest, case, vignette=drafted + "\nFirst seen in 1931.")
    assert stored(clubs_app, case).vignette == drafted.strip()


def test_a_case_keeps_only_hashes_of_its_source_terms_and_drops_them_on_approval(
    clubs_app, auth_server, author
):
    case = draft_case(author)
    kept = kept_terms(clubs_app, case)
    assert json.loads(kept)["any"]
    assert "harlow" not in kept.casefold() and "SYN-SEP" not in kept
    post(author, case + "/submit", get(author, case + "/edit"))
    review(launched(clubs_app, auth_server, MODERATOR), case, "approve")
    assert kept_terms(clubs_app, case) is None
