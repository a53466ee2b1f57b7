"""Journal clubs over HTTP: create, invite, join, reflect for credit, close; every boundary."""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from app.collaboration.posting import PAGE_SIZE, POSTS_PER_WINDOW
from app.journal_clubs.club_commands import settle_command
from tests.journal_clubs.conftest import FACILITATOR
from tests.smart.helpers import ISS
from tests.ui.helpers import get, launch, launch_as, learner, ledger_store, post

SEPSIS = "sepsis-hour-1-bundle"


@pytest.fixture
def facilitator(clubs_app, auth_server):
    """A clinician the roles file makes a facilitator."""
    client = clubs_app.test_client()
    launch_as(client, auth_server, FACILITATOR)
    return client


@pytest.fixture
def member(clubs_app, auth_server):
    """The demo clinician (a learner)."""
    client = clubs_app.test_client()
    launch(client, auth_server)
    return client


@pytest.fixture
def outsider(clubs_app, auth_server):
    """Another learner who was never invited."""
    client = clubs_app.test_client()
    launch_as(client, auth_server, "dr-peer-patel")
    return client


def create_club(client, **fields) -> str:
    """Create a sepsis club open today; return its path."""
    today = datetime.now(UTC).date()
    form = {
        "title": "Sepsis: the first hour",
        "topic_kind": "module",
        "module": SEPSIS,
        "guideline": "",
        "opens": today.isoformat(),
        "closes": (today + timedelta(days=7)).isoformat(),
        **fields,
    }
    response = post(client, "/app/clubs", get(client, "/app/clubs"), **form)
    return urlsplit(response.headers["Location"]).path


def invite_path(html: str) -> str:
    """The invite link the facilitator's page shows, as a path."""
    match = re.search(r'id="invite" type="text" readonly value="([^"]+)"', html)
    assert match
    assert "launch=" not in match.group(1)  # never the facilitator's own launch
    return urlsplit(match.group(1).replace("&amp;", "&")).path


def clubs_in(app) -> int:
    """How many clubs the store holds."""
    store = app.extensions["journal_clubs"]
    with store.database.read() as connection:
        return connection.exec_driver_sql("SELECT count(*) FROM club_clubs").scalar_one()


def test_a_club_from_creation_to_credit(clubs_app, facilitator, member):
    club = create_club(facilitator)
    join = invite_path(get(facilitator, club))
    post(member, join, get(member, join))
    html = get(member, club)
    assert "Sepsis: the first hour" in html and "2 members" in html
    post(
        member,
        club,
        html,
        practice_change="Repeat **lactate** within 2 h when above 2",
        barriers="Lab turnaround at night",
    )
    html = get(member, club)
    assert "<strong>lactate</strong>" in html
    assert 'id="club-credit"' in html
    [record] = ledger_store(clubs_app).credits_for(learner(clubs_app))
    assert (record.activity_type, record.module_id) == ("journal-club", SEPSIS)
    post(member, club, html, practice_change="Another thought", barriers="Staffing")
    assert len(ledger_store(clubs_app).credits_for(learner(clubs_app))) == 1  # once per club
    close = club + "/close"
    post(facilitator, close, get(facilitator, club), summary="We will *repeat* lactate.")
    html = get(member, club)
    assert "<em>repeat</em>" in html and "Post a reflection" not in html


@pytest.fixture
def production_credit(clubs_app):
    """The ledger's policy as in production: approved modules only."""
    ledger = clubs_app.extensions["ledger"]
    policy = replace(ledger.policy, approved_modules_only=True)
    clubs_app.extensions["ledger"] = replace(ledger, policy=policy)


def reflect_in(client, club: str, *, join: str | None = None) -> None:
    """Join a club by its invite (when given) and post a reflection."""
    if join:
        post(client, join, get(client, join))
    post(client, club, get(client, club), practice_change="Repeat lactate", barriers="Staffing")


def club_credits(app, fhir_user: str) -> list:
    """A clinician's journal-club credit records."""
    learner_id = ledger_store(app).ensure_learner(ISS, fhir_user)
    records = ledger_store(app).credits_for(learner_id)
    return [record for record in records if record.activity_type == "journal-club"]


def test_the_facilitator_earns_no_credit_for_their_own_club(clubs_app, facilitator):
    club = create_club(facilitator)
    reflect_in(facilitator, club)
    assert club_credits(clubs_app, f"{ISS}/Practitioner/{FACILITATOR}") == []


