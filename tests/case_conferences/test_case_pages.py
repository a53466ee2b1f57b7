"""Case conferences over HTTP: draft from the launched encounter, edit, approve, discuss.

The scan test drafts a case from every fixture patient and looks for their identifiers in every
stored row and every page that shows a case. The EHR's own patient banner (shown to a clinician
launched on that patient, outside the case) is cut from a page before it is scanned.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from app.case_conferences.deidentify import record_identifiers
from app.collaboration.posting import PAGE_SIZE, POSTS_PER_WINDOW
from app.settings import REPO_ROOT
from tests.case_conferences.conftest import MODERATOR
from tests.smart.helpers import ISS, new_launch
from tests.ui.helpers import get, ledger_store, post

PATIENTS = sorted((REPO_ROOT / "fhir_fixtures" / "patients").glob("*.json"))
BANNER = re.compile(r'<section class="patient-banner".*?</section>', re.DOTALL)


def bundle_resources(path) -> list[dict]:
    """A fixture bundle's resources."""
    return [entry["resource"] for entry in json.loads(path.read_text())["entry"]]


def of_type(resources: list[dict], kind: str) -> dict:
    """The bundle's one resource of a type."""
    return next(r for r in resources if r["resourceType"] == kind)


def patient_identifiers(resources: list[dict]) -> set[str]:
    """What identifies a fixture patient: names, ids, MRN, birth date forms, its record's ids."""
    patient = of_type(resources, "Patient")
    terms = set(record_identifiers([patient]).terms)
    return terms | {r["id"] for r in resources if r["resourceType"] != "Practitioner"}


def launched(app, server, practitioner: str, resources: list[dict] | None = None):
    """A test client launched by a clinician on a fixture patient (the sepsis one by default)."""
    context = {"practitioner": practitioner}
    if resources:
        context |= {
            "patient": of_type(resources, "Patient")["id"],
            "encounter": of_type(resources, "Encounter")["id"],
        }
    client = app.test_client()
    step = client.get(
        "/smart/launch", query_string={"iss": ISS, "launch": new_launch(server, **context)}
    )
    for _ in range(3):
        assert step.status_code == 302, step.get_data(as_text=True)
        step = client.get(step.headers["Location"]) if _ < 2 else step
    return client


@pytest.fixture
def author(clubs_app, auth_server):
    """The demo clinician, launched on the sepsis patient."""
    return launched(clubs_app, auth_server, "dr-ed-okafor")


@pytest.fixture
def peer(clubs_app, auth_server):
    """Another clinician with no role."""
    return launched(clubs_app, auth_server, "dr-peer-patel")


@pytest.fixture
def moderator(clubs_app, auth_server):
    """A clinician the roles file makes a moderator."""
    return launched(clubs_app, auth_server, MODERATOR)


def draft_case(client) -> str:
    """Draft a case from the launched encounter; return the case's path."""
    response = post(client, "/app/cases/draft", get(client, "/app/cases"))
    return urlsplit(response.headers["Location"]).path.removesuffix("/edit")


def case_rows(app) -> list[tuple]:
    """Every stored case and every post of the app's database."""
    database = app.extensions["case_conferences"].database
    with database.read() as connection:
        cases = connection.exec_driver_sql("SELECT * FROM conf_cases").all()
        posts = connection.exec_driver_sql("SELECT * FROM collab_posts").all()
        threads = connection.exec_driver_sql("SELECT * FROM collab_threads").all()
    return [*cases, *posts, *threads]


def status_of(app, case_path: str) -> str:
    """A case's review status."""
    return app.extensions["case_conferences"].case(case_path.rsplit("/", 1)[1]).status


def review(client, case_path: str, decision: str, status: int = 303) -> str:
    """Review a case from its page as the moderator sees it now; return the reply's HTML."""
    html = get(client, case_path)
    seen = re.search(r'name="seen" value="([^"]+)"', html)
    assert seen, "no review form on the case page"
    response = post(client, case_path + "/review", html, status, decision=decision, seen=seen[1])
    return response.get_data(as_text=True)


