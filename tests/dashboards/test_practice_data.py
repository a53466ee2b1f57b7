"""Outside demo mode: stored practice data, ledger completions, and who sees patient-level cases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.devtools.synthetic.dataset import expected_summary, generate_dataset
from app.ledger.models import ClaimRequest
from app.ledger.rules import CreditAward
from tests.dashboards.conftest import ISSUER, save_synthetic, sign_in

URI_MODULE = "uri-antibiotics-adults"


@pytest.fixture(scope="module")
def expected():
    """The generator's own answers for the default dataset."""
    return expected_summary(generate_dataset())


@pytest.fixture
def live_client(live_app):
    """A client signed in (SMART session) as clinician C03 at the EHR."""
    client = live_app.test_client()
    sign_in(live_app, client, f"{ISSUER}/Practitioner/C03")
    return client


def page(client, url: str, status: int = 200) -> str:
    """GET a page and return its HTML (asserting the status)."""
    response = client.get(url)
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def complete_module(
    app, fhir_user: str, earned: datetime, key: str = "k1", issuer: str = ISSUER
) -> int:
    """Record a case credit for the URI module in the ledger; return its sequence."""
    store = app.extensions["ledger"].store
    learner = store.ensure_learner(issuer, fhir_user)
    request = ClaimRequest(learner, "case", f"case:{URI_MODULE}:1", earned, URI_MODULE, "1")
    award = CreditAward("ama-pra-category-1", Decimal("0.25"), Decimal("0.25"))
    return store.append_credit(request, [award], key).records[0].sequence


def test_without_stored_data_a_clear_page_and_the_command(live_client):
    """No data loaded: 200, says so, gives the exact command, and shows no numbers at all."""
    for url in ("/dashboards/", "/dashboards/clinicians/C03"):
        html = page(live_client, url)
        assert "No practice data has been loaded yet" in html
        assert "bedside outcomes compute --fhir-server URL --save" in html
        assert "bedside outcomes compute --ndjson DIR --save" in html
        assert "Synthetic demo data" not in html
        assert "<svg" not in html and 'id="overall-' not in html


def test_stored_data_are_shown_with_exact_counts_and_not_labelled_synthetic(
    live_app, live_client, expected
):
    """The programme page reads the store: counts equal the expected answers, small cells hidden."""
    save_synthetic(live_app)
    html = page(live_client, "/dashboards/")
    assert "Synthetic demo data" not in html
    assert "Practice data from 2025-11-01 to 2026-10-31" in html
    for measure_id, summary in expected.items():
        found = re.search(rf'id="overall-{measure_id}"([^>]*)>', html)
        counts = {k: int(v) for k, v in re.findall(r'data-(\w+)="(\d+)"', found.group(1))}
        assert counts == summary["overall"], measure_id
    section = html.split('id="measure-bronchitis-antibiotic-avoidance"')[1].split("</section>")[0]
    small = [
        who.removeprefix("Practitioner/")
        for who, c in expected["bronchitis-antibiotic-avoidance"]["by_clinician"].items()
        if c["denominator"] - c["excluded"] < 5
    ]
    assert small
    for short in small:
        row = re.search(rf'<tr data-clinician="{short}">(.*?)</tr>', section, re.S).group(1)
        assert "fewer than 5 (suppressed)" in row


def test_completion_markers_come_from_the_ledger(live_app, live_client):
    """A credit for the URI module gives C03 a marker and the before/after on stored data."""
    save_synthetic(live_app)
    html = page(live_client, "/dashboards/clinicians/C03")
    assert "before-after-" not in html and "Modules completed" not in html
    complete_module(live_app, f"{ISSUER}/Practitioner/C03", datetime(2026, 5, 1, 9, tzinfo=UTC))
    html = page(live_client, "/dashboards/clinicians/C03")
    assert (
        "Completed Colds and acute bronchitis in adults: hold the antibiotic on 1 May 2026" in html
    )
    block = html.split(f'id="before-after-uri-appropriate-treatment-{URI_MODULE}"')[1]
    block = block.split("</dl>")[0]
    assert 'data-numerator="5" data-eligible="15"' in block
    assert 'data-numerator="14" data-eligible="16"' in block


def test_a_reversed_credit_is_no_completion(live_app, live_client):
    """A credit later reversed in the ledger draws no marker."""
    save_synthetic(live_app)
    sequence = complete_module(
        live_app, f"{ISSUER}/Practitioner/C03", datetime(2026, 5, 1, tzinfo=UTC)
    )
    live_app.extensions["ledger"].store.append_reversal(sequence, "granted in error", "undo")
    assert "Completed uri-antibiotics-adults" not in page(live_client, "/dashboards/clinicians/C03")


def test_own_cases_shown_to_the_clinician_without_patient_references(
    live_app, live_client, expected
):
    """C03 sees their own cases (day, measure, result) from the store: no patient reference."""
    save_synthetic(live_app)
    assert 'id="show-my-cases"' in page(live_client, "/dashboards/clinicians/C03")
    response = live_client.get("/dashboards/clinicians/C03?cases=mine")
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    rows = re.findall(r'<tr data-measure="([^"]+)" data-outcome="([^"]+)">(.*?)</tr>', html, re.S)
    mine = sum(
        summary["by_clinician"].get("Practitioner/C03", {}).get("denominator", 0)
        for summary in expected.values()
    )
    assert len(rows) == mine > 0
    assert all(re.search(r'<time datetime="\d{4}-\d{2}-\d{2}">', cells) for _, _, cells in rows)
    assert "Patient/" not in html and "not stored" in html