def test_in_production_only_a_club_on_an_approved_module_earns_credit(
    clubs_app, facilitator, member, production_credit, monkeypatch
):
    sepsis = clubs_app.extensions["ui"].library.modules[SEPSIS]
    guideline = create_club(
        facilitator, topic_kind="guideline", guideline="Surviving Sepsis Campaign, 2021"
    )
    draft = create_club(facilitator, title="Sepsis: on a draft")
    for club in (guideline, draft):
        reflect_in(member, club, join=invite_path(get(facilitator, club)))
    assert ledger_store(clubs_app).credits_for(learner(clubs_app)) == []
    monkeypatch.setitem(sepsis["editorial"], "status", "approved")
    approved = create_club(facilitator, title="Sepsis: on an approved version")
    reflect_in(member, approved, join=invite_path(get(facilitator, approved)))
    [record] = ledger_store(clubs_app).credits_for(learner(clubs_app))
    assert record.activity_key == "journal-club:" + approved.rsplit("/", 1)[1]


def test_a_guideline_club_is_created_from_a_citation(facilitator):
    club = create_club(
        facilitator,
        topic_kind="guideline",
        guideline="Surviving Sepsis Campaign adult guidelines, 2021",
    )
    assert "Guideline: Surviving Sepsis Campaign adult guidelines, 2021" in get(facilitator, club)


def test_a_learner_cannot_create_a_club(clubs_app, member):
    html = get(member, "/app/clubs")
    assert "Start a journal club" not in html
    today = datetime.now(UTC).date().isoformat()
    post(
        member,
        "/app/clubs",
        html,
        status=403,
        title="Mine now",
        module=SEPSIS,
        opens=today,
        closes=today,
        topic_kind="module",
    )
    assert clubs_in(clubs_app) == 0


def test_a_non_member_cannot_read_or_post_and_nothing_changes(clubs_app, facilitator, outsider):
    club = create_club(facilitator)
    get(outsider, club, status=404)
    html = get(outsider, "/app/clubs")
    post(outsider, club, html, status=404, practice_change="Sneaky", barriers="None")
    post(outsider, club + "/close", html, status=404, summary="Closed by me")
    store = clubs_app.extensions["journal_clubs"]
    club_id = club.rsplit("/", 1)[1]
    assert store.reflections(club_id) == [] and store.club(club_id).closed_at is None


def test_a_member_cannot_close_the_club(clubs_app, facilitator, member):
    club = create_club(facilitator)
    join = invite_path(get(facilitator, club))
    post(member, join, get(member, join))
    post(member, club + "/close", get(member, club), status=403, summary="Closed by me")
    assert clubs_app.extensions["journal_clubs"].club(club.rsplit("/", 1)[1]).closed_at is None


@pytest.mark.parametrize("token", ["not-a-token", "eyJjbHViIjoieCJ9.forged.sig"])
def test_a_forged_invite_is_refused_with_a_page(member, token):
    html = get(member, f"/app/clubs/join/{token}", status=400)
    assert "invite link is not valid" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "x"}, "at least"),
        ({"module": "no-such-module"}, "Choose a module"),
        ({"closes": "2020-01-01"}, "closing day"),
        ({"opens": "tomorrow"}, "closing day"),
        ({"title": "Ms Harlow, MRN 48213377"}, "patient"),
    ],
)
def test_bad_club_forms_come_back_with_a_message(clubs_app, facilitator, fields, message):
    today = datetime.now(UTC).date()
    form = {
        "title": "Sepsis club",
        "topic_kind": "module",
        "module": SEPSIS,
        "opens": today.isoformat(),
        "closes": today.isoformat(),
        **fields,
    }
    response = post(facilitator, "/app/clubs", get(facilitator, "/app/clubs"), status=400, **form)
    assert message in response.get_data(as_text=True)
    assert clubs_in(clubs_app) == 0


def test_a_reflection_with_patient_data_is_refused_and_kept_in_the_form(clubs_app, facilitator):
    club = create_club(facilitator)
    response = post(
        facilitator,
        club,
        get(facilitator, club),
        status=400,
        practice_change="Maeve Harlow taught me",
        barriers="none here",
    )
    assert "Maeve Harlow taught me" in response.get_data(as_text=True)
    assert clubs_app.extensions["journal_clubs"].reflections(club.rsplit("/", 1)[1]) == []


