"""/dashboards/content and its CSV on a seeded CDS store and ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from app import create_app, stats
from app.dashboards.content_sources import EDITORIAL_FIGURES, EditorialFigures
from app.db import close_stores
from app.ledger.models import Answer
from cds_hooks.store import Exposure, FeedbackRecord
from tests.dashboards.conftest import ISSUER, sign_in
from tests.ui.test_i18n import dashboard_messages, english_fragments

MODULE = "af-anticoagulation"
# Override reasons of the AF module: 6, 5 and 2 overrides (the 2 a small cell, the 5 revealing it).
REASONS = (
    ["anticoagulation-contraindicated"] * 6 + ["low-stroke-risk"] * 5 + ["patient-refuses"] * 2
)
CONTRAINDICATED = "Contraindication to anticoagulation (e.g., active bleeding)"
EDITOR = f"{ISSUER}/Practitioner/C03"


def q3_right(n: int) -> bool:
    """Mostly the weakest learners get q3 right (as with a wrong key)."""
    return n < 4 or n in (9, 13, 17)


def answers_of(n: int) -> dict[str, bool]:
    """Learner n's answers: q1 and q4 follow ability n, q2 everyone gets, q3 runs against it."""
    return {"q1": n >= 8, "q2": True, "q3": q3_right(n), "q4": n >= 5}


