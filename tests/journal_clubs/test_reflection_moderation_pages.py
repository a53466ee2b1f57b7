"""Over HTTP: a member reports a reflection; a moderator hides, restores or marks it handled."""

from __future__ import annotations

import re

import pytest

from tests.journal_clubs.conftest import FACILITATOR, MODERATOR
from tests.journal_clubs.test_club_pages import create_club, invite_path
from tests.smart.helpers import ISS
from tests.ui.helpers import get, launch, launch_as, ledger_store, post

MODERATION = "/app/moderation?show=reflections"


def signed_in(app, server, practitioner: str | None = None):
    """A browser signed in as the demo clinician, or as this practitioner."""
    client = app.test_client()
    if practitioner is None:
        launch(client, server)
    else:
        launch_as(client, server, practitioner)
    return client


@pytest.fixture
def club(clubs_app, auth_server) -> dict:
    """A club with a reflection by its author and a second member, and a moderator (no member)."""
    facilitator = signed_in(clubs_app, auth_server, FACILITATOR)
    author = signed_in(clubs_app, auth_server)
    peer = signed_in(clubs_app, auth_server, "dr-peer-patel")
    post(peer, "/app/discuss/name", get(peer, "/app/discuss/name"), name="Day shift")
    path = create_club(facilitator)
    join = invite_path(get(facilitator, path))
    for member in (author, peer):
        post(member, join, get(member, join))
    html = get(author, path)
    post(author, path, html, practice_change="Name the nurse who erred", barriers="Anger")
    reflection_id = re.findall(r'id="reflection-([0-9a-f]{32})"', get(author, path))[0]
    return {
        "path": path,
        "reflection": reflection_id,
        "author": author,
        "peer": peer,
        "moderator": signed_in(clubs_app, auth_server, MODERATOR),
    }


def report(club: dict, client=None) -> None:
    """A member (the peer, by default) reports the reflection from the club page."""
    client = client or club["peer"]
    url = f"{club['path']}/reflections/{club['reflection']}/report"
    answer = post(client, url, get(client, club["path"]))
    assert f"reported={club['reflection']}" in answer.headers["Location"]


def test_a_reported_reflection_reaches_the_moderation_page_once_per_member(clubs_app, club):
    html = get(club["peer"], club["path"])
    assert "Report to a moderator" in html
    report(club)
    report(club)  # again: still one report
    thanks = get(club["peer"], f"{club['path']}?reported={club['reflection']}")
    assert "Thank you: the moderators will look at this reflection." in thanks

    listing = get(club["moderator"], MODERATION)
    assert "Name the nurse who erred" in listing and "1 report" in listing
    assert "Sepsis: the first hour" in listing  # the club it was posted in
    assert "Reported reflections (1)" in get(club["moderator"], "/app/moderation")
    assert "Day shift" not in listing  # the reporter is named to nobody
    assert "Day shift" not in get(club["author"], club["path"])


def test_a_hidden_reflection_is_gone_for_members_and_its_author_is_told(clubs_app, club):
    report(club)
    listing = get(club["moderator"], MODERATION)
    hide = f"/app/clubs/reflection/{club['reflection']}/hide"
    answer = post(club["moderator"], hide, listing, next="moderation")
    assert answer.headers["Location"].startswith("/app/moderation?show=reflections")

    seen_by_peer = get(club["peer"], club["path"])
    assert "Name the nurse who erred" not in seen_by_peer
    assert club["reflection"] not in seen_by_peer
    seen_by_author = get(club["author"], club["path"])
    assert "Name the nurse who erred" not in seen_by_author
    assert "A moderator hid your reflection" in seen_by_author
    assert "No reflection has been reported." in get(club["moderator"], MODERATION)
    hidden_report = f"{club['path']}/reflections/{club['reflection']}/report"
    post(club["peer"], hidden_report, seen_by_peer, status=404)

    hidden = get(club["moderator"], "/app/moderation?show=hidden-reflections")
    assert "Hidden reflections (1)" in hidden and "Name the nurse who erred" in hidden
    restore = f"/app/clubs/reflection/{club['reflection']}/restore"
    assert f'action="{restore}?' in hidden and "Mark handled" not in hidden
    post(club["moderator"], restore, hidden, next="moderation")
    assert "Name the nurse who erred" in get(club["peer"], club["path"])
    assert "No reflection is hidden." in get(
        club["moderator"], "/app/moderation?show=hidden-reflections"
    )


def test_marked_handled_a_reflection_leaves_the_list_and_stays_shown(clubs_app, club):
    report(club)
    listing = get(club["moderator"], MODERATION)
    assert "Mark handled" in listing
    handled = f"/app/clubs/reflection/{club['reflection']}/handled"
    post(club["moderator"], handled, listing, next="moderation")
    assert "Name the nurse who erred" not in get(club["moderator"], MODERATION)
    assert "Name the nurse who erred" in get(club["peer"], club["path"])
    report(club)  # reported again after the handling: back on the list
    assert "Name the nurse who erred" in get(club["moderator"], MODERATION)


def test_a_moderator_who_is_a_member_moderates_on_the_club_page(clubs_app, club):
    store = clubs_app.extensions["journal_clubs"]
    club_id = club["path"].rsplit("/", 1)[1]
    store.join(club_id, learner_id_of(clubs_app, MODERATOR))
    html = get(club["moderator"], club["path"])
    hide = f"/app/clubs/reflection/{club['reflection']}/hide"
    assert f'action="{hide}' in html
    answer = post(club["moderator"], hide, html)
    assert answer.headers["Location"].startswith(club["path"])
    html = get(club["moderator"], club["path"])
    assert "Name the nurse who erred" in html and "Hidden from learners by a moderator." in html


def learner_id_of(app, practitioner: str) -> str:
    """A demo practitioner's learner id."""
    return ledger_store(app).ensure_learner(ISS, f"{ISS}/Practitioner/{practitioner}")


def test_learners_cannot_moderate_and_outsiders_cannot_report(clubs_app, club, auth_server):
    store = clubs_app.extensions["journal_clubs"]
    report(club)
    html = get(club["peer"], club["path"])
    for action in ("hide", "handled"):
        url = f"/app/clubs/reflection/{club['reflection']}/{action}"
        post(club["peer"], url, html, status=403)
    get(club["peer"], "/app/moderation?show=reflections", status=403)
    assert [r.reflection_id for r, _ in store.reported_reflections()] == [club["reflection"]]
    assert not store.reflection(club["reflection"]).hidden

    outsider = signed_in(clubs_app, auth_server, "dr-out-sider")
    url = f"{club['path']}/reflections/{club['reflection']}/report"
    post(outsider, url, get(outsider, "/app/clubs"), status=404)
    assert store.reported_reflections()[0][1] == 1


def test_moderators_are_told_of_a_reported_reflection_once_while_unread(clubs_app, club):
    get(club["moderator"], MODERATION)  # seen holding the role
    report(club)
    report(club, club["author"])  # a second member, before the moderator has read of the first
    notices = get(club["moderator"], "/app/notices")
    told = "A learner reported a journal-club reflection for moderation."
    assert notices.count(told) == 1 and "/app/moderation?show=reflections" in notices
    assert told not in get(club["peer"], "/app/notices")  # the reporter is not a moderator
