"""The editorial queue over HTTP: critiques from the case page and posts, CDS overrides, triage,
replies and notices, and every boundary a learner meets (403, nothing changed)."""

from __future__ import annotations

import re
import shutil
import time
import uuid
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import text

from app.collaboration.posting import POSTS_PER_WINDOW
from app.collaboration.store import TABLES
from app.db import close_stores
from app.devtools.demo_keys import DEMO_EHR_ISS
from app.notice_mail import CollaborationNotices
from app.settings import REPO_ROOT
from cds_hooks.engine import Namespace
from cds_hooks.models import FeedbackItem
from cds_hooks.store import Exposure, FeedbackRecord
from tests.collaboration.conftest import EDITOR
from tests.smart.conftest import build_demo_app
from tests.ui.helpers import FHIR_USER, get, launch, launch_as, post
from tests.ui.helpers import learner as demo_learner

SEPSIS = "sepsis-hour-1-bundle"
EARLY = "2000-01-01T00:00:00+00:00"
NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"


@pytest.fixture
def learner(collab_app, auth_server):
    """The demo clinician (dr-ed-okafor), launched."""
    client = collab_app.test_client()
    launch(client, auth_server)
    return client


@pytest.fixture
def editor(collab_app, auth_server):
    """A clinician the roles file makes an editor (granted by the fhirUser as the EHR gives it)."""
    client = collab_app.test_client()
    launch_as(client, auth_server, EDITOR)
    return client


def file_critique(client, text="The lactate threshold in the card should be 2 mmol/L.", **extra):
    """Send a critique of the sepsis module from its form."""
    query = f"?post={extra['post']}" if "post" in extra else ""
    form = get(client, f"/app/critique/{SEPSIS}{query}")
    data = {"kind": "error", "field": "card", "body": text, **extra}
    return post(client, f"/app/critique/{SEPSIS}", form, **data)


def triage(editor, item_id: str, page_html: str, status: str):
    """Post an item's new status from its page."""
    data = {"csrf_token": csrf(page_html), "status": status}
    return editor.post(f"/app/editorial/{item_id}/status", data=data)