def build(instance_path, database_url: str | None = None, demo: bool = False):
    """An app on this database (outside demo mode unless asked); EDITOR edits content."""
    instance_path.mkdir(parents=True, exist_ok=True)
    roles = instance_path / "roles.json"
    roles.write_text(json.dumps({"fhir_users": {EDITOR: ["editor"]}}))
    config = {
        "TESTING": True,
        "DEMO": demo,
        "DATABASE": str(instance_path / "bedside.db"),
        "ROLES": str(roles),
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    return create_app(config, instance_path=instance_path)


@pytest.fixture
def seeded_app(instance_path, database_url):
    """27 AF cards to 6 clinicians with 17 feedbacks, and 20 learners' AF case attempts."""
    app = build(instance_path, database_url)
    version = module_version(app)
    seed_cards(app, version, clinicians=6, feedback=True)
    seed_attempts(app, version, learners=20)
    yield app
    close_stores(app)


def module_version(app) -> str:
    """The AF module's version in the library."""
    return str(app.extensions["cds"].engine.library.modules[MODULE]["version"])


def last_monday_noon() -> datetime:
    """Noon (UTC) on the Monday of last week: every seeded card falls in one ISO week."""
    today = datetime.now(UTC).date()
    return datetime.combine(today - timedelta(days=today.weekday() + 7), time(12), UTC)


def seed_cards(app, version: str, clinicians: int, feedback: bool) -> None:
    """Clinician k (1-based) is shown k+1 cards; 13 overridden after 90 s, 4 accepted after 30 s."""
    store = app.extensions["cds"].engine.store
    shown_at = last_monday_noon()
    cards = [
        Exposure(str(uuid.uuid4()), MODULE, version, "svc", f"user-key-{k}", "patient-key", 0, "")
        for k in range(1, clinicians + 1)
        for _ in range(k + 1)
    ]
    store.record_call([Exposure(**{**vars(c), "shown_at": shown_at.timestamp()}) for c in cards])
    if not feedback:
        return
    outcomes = [("overridden", reason, 90) for reason in REASONS] + [("accepted", None, 30)] * 4
    for exposure, (outcome, reason, seconds) in zip(cards, outcomes, strict=False):
        act_on(store, exposure, outcome, reason, shown_at + timedelta(seconds=seconds))


def act_on(store, exposure: Exposure, outcome: str, reason: str | None, at: datetime) -> None:
    """Record the clinician's feedback on one shown card (accepted, or overridden for a reason)."""
    record = FeedbackRecord(
        uuid.uuid4().hex,
        exposure.card_uuid,
        MODULE,
        exposure.user_key,
        outcome,
        reason,
        None,
        (),
        at.isoformat(),
    )
    store.record_feedback(record)


def seed_attempts(app, version: str, learners: int) -> None:
    """Each learner completes the AF case once, answering as answers_of(n)."""
    store = app.extensions["ledger"].store
    started = last_monday_noon()
    for n in range(learners):
        learner = store.ensure_learner(ISSUER, f"Practitioner/L{n:02d}")
        attempt_id = str(uuid.uuid4())
        store.record_attempt(learner, ("case", MODULE, version), attempt_id, started)
        answers = answers_of(n)
        for item, correct in answers.items():
            store.record_answer(Answer(attempt_id, item, {"option": "a"}, started, correct))
        store.complete_attempt(attempt_id, sum(answers.values()), len(answers), 75)


def signed_in_client(app):
    """A client with a SMART session (outside demo mode the dashboards need one)."""
    client = app.test_client()
    sign_in(app, client, EDITOR)
    return client


def page(client, url: str = "/dashboards/content") -> str:
    """A page's HTML (200 expected)."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def row(html: str, attribute: str) -> str:
    """The table row with this data attribute (e.g. 'data-figure="shown"')."""
    return re.search(rf"<tr {attribute}[^>]*>(.*?)</tr>", html, re.S).group(1)


def csv_table(client) -> list[dict]:
    """The CSV download's rows."""
    response = client.get("/dashboards/content.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_page_shows_the_seeded_figures(seeded_app):
    """Cards, reasons with their text, burden, time to action, pass rate and items, no ids."""
    version = module_version(seeded_app)
    html = page(signed_in_client(seeded_app))
    section = html.split(f'id="version-{MODULE}-{version}"')[1].split("</section>")[0]
    assert '<td data-label="Value">27</td>' in row(section, 'data-figure="shown"')
    assert "4 of 27" in row(section, 'data-figure="accepted"')
    assert "13 of 27" in row(section, 'data-figure="overridden"')
    assert "median 4.5, 90th percentile 6.5" in row(section, 'data-figure="burden"')
    assert "median 1 min 30 s" in row(section, 'data-figure="time-to-action"')
    contraindicated = row(section, 'data-reason="anticoagulation-contraindicated"')
    assert CONTRAINDICATED in contraindicated and ">6</td>" in contraindicated
    assert "fewer than 5 (suppressed)" in row(section, 'data-reason="patient-refuses"')
    revealing = row(section, 'data-reason="low-stroke-risk"')
    assert "would reveal a small cell" in revealing and ">5</td>" not in revealing
    passed = sum(sum(answers_of(n).values()) >= 3 for n in range(20))
    assert f"{passed} of 20" in section
    q1 = [int(answers_of(n)["q1"]) for n in range(20)]
    totals = [sum(answers_of(n).values()) for n in range(20)]
    expected = stats.corrected_item_total(q1, totals)
    assert f'data-discrimination="{expected:.3f}"' in row(section, 'data-item="q1"')
    assert "More than 95 % answer it correctly" in row(section, 'data-item="q2"')
    assert "do no better on it" in row(section, 'data-item="q3"')
    assert "CHA₂DS₂-VASc" in row(section, 'data-item="q1"')  # the question's stem
    assert "user-key" not in html and "Synthetic demo figures" not in html


def test_csv_has_the_same_figures_and_suppresses_small_cells(seeded_app):
    """One figure per row; a suppressed cell says so and gives no count."""
    version = module_version(seeded_app)
    rows = csv_table(signed_in_client(seeded_app))
    mine = {(r["figure"], r["detail"]): r for r in rows if r["module_id"] == MODULE}
    assert all(r["module_version"] == version for r in mine.values())
    assert mine[("cards_shown", "")]["value"] == "27"
    assert (
        mine[("overridden_share", "")]["numerator"],
        mine[("overridden_share", "")]["denominator"],
    ) == ("13", "27")
    refuses = mine[("override_reason", "patient-refuses")]
    assert (refuses["value"], refuses["numerator"], refuses["denominator"]) == (
        "suppressed",
        "",
        "",
    )
    assert mine[("override_reason", "anticoagulation-contraindicated")]["label"] == CONTRAINDICATED
    assert mine[("cards_per_clinician_week_median", "")]["value"] == "4.5"
    assert mine[("seconds_to_action_median", "")]["value"] == "90"
    q3 = mine[("item_discrimination", "q3")]
    assert float(q3["value"]) < 0.1 and q3["denominator"] == "20"
    flags = {(r["detail"], r["value"]) for r in rows if r["figure"] == "item_flag"}
    assert flags == {("q2", "too-easy"), ("q3", "low-discrimination")}
    overall = {r["figure"]: r for r in rows if r["module_id"] == ""}
    assert overall["cards_shown"]["value"] == "27" and "override_reason" not in overall


def test_small_numbers_are_suppressed_on_the_page_and_in_the_csv(instance_path):
    """2 cards to 1 clinician, 3 learners: no count, rate, spread or item statistic shown."""
    app = build(instance_path)
    try:
        version = module_version(app)
        seed_cards(app, version, clinicians=1, feedback=False)
        seed_attempts(app, version, learners=3)
        client = signed_in_client(app)
        html = page(client)
        section = html.split(f'id="version-{MODULE}-{version}"')[1].split("</section>")[0]
        for figure in ("shown", "accepted", "overridden", "burden", "time-to-action"):
            assert "fewer than 5 (suppressed)" in row(section, f'data-figure="{figure}"'), figure
        case_text = re.sub(r"<[^>]+>", " ", section.split("<h3>")[1])
        assert not re.search(r"\b[23]\b", case_text)  # neither 2 cards nor 3 learners
        assert 'Completed attempts passed: <span class="dash-suppressed">' in section
        assert "data-discrimination" not in section
        rows = [r for r in csv_table(client) if r["module_id"] == MODULE]
        assert rows and all(r["value"] in ("suppressed", "") for r in rows)
        assert all(r["numerator"] == "" for r in rows)
    finally:
        close_stores(app)


def test_the_editorial_hook_shows_open_items_when_provided(instance_path):
    """Once app/collaboration installs a provider, each version shows its open critique items."""
    app = build(instance_path)
    try:
        seed_attempts(app, module_version(app), learners=1)
        app.extensions[EDITORIAL_FIGURES] = lambda module, version: EditorialFigures(3, 2.5)
        html = page(signed_in_client(app))
        assert "Open critique items: 3; median time to resolution: 2.5 days." in html
    finally:
        close_stores(app)


def test_without_a_smart_session_the_page_and_csv_are_refused(instance_path):
    """Outside demo mode the content analytics need a launched session, like every dashboard."""
    app = build(instance_path)
    try:
        client = app.test_client()
        assert client.get("/dashboards/content").status_code == 401
        assert client.get("/dashboards/content.csv").status_code == 401
    finally:
        close_stores(app)


def test_outside_demo_mode_only_editors_and_admins_read_the_content_analytics(instance_path):
    """A signed-in clinician without the editor or admin role gets the 403 page, no figures."""
    app = build(instance_path)
    try:
        seed_cards(app, module_version(app), clinicians=6, feedback=False)
        learner = app.test_client()
        sign_in(app, learner, f"{ISSUER}/Practitioner/C04")
        refused = learner.get("/dashboards/content")
        assert refused.status_code == 403
        assert "Content analytics are for editors" in refused.get_data(as_text=True)
        assert learner.get("/dashboards/content.csv").status_code == 403
        assert "27" in page(signed_in_client(app))
    finally:
        close_stores(app)


@pytest.fixture
def demo_content_client(instance_path):
    """A demo app's client: synthetic content records on top of the (empty) stores."""
    app = build(instance_path, demo=True)
    yield app.test_client()
    close_stores(app)


def test_demo_page_shows_per_question_discrimination_and_says_it_is_synthetic(demo_content_client):
    """Every synthetic module's questions have a discrimination; some are flagged; the banner."""
    html = page(demo_content_client)
    assert "Synthetic demo figures" in html
    values = [float(v) for v in re.findall(r'data-discrimination="(-?[\d.]+)"', html)]
    assert len(values) >= 9 and min(values) < 0 < max(values)
    assert html.count('class="dash-flagged"') >= 3
    assert 'id="nav-content" href="/dashboards/content"' in page(
        demo_content_client, "/dashboards/"
    )


def test_demo_page_in_spanish_leaves_no_english(demo_content_client):
    """Every dashboard msgid is translated; none of its English is left on the Spanish page."""
    html = page(demo_content_client, "/dashboards/content?lang=es")
    assert '<html lang="es">' in html
    assert (
        "<h1>Analítica de contenidos</h1>" in html and "Cifras sintéticas de demostración" in html
    )
    assert "Discriminación" in html and "percentil 90" in html
    left = [f for m in dashboard_messages() for f in english_fragments(m) if f in html]
    assert left == []