def test_a_case_from_draft_to_approved_and_discussed(clubs_app, author, peer, moderator):
    case = draft_case(author)
    edit_html = get(author, case + "/edit")
    assert "day 0" in edit_html and "Sepsis" in edit_html
    get(peer, case, status=404)
    get(moderator, case, status=404)  # a draft is the author's alone
    vignette = "A woman in her sixties with urosepsis. Lactate 3.1 mmol/L on day 0."
    post(author, case + "/edit", edit_html, title="Urosepsis in the ED", vignette=vignette)
    post(author, case + "/submit", get(author, case + "/edit"))
    get(peer, case, status=404)
    post(peer, case + "/review", get(peer, "/app/cases"), status=403, decision="approve")
    assert status_of(clubs_app, case) == "submitted"
    html = get(moderator, "/app/cases")
    assert "Urosepsis in the ED" in html
    post(moderator, case + "/review", html, status=400, decision="maybe")
    assert status_of(clubs_app, case) == "submitted"
    review(moderator, case, "approve")
    html = get(peer, case)
    assert "Lactate 3.1 mmol/L" in html
    refused = post(peer, case, html, status=400, body="Would you give **fluids** first?")
    assert "Choose the name your peers will see" in refused.get_data(as_text=True)
    assert "fluids" not in get(author, case)
    post(peer, "/app/discuss/name", get(peer, "/app/discuss/name"), name="Dr Peer")
    post(peer, case, html, body="Would you give **fluids** first?")
    assert "<strong>fluids</strong>" in get(author, case)


def test_a_moderator_cannot_approve_their_own_case(clubs_app, moderator):
    case = draft_case(moderator)
    post(moderator, case + "/submit", get(moderator, case + "/edit"))
    html = get(moderator, case)
    assert "Approve for discussion" not in html
    seen = clubs_app.extensions["case_conferences"].case(case.rsplit("/", 1)[1]).updated_at
    post(moderator, case + "/review", html, status=403, decision="approve", seen=seen)
    assert status_of(clubs_app, case) == "submitted"


def test_an_approval_is_refused_when_the_case_changed_since_the_moderator_opened_it(
    clubs_app, author, moderator
):
    case = draft_case(author)
    post(author, case + "/submit", get(author, case + "/edit"))
    opened = get(moderator, case)
    seen = re.search(r'name="seen" value="([^"]+)"', opened)[1]
    edit_html = get(author, case + "/edit")
    changed = "A woman in her sixties with urosepsis, seen again on day 2 of the stay."
    post(author, case + "/edit", edit_html, title="Urosepsis in the ED", vignette=changed)
    post(author, case + "/submit", get(author, case + "/edit"))
    refused = post(moderator, case + "/review", opened, 409, decision="approve", seen=seen)
    assert "changed since you opened it" in refused.get_data(as_text=True)
    assert status_of(clubs_app, case) == "submitted"
    review(moderator, case, "approve")
    assert status_of(clubs_app, case) == "approved"
    post(moderator, case + "/review", opened, 409, decision="reject", seen=seen)
    assert status_of(clubs_app, case) == "approved"
    threads = clubs_app.extensions["collaboration"].store.threads("case", case.rsplit("/", 1)[1])
    assert len(threads) == 1


def test_an_edit_with_patient_data_is_refused_and_nothing_changes(clubs_app, author):
    case = draft_case(author)
    before = clubs_app.extensions["case_conferences"].case(case.rsplit("/", 1)[1]).vignette
    for vignette in (
        "Maeve Harlow, 67, with urosepsis and a lactate of 3.1",
        "MRN SYN-SEP-000101 urosepsis case",
    ):
        html = get(author, case + "/edit")
        response = post(
            author, case + "/edit", html, status=400, title="Urosepsis", vignette=vignette
        )
        assert "patient" in response.get_data(as_text=True)
    assert clubs_app.extensions["case_conferences"].case(case.rsplit("/", 1)[1]).vignette == before


def test_a_peer_cannot_edit_or_submit_another_authors_case(clubs_app, author, peer):
    case = draft_case(author)
    html = get(peer, "/app/cases")
    get(peer, case + "/edit", status=404)
    post(peer, case + "/edit", html, status=404, title="Mine now", vignette="x" * 30)
    post(peer, case + "/submit", html, status=404)
    assert status_of(clubs_app, case) == "draft"


