"""The programme page hides figures resting on fewer than 5 eligible cases or 5 clinicians:
the overall rate (as its FHIR export does), the pooled before/after and completion markers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.outcomes.cases import MeasureCase
from tests.dashboards.conftest import ISSUER, sign_in
from tests.dashboards.test_practice_data import complete_module, page

URI = "uri-appropriate-treatment"
BRONCHITIS = "bronchitis-antibiotic-avoidance"
URI_TITLE = "Colds and acute bronchitis in adults: hold the antibiotic"
COMPLETED = datetime(2026, 5, 1, 9, tzinfo=UTC)


def case(measure_id: str, clinician: str, day: datetime, met: bool, n: int) -> MeasureCase:
    """One stored denominator case (no patient identifiers)."""
    return MeasureCase(measure_id, f"p{n}", f"e{n}", clinician, day, True, in_numerator=met)


def store_cases(app, cases: list[MeasureCase]) -> None:
    """Store the cases as one import of April to July 2026."""
    store = app.extensions["practice_store"]
    start, end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    store.save_import(cases, start, end, "ndjson")


def uri_cases(clinicians: int) -> list[MeasureCase]:
    """Clinician Dk: 4 URI cases in April (1 met) and 4 in June (3 met)."""
    cases = []
    for k in range(1, clinicians + 1):
        for i in range(4):
            n = len(cases)
            cases.append(
                case(URI, f"Practitioner/D{k}", datetime(2026, 4, 6 + i, tzinfo=UTC), i < 1, n)
            )
            cases.append(
                case(URI, f"Practitioner/D{k}", datetime(2026, 6, 6 + i, tzinfo=UTC), i < 3, n + 1)
            )
    return cases


def viewer(app):
    """A client signed in at the EHR as D1."""
    client = app.test_client()
    sign_in(app, client, f"{ISSUER}/Practitioner/D1")
    return client


def section_of(html: str, measure_id: str) -> str:
    """One measure's section of the programme page."""
    return html.split(f'id="measure-{measure_id}"')[1].split("</section>")[0]


def words(html: str) -> str:
    """The text of some HTML, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_programme_rate_of_fewer_than_5_eligible_cases_is_suppressed_as_in_the_export(live_app):
    """3 bronchitis cases (2 met): no rate, counts or data attributes; the export leaves it out."""
    cases = [
        case(BRONCHITIS, "Practitioner/D9", datetime(2026, 5, 3 + i, tzinfo=UTC), i < 2, i)
        for i in range(3)
    ]
    store_cases(live_app, cases + uri_cases(2))
    client = viewer(live_app)
    html = page(client, "/dashboards/")
    overall = re.search(r'<p class="dash-overall"[^>]*>.*?</p>', section_of(html, BRONCHITIS), re.S)
    assert words(overall.group(0)) == "Programme rate: fewer than 5 (suppressed)"
    assert "data-numerator" not in overall.group(0) and "data-denominator" not in overall.group(0)
    uri_overall = re.search(r'id="overall-uri-appropriate-treatment"[^>]*>.*?</p>', html, re.S)
    assert 'data-numerator="8" data-denominator="16"' in uri_overall.group(0)
    assert "8 of 16 eligible" in uri_overall.group(0)
    bundle = client.get("/dashboards/measure-reports/programme.json").get_json(force=True)
    measures = {entry["resource"]["measure"].rsplit("/", 1)[-1] for entry in bundle["entry"]}
    assert measures == {URI}


def test_pooled_before_after_and_marker_of_4_clinicians_are_suppressed_in_words(live_app):
    """4 clinicians completed the module in May: no pooled counts, chart or clinician count."""
    store_cases(live_app, uri_cases(4))
    for k in range(1, 5):
        complete_module(live_app, f"{ISSUER}/Practitioner/D{k}", COMPLETED, key=f"k{k}")
    section = section_of(page(viewer(live_app), "/dashboards/"), URI)
    pooled = section.split('id="pooled-uri-appropriate-treatment"')[1].split("</div>")[0]
    assert "Fewer than 5 clinicians completed a linked module" in pooled
    assert "data-numerator" not in pooled and "<svg" not in pooled and " of " not in pooled
    marker = f"Fewer than 5 clinicians completed {URI_TITLE} in May 2026 (suppressed)"
    assert section.count(marker) == 2  # the chart's marker and the list below it
    assert "data-clinicians" not in section
    assert not re.search(r"\b4 clinicians\b", section)


def test_pooled_before_after_and_marker_of_5_clinicians_are_shown(live_app):
    """5 clinicians: pooled 5/20 before and 15/20 after, and '5 clinicians completed …'."""
    store_cases(live_app, uri_cases(5))
    for k in range(1, 6):
        complete_module(live_app, f"{ISSUER}/Practitioner/D{k}", COMPLETED, key=f"k{k}")
    section = section_of(page(viewer(live_app), "/dashboards/"), URI)
    pooled = section.split('id="pooled-uri-appropriate-treatment"')[1].split("</div>")[0]
    assert 'data-numerator="5" data-eligible="20"' in pooled
    assert 'data-numerator="15" data-eligible="20"' in pooled
    assert "Cases of 5 clinicians who completed a linked module" in pooled
    assert "<svg" in pooled
    assert f"5 clinicians completed {URI_TITLE} in May 2026" in section
    assert 'data-clinicians="5"' in section