def csrf(html: str) -> str:
    """A page's CSRF token."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_the_case_page_links_to_discussion_and_critique(learner):
    html = get(learner, f"/app/case/{SEPSIS}")
    assert f"/app/discuss/{SEPSIS}" in html and f"/app/critique/{SEPSIS}" in html


def test_a_learner_critique_reaches_the_queue_and_the_editors_reply_reaches_the_learner(
    learner, editor, collab_store
):
    response = file_critique(learner)
    assert "/app/notices" in response.headers["Location"]
    [item] = collab_store.items()
    assert (item.kind, item.field, item.status, item.source) == ("error", "card", "new", "learner")

    queue = get(editor, "/app/editorial")
    assert item.item_id in queue
    page_html = get(editor, f"/app/editorial/{item.item_id}")
    assert "dr-ed-okafor" not in page_html  # the reporter is never shown by EHR identity
    assert triage(editor, item.item_id, page_html, "accepted").status_code == 303
    post(editor, f"/app/editorial/{item.item_id}/reply", page_html, reply="Checking the evidence.")

    notices = get(learner, "/app/notices")
    assert "Checking the evidence." in notices and "Accepted" in notices
    assert collab_store.item(item.item_id).status == "accepted"


def test_the_editor_cannot_mark_resolved_by_hand(editor, learner, collab_store):
    file_critique(learner)
    [item] = collab_store.items()
    page_html = get(editor, f"/app/editorial/{item.item_id}")
    assert triage(editor, item.item_id, page_html, "resolved").status_code == 400
    assert collab_store.item(item.item_id).status == "new"


def test_a_critique_with_patient_data_is_refused_and_kept_in_the_form(learner, collab_store):
    form = get(learner, f"/app/critique/{SEPSIS}")
    text = "Maeve Harlow was harmed by this advice"
    response = post(learner, f"/app/critique/{SEPSIS}", form, status=400, kind="error", body=text)
    assert text in response.get_data(as_text=True)
    assert collab_store.items() == []


def test_over_the_posting_budget_a_critique_is_refused_with_429_and_the_text_is_kept(
    learner, editor, collab_store
):
    get(editor, "/app/notices")  # the editor is seen holding the role: new items notify them
    for number in range(POSTS_PER_WINDOW):
        file_critique(learner, f"Critique number {number} about the lactate threshold.")
    form = get(learner, f"/app/critique/{SEPSIS}")
    kept = "My carefully typed critique of the card."
    response = post(learner, f"/app/critique/{SEPSIS}", form, status=429, kind="error", body=kept)
    page_html = response.get_data(as_text=True)
    assert kept in page_html
    assert f"You have posted {POSTS_PER_WINDOW} times in the last 10 minutes" in page_html
    assert 1 <= int(response.headers["Retry-After"]) <= 600
    assert collab_store.item_count() == POSTS_PER_WINDOW
    with collab_store.database.read() as connection:
        told = "SELECT count(*) FROM collab_notices WHERE kind = 'queue-item'"
        assert connection.execute(text(told)).scalar_one() == POSTS_PER_WINDOW  # the editor's
    file_critique(editor, "Another learner's critiques have a budget of their own.")


def test_a_post_sent_to_the_editors_files_one_item_per_learner(learner, collab_store):
    post(learner, "/app/discuss/name", get(learner, "/app/discuss/name"), name="Night owl")
    page_html = get(learner, f"/app/discuss/{SEPSIS}")
    post(learner, f"/app/discuss/{SEPSIS}", page_html, title="Antibiotic timing", body="One hour?")
    post_id = collab_store.posts(collab_store.threads("module", SEPSIS)[0].thread_id)[0].post_id
    file_critique(learner, post=post_id)
    file_critique(learner, post=post_id)
    [item] = collab_store.items()
    assert item.source == "post"
    get(learner, f"/app/critique/hfref-gdmt?post={post_id}", status=404)  # not its module


def test_a_learner_cannot_read_or_change_the_queue(learner, collab_store):
    file_critique(learner)
    [item] = collab_store.items()
    token = csrf(get(learner, "/app/notices"))
    get(learner, "/app/editorial", status=403)
    get(learner, f"/app/editorial/{item.item_id}", status=403)
    for action, data in (
        ("status", {"status": "rejected"}),
        ("reply", {"reply": "I reply to myself"}),
        ("field", {"field": "guideline"}),
    ):
        url = f"/app/editorial/{item.item_id}/{action}"
        assert learner.post(url, data={"csrf_token": token, **data}).status_code == 403
    unchanged = collab_store.item(item.item_id)
    assert (unchanged.status, unchanged.field) == ("new", "card")
    assert collab_store.events(item.item_id) == []
    assert "Editorial queue" not in get(learner, "/app/")


def test_a_cds_override_files_an_item_and_its_clinician_is_told(collab_app, learner, editor):
    record_override(collab_app, "recipient-disagrees-evidence")
    record_override(collab_app, "cultures-already-drawn", system=None)  # not a critique
    [item] = collab_app.extensions["collaboration"].store.items()  # filed by the feedback itself
    assert item.source == "cds" and item.kind == "evidence"
    assert item.item_id in get(editor, "/app/editorial")
    page_html = get(editor, f"/app/editorial/{item.item_id}")
    assert "CDS card override" in page_html
    post(editor, f"/app/editorial/{item.item_id}/reply", page_html, reply="Which evidence?")
    assert "Which evidence?" in get(learner, "/app/notices")  # the same clinician, in the app


def test_each_critiquing_feedback_files_one_item_even_when_delivered_again(collab_app):
    for code in ("recipient-disagrees-evidence", "does-not-align-latest-evidence"):
        record_override(collab_app, code)
        record_override(collab_app, code)  # the EHR redelivers the same feedback
    record_override(collab_app, "need-more-info")
    items = collab_app.extensions["collaboration"].store.items()
    assert sorted(item.kind for item in items) == ["evidence", "more-info", "update"]


def test_viewing_the_queue_and_the_notices_files_no_item_and_changes_no_notice_or_post(
    collab_app, learner, editor
):
    record_override(collab_app, "recipient-disagrees-evidence", through_feedback=False)
    bookkeeping = ("collab_role_holders", "collab_key_links")
    before = collab_tables(collab_app, but=bookkeeping)
    for client, path in ((editor, "/app/editorial"), (learner, "/app/notices")):
        get(client, path)
    # Only the bookkeeping of who holds a role (for notices to editors) and which CDS keys are
    # whose (for mailing their notices) may change on a first view.
    assert collab_tables(collab_app, but=bookkeeping) == before
    assert collab_app.extensions["collaboration"].store.items() == []


def collab_tables(app, but: tuple[str, ...] = ()) -> dict[str, list]:
    """Every row of the collaboration store's tables (but those named)."""
    database = app.extensions["collaboration"].store.database
    with database.read() as connection:
        return {
            table: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {table}")).all()))
            for table in TABLES
            if table not in but
        }