def test_a_launch_without_a_patient_cannot_draft(clubs_app, auth_server):
    client = clubs_app.test_client()
    launch_id = new_launch(auth_server, patient=None, encounter=None)
    step = client.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    for _ in range(2):
        step = client.get(step.headers["Location"])
    html = get(client, "/app/cases")
    assert "Draft a teaching case" not in html
    post(client, "/app/cases/draft", html, status=400)
    assert case_rows(clubs_app) == []


def test_no_fixture_patients_identifier_is_stored_or_shown(clubs_app, auth_server, moderator, peer):
    identifiers: set[str] = set()
    shown: list[str] = []
    for path in PATIENTS:
        resources = bundle_resources(path)
        identifiers |= patient_identifiers(resources)
        author = launched(clubs_app, auth_server, "dr-ed-okafor", resources)
        case = draft_case(author)
        shown.append(get(author, case + "/edit"))
        post(author, case + "/submit", get(author, case + "/edit"))
        shown.append(get(moderator, case))
        review(moderator, case, "approve")
        shown += [get(peer, case), get(peer, "/app/cases"), get(author, "/app/cases")]
    assert len(identifiers) > 20
    stored = "\n".join(repr(row) for row in case_rows(clubs_app)).casefold()
    pages = "\n".join(BANNER.sub("", html) for html in shown).casefold()
    for identifier in identifiers:
        assert identifier.casefold() not in stored, identifier
        assert identifier.casefold() not in pages, identifier
    assert pages.count("day 0") >= 3


@pytest.mark.parametrize(
    ("language", "opening", "anchor", "heading"),
    [
        ("es", r"Una mujer de \d+ años", "El día 0 es el día de la atención.", "**Hallazgos**"),
        (
            "fr",
            r"Une femme de \d+ ans",
            "Le jour 0 est le jour de la consultation.",
            "**Résultats**",
        ),
    ],
)
def test_the_vignette_is_drafted_in_the_authors_language(
    clubs_app, author, language, opening, anchor, heading
):
    get(author, "/app/cases", query_string={"lang": language})  # the author's chosen language
    case_id = draft_case(author).rsplit("/", 1)[1]
    vignette = clubs_app.extensions["case_conferences"].case(case_id).vignette
    assert re.match(opening, vignette) and anchor in vignette and heading in vignette
    assert "year-old" not in vignette and "(day " not in vignette


def test_a_case_discussion_is_paged_and_keeps_a_reply_over_the_posting_budget(
    clubs_app, author, peer, moderator
):
    case = draft_case(author)
    post(author, case + "/submit", get(author, case + "/edit"))
    review(moderator, case, "approve")
    collaboration = clubs_app.extensions["collaboration"].store
    thread_id = clubs_app.extensions["case_conferences"].case(case.rsplit("/", 1)[1]).thread_id
    for number in range(PAGE_SIZE + 1):
        collaboration.reply(thread_id, f"peer-{number % 5}", f"Case reply {number}")
    assert "Case reply 49" in get(peer, case) and "Case reply 50" not in get(peer, case)
    assert "Case reply 50" in get(peer, case + "?page=2")
    post(peer, "/app/discuss/name", get(peer, "/app/discuss/name"), name="Dr Peer")
    peer_id = ledger_store(clubs_app).ensure_learner(ISS, f"{ISS}/Practitioner/dr-peer-patel")
    for number in range(POSTS_PER_WINDOW):
        collaboration.reply(thread_id, peer_id, f"Quick {number}")
    refused = post(peer, case, get(peer, case), status=429, body="A considered reply")
    assert "A considered reply" in refused.get_data(as_text=True)


def test_approving_opens_the_discussion_even_when_the_author_just_used_their_posting_budget(
    clubs_app, author, moderator
):
    """The moderator opens the thread in the author's name: it was a 500, leaving no thread."""
    case = draft_case(author)
    post(author, case + "/submit", get(author, case + "/edit"))
    case_id = case.rsplit("/", 1)[1]
    author_id = clubs_app.extensions["case_conferences"].case(case_id).author_id
    collaboration = clubs_app.extensions["collaboration"].store
    busy = collaboration.start_thread("module", "sepsis-hour-1-bundle", "", "Busy", author_id, "1")
    for number in range(POSTS_PER_WINDOW - 1):
        collaboration.reply(busy, author_id, f"Quick {number}")
    review(moderator, case, "approve")
    approved = clubs_app.extensions["case_conferences"].case(case_id)
    assert approved.status == "approved" and approved.thread_id