def test_another_clinicians_page_is_refused_with_a_way_to_the_programme(live_app, live_client):
    """Signed in as C03, C05's page is 403: no counts, no completions, a link to the programme."""
    save_synthetic(live_app)
    complete_module(live_app, f"{ISSUER}/Practitioner/C05", datetime(2026, 5, 1, tzinfo=UTC))
    for url in ("/dashboards/clinicians/C05", "/dashboards/clinicians/C05?cases=mine"):
        html = page(live_client, url, 403)
        assert "This dashboard is for its clinician only" in html
        assert 'id="to-programme" href="/dashboards/"' in html
        assert URI_MODULE not in html and "data-outcome=" not in html and "<svg" not in html
        assert "dash-overall" not in html


def test_same_practitioner_at_another_ehr_is_not_the_owner(live_app):
    """A fhirUser naming Practitioner/C03 at a different EHR is not C03 here."""
    save_synthetic(live_app)
    client = live_app.test_client()
    sign_in(live_app, client, "https://other.example/fhir/Practitioner/C03")
    html = page(client, "/dashboards/clinicians/C03?cases=mine", 403)
    assert "data-outcome=" not in html


def test_programme_links_the_signed_in_clinician_to_their_own_page_only(live_app, live_client):
    """Outside demo: a 'My dashboard' link for C03, and only C03's table row is a link."""
    save_synthetic(live_app)
    html = page(live_client, "/dashboards/")
    assert 'id="my-dashboard" href="/dashboards/clinicians/C03"' in html
    links = set(re.findall(r'href="/dashboards/clinicians/([^"/?]+)"', html))
    assert links == {"C03"}
    stranger = live_app.test_client()
    sign_in(live_app, stranger, f"{ISSUER}/Practitioner/not-in-the-data")
    assert 'id="my-dashboard"' not in page(stranger, "/dashboards/")


def test_programme_markers_and_pooled_before_after_come_from_the_ledger(live_app, live_client):
    """Two URI completions in 2026-05 give one programme marker and the pooled before/after
    (both suppressed: fewer than 5 clinicians; test_programme_small_cells has 5)."""
    save_synthetic(live_app)
    assert 'id="pooled-uri-appropriate-treatment"' not in page(live_client, "/dashboards/")
    for who in ("C03", "C07"):
        when = datetime(2026, 5, 1, tzinfo=UTC)
        complete_module(live_app, f"{ISSUER}/Practitioner/{who}", when, key=f"k-{who}")
    html = page(live_client, "/dashboards/")
    section = html.split('id="measure-uri-appropriate-treatment"')[1].split("</section>")[0]
    assert (
        "Fewer than 5 clinicians completed Colds and acute bronchitis in adults: hold the "
        "antibiotic in May 2026 (suppressed)"
    ) in section
    assert section.count('class="dash-marker"') == 1
    pooled = section.split('id="pooled-uri-appropriate-treatment"')[1].split("</div>")[0]
    assert "Fewer than 5 clinicians completed a linked module" in pooled
    assert "data-numerator" not in pooled


def test_demo_own_cases_list_only_that_clinicians_synthetic_patients(demo_client):
    """Demo without sign-in: 'show my cases' on C03's page lists C03's cases with patient ids."""
    dataset = generate_dataset()
    html = page(demo_client, "/dashboards/clinicians/C03")
    assert 'id="demo-cases-rule"' in html and 'id="show-my-cases"' in html
    response = demo_client.get("/dashboards/clinicians/C03?cases=mine")
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    shown = set(re.findall(r"<td>Patient/([^<]+)</td>", html))
    c03 = {c.patient_key for c in dataset.expected_cases if c.clinician == "Practitioner/C03"}
    others = {c.patient_key for c in dataset.expected_cases if c.clinician != "Practitioner/C03"}
    assert shown and shown <= c03
    assert not shown & (others - c03)


def test_demo_signed_in_clinician_cannot_see_another_clinicians_cases(demo_app):
    """Demo with a SMART session: the real rule applies (own page only)."""
    client = demo_app.test_client()
    sign_in(demo_app, client, f"{ISSUER}/Practitioner/C05")
    html = page(client, "/dashboards/clinicians/C03?cases=mine")
    assert "data-outcome=" not in html and "Only C03 can see their own cases" in html
    assert "data-outcome=" in page(client, "/dashboards/clinicians/C05?cases=mine")


def test_what_next_uses_the_signed_in_clinicians_stored_practice_data(live_app, live_client):
    """Outside demo, /app/next ranks from the learner's own stored cases, labelled as theirs."""
    page(live_client, "/app/next", 200)  # nothing stored yet
    assert "No practice data has been loaded for you yet" in page(live_client, "/app/next")
    save_synthetic(live_app)
    html = page(live_client, "/app/next")
    assert "your own cases from your organisation" in html
    assert "synthetic clinician" not in html
    assert "had an antibiotic ordered" in html  # C03's URI gap, in plain words


def test_what_next_ignores_stored_data_of_other_clinicians(live_app):
    """A learner who is not among the stored clinicians gets no one else's gaps."""
    save_synthetic(live_app)
    client = live_app.test_client()
    sign_in(live_app, client, f"{ISSUER}/Practitioner/not-in-the-data")
    html = page(client, "/app/next")
    assert "No practice data has been loaded for you yet" in html
    assert "had an antibiotic ordered" not in html