def test_a_reply_to_an_ehr_override_joins_its_clinicians_notice_mail_once_they_open_bedside(
    collab_app, learner, editor, collab_store
):
    record_override(collab_app, "recipient-disagrees-evidence")
    [item] = collab_store.items()
    post(
        editor,
        f"/app/editorial/{item.item_id}/reply",
        get(editor, f"/app/editorial/{item.item_id}"),
        reply="Which trial?",
    )
    learner_key = demo_learner(collab_app)
    assert collab_store.unread_notices(learner_key, EARLY) == []  # filed under the CDS key only

    get(learner, "/app/notices")  # the clinician opens Bedside: the key is seen to be theirs
    [mailed] = CollaborationNotices(collab_store).unread(learner_key, EARLY, (), 50)
    assert (mailed.kind, mailed.path) == ("item-update", "/app/notices")
    assert [i["item_id"] for i in collab_store.export(learner_key)["items"]] == [item.item_id]

    collab_store.forget_display_name(learner_key)  # erasure covers what was filed under the key
    assert collab_store.item(item.item_id).reporter_key == ""
    assert collab_store.notices(my_cds_keys(collab_app)) == []
    assert collab_store.linked_keys(learner_key) == []


def my_cds_keys(app) -> set[str]:
    """The CDS reporter keys of the demo clinician."""
    collaboration = app.extensions["collaboration"]
    return collaboration.reporter_keys("", DEMO_EHR_ISS, FHIR_USER) - {""}


def record_override(
    app, code: str, system: str | None = NON_ADHERENCE, *, through_feedback: bool = True
) -> None:
    """dr-ed-okafor overrides a sepsis card: through the CDS feedback path, or stored around it."""
    engine = app.extensions["cds"].engine
    user_key = engine.identity_key("user", Namespace(DEMO_EHR_ISS), "Practitioner/dr-ed-okafor")
    card = str(uuid.uuid5(uuid.NAMESPACE_URL, code))
    engine.store.record_call(
        [Exposure(card, SEPSIS, "2.0.0", "bedside-order-select", user_key, "p", time.time(), "")]
    )
    if through_feedback:
        reason = {"code": code} | ({"system": system} if system else {})
        feedback = {"card": card, "outcome": "overridden", "overrideReason": {"reason": reason}}
        item = FeedbackItem.model_validate(feedback | {"outcomeTimestamp": "2026-12-07T03:00:00Z"})
        engine.record_feedback([item], client="")
        return
    engine.store.record_feedback(
        FeedbackRecord(f"fb-{code}", card, SEPSIS, user_key, "overridden", code, system, (), "t")
    )


def test_the_notices_page_lists_the_learners_own_comments(learner, collab_store):
    file_critique(learner)
    html = get(learner, urlsplit("/app/notices").path)
    assert "Your comments on the content" in html and "Report an error" in html


def test_a_release_citing_an_item_resolves_it_when_bedside_starts_with_it(
    collab_app, instance_path, monkeypatch, roles_file, tmp_path
):
    record_override(collab_app, "recipient-disagrees-evidence")
    [item] = collab_app.extensions["collaboration"].store.items()
    content = tmp_path / "released"
    shutil.copytree(REPO_ROOT / "content", content)
    path = content / "modules" / f"{SEPSIS}.yaml"
    module = yaml.safe_load(path.read_text())
    module["version"] = "2.1.0"
    entry = {"version": "2.1.0", "date": "2026-12-07", "summary": "Re-checked."}
    module["editorial"]["changelog"] = [entry | {"resolves": [item.item_id]}]
    path.write_text(yaml.safe_dump(module, allow_unicode=True, sort_keys=False))

    released = build_demo_app(
        instance_path, monkeypatch, ROLES=str(roles_file), CONTENT_DIR=str(content)
    )
    try:
        resolved = released.extensions["collaboration"].store.item(item.item_id)
        assert (resolved.status, resolved.resolved_version) == ("resolved", "2.1.0")
    finally:
        close_stores(released)


def test_the_queue_is_paged_50_at_a_time_and_its_links_keep_the_status_filter(collab_store, editor):
    module = {"id": SEPSIS, "version": "2.0.0"}
    item_ids = [
        collab_store.file_item(module, "error", f"Typo number {n}.", f"L{n}") for n in range(53)
    ]
    collab_store.triage(item_ids[0], "rejected", "E1")

    first = get(editor, "/app/editorial")
    assert first.count('<tr class="queue-item">') == 50 and item_ids[1] in first
    assert 'href="/app/editorial?page=2&amp;status=open&amp;launch=' in first
    second = get(editor, "/app/editorial?page=2&status=open")
    assert second.count('<tr class="queue-item">') == 2 and item_ids[52] in second
    assert get(editor, "/app/editorial?page=junk").count('<tr class="queue-item">') == 50
    rejected = get(editor, "/app/editorial?status=rejected&page=7")
    assert rejected.count('<tr class="queue-item">') == 1 and item_ids[0] in rejected
    assert 'aria-label="Page navigation"' not in rejected