@pytest.mark.parametrize(
    "summary",
    [
        "We agreed on early lactate. The patient discussed, DOB 03/04/1950, did well.",
        "We agreed on early lactate, as Patient/abc-1 showed us.",
    ],
)
def test_a_summary_with_patient_data_is_refused_and_kept_in_the_form(
    clubs_app, facilitator, summary
):
    club = create_club(facilitator)
    response = post(
        facilitator, club + "/close", get(facilitator, club), status=400, summary=summary
    )
    form = re.search(
        r'<textarea id="summary"[^>]*>(.*?)</textarea>', response.get_data(as_text=True)
    )
    assert form and form.group(1) == summary
    assert clubs_app.extensions["journal_clubs"].club(club.rsplit("/", 1)[1]).closed_at is None


def test_the_club_page_is_in_spanish(facilitator):
    club = create_club(facilitator)
    html = get(facilitator, club, headers={"Accept-Language": "es"})
    assert "Club de revista" in html and "Barreras" in html


@contextlib.contextmanager
def ledger_refusing_credits(app):
    """The ledger's database refuses every new credit record while the block runs."""
    database = ledger_store(app).database
    with database.write() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER test_refuse_credits BEFORE INSERT ON ledger_credits"
            " BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
        )
    try:
        yield
    finally:
        with database.write() as connection:
            connection.exec_driver_sql("DROP TRIGGER test_refuse_credits")


def reflect_while_the_ledger_fails(app, facilitator, member) -> str:
    """A member joins and reflects, and the credit claim after the saved reflection fails."""
    club = create_club(facilitator)
    join = invite_path(get(facilitator, club))
    post(member, join, get(member, join))
    html = get(member, club)
    with ledger_refusing_credits(app):
        # The reflection is saved and the member lands on the club; the claim waits.
        post(member, club, html, practice_change="Repeat lactate", barriers="Staffing")
    assert len(app.extensions["journal_clubs"].reflections(club.rsplit("/", 1)[1])) == 1
    assert ledger_store(app).credits_for(learner(app)) == []
    return club


def test_opening_a_club_with_a_pending_claim_writes_nothing_to_the_ledger(
    clubs_app, facilitator, member
):
    club = reflect_while_the_ledger_fails(clubs_app, facilitator, member)
    with ledger_refusing_credits(clubs_app):
        get(member, club)  # a busy ledger never fails a page view
    html = get(member, club)
    assert 'id="club-credit"' not in html
    assert list(ledger_store(clubs_app).iter_chain()) == []


def test_the_members_next_post_in_the_club_settles_a_failed_claim_once(
    clubs_app, facilitator, member
):
    club = reflect_while_the_ledger_fails(clubs_app, facilitator, member)
    html = get(member, club)
    post(member, club, html, 400, practice_change="", barriers="")  # refused, yet it settles
    [record] = ledger_store(clubs_app).credits_for(learner(clubs_app))
    assert record.activity_type == "journal-club"
    post(member, club, get(member, club), practice_change="Repeat lactate", barriers="Time")
    assert len(list(ledger_store(clubs_app).iter_chain())) == 1
    assert 'id="club-credit"' in get(member, club)


def test_bedside_clubs_settle_claims_each_failed_credit_once(clubs_app, facilitator, member):
    reflect_while_the_ledger_fails(clubs_app, facilitator, member)
    runner = clubs_app.test_cli_runner()
    first = runner.invoke(settle_command)
    assert first.exit_code == 0 and "Settled 1 journal club credit claim(s)." in first.output
    assert "Settled 0 " in runner.invoke(settle_command).output
    assert len(ledger_store(clubs_app).credits_for(learner(clubs_app))) == 1


def test_over_the_budget_a_reflection_is_refused_with_429_and_kept_and_pages_are_numbered(
    clubs_app, facilitator, member
):
    club = create_club(facilitator)
    club_id = club.rsplit("/", 1)[1]
    join = invite_path(get(facilitator, club))
    post(member, join, get(member, join))
    clubs = clubs_app.extensions["journal_clubs"]
    now = datetime.now(UTC)
    for number in range(POSTS_PER_WINDOW):
        at = now + timedelta(milliseconds=number)
        clubs.reflect(club_id, learner(clubs_app), f"Idea {number}", "Time", at)
    html = get(member, club)
    refused = post(member, club, html, 429, practice_change="Typed with care", barriers="None")
    assert "Typed with care" in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    for number in range(PAGE_SIZE):
        clubs.join(club_id, f"member-{number}")
        at = now + timedelta(seconds=1, milliseconds=number)
        clubs.reflect(club_id, f"member-{number}", f"Peer idea {number}", "Time", at)
    assert f'href="{club}?page=2' in get(facilitator, club)
    assert "Peer idea 49" in get(facilitator, club + "?page=2")
