"""The programme and clinician pages: exact counts, before/after, suppression, CSP-safe markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from app.devtools.synthetic.dataset import expected_summary, generate_dataset
from app.stats import Rate
from tests.dashboards.conftest import ISSUER, build_app, sign_in

URI_TITLE = "Colds and acute bronchitis in adults: hold the antibiotic"
BRONCHITIS_TITLE = "Colds, viral URI and bronchitis in children: antibiotics do not help"
MONTH_COUNTS = r"[A-Z][a-z]{2} \d{4}: \d+/(\d+)"


@pytest.fixture(scope="module")
def expected():
    """The generator's own answers for the default dataset."""
    return expected_summary(generate_dataset())


def page(client, url: str) -> str:
    """GET a page and return its HTML (asserting 200)."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_programme_counts_equal_expected_summary(demo_client, expected):
    """Each measure's programme counts are exactly the generator's expected counts."""
    html = page(demo_client, "/dashboards/")
    assert "Synthetic demo data" in html
    for measure_id, summary in expected.items():
        found = re.search(rf'id="overall-{measure_id}"([^>]*)>', html)
        assert found, measure_id
        attributes = dict(re.findall(r'data-(\w+)="(\d+)"', found.group(1)))
        counts = {name: int(value) for name, value in attributes.items()}
        assert counts == summary["overall"], measure_id
        overall = summary["overall"]
        eligible = overall["denominator"] - overall["excluded"]
        assert f"{overall['numerator']} of {eligible} eligible" in html


def test_programme_shows_moore_level_and_association_note(demo_client):
    """Every view says its Moore level and that linkage is association, not proof."""
    html = page(demo_client, "/dashboards/")
    assert html.count("Moore level 5: performance in practice") >= 3
    assert "Association, not proof" in html


def test_small_cells_are_suppressed_in_the_programme_table(demo_client, expected):
    """Clinicians with fewer than 5 eligible cases show 'fewer than 5', not their counts."""
    html = page(demo_client, "/dashboards/")
    section = html.split('id="measure-bronchitis-antibiotic-avoidance"')[1].split("</section>")[0]
    for who, counts in expected["bronchitis-antibiotic-avoidance"]["by_clinician"].items():
        short = who.removeprefix("Practitioner/")
        row = re.search(rf'<tr data-clinician="{short}">(.*?)</tr>', section, re.S).group(1)
        eligible = counts["denominator"] - counts["excluded"]
        if eligible < 5:
            assert "fewer than 5 (suppressed)" in row, short
            assert f"<td>{counts['numerator']}</td>" not in row
        else:
            assert f"<td>{eligible}</td>" in row, short


def test_clinician_c03_uri_before_after(demo_client):
    """C03's URI rate goes from 5/15 to 14/16 after the module, with Wilson intervals."""
    html = page(demo_client, "/dashboards/clinicians/C03")
    block = html.split('id="before-after-uri-appropriate-treatment-uri-antibiotics-adults"')[1]
    block = block.split("</dl>")[0]
    assert 'data-numerator="5" data-eligible="15"' in block
    assert 'data-numerator="14" data-eligible="16"' in block
    before, after = Rate(5, 15).interval, Rate(14, 16).interval
    assert f"95% CI {before[0] * 100:.0f} % to {before[1] * 100:.0f} %" in block
    assert f"95% CI {after[0] * 100:.0f} % to {after[1] * 100:.0f} %" in block
    assert "5 of 15 eligible" in block and "14 of 16 eligible" in block
    assert f"Completed {URI_TITLE} on 1 May 2026" in html
    assert "uri-antibiotics-adults on" not in html and "2026-05-01<" not in html
    assert "An association, not proof" in html


def test_unknown_clinician_is_404(demo_client):
    """An id with no cases is not found."""
    assert demo_client.get("/dashboards/clinicians/NOPE").status_code == 404


@pytest.mark.parametrize("url", ["/dashboards/", "/dashboards/clinicians/C03"])
def test_pages_have_no_inline_script_or_style_and_valid_svg(demo_client, url):
    """Strict CSP: no inline scripts, style elements or attributes; every SVG parses."""
    html = page(demo_client, url)
    assert "<script" not in html
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert charts
    for chart in charts:
        ET.fromstring(chart)


def test_spanish_page_renders(demo_client):
    """The language switch works: the page is in Spanish (tests/ui/test_i18n.py checks it all)."""
    html = page(demo_client, "/dashboards/?lang=es")
    assert '<html lang="es">' in html and "<h1>Resultados del programa</h1>" in html


def test_outside_demo_a_smart_session_is_required(tmp_path):
    """Without demo mode and without a SMART session the dashboards refuse (401)."""
    instance = tmp_path / "live"
    instance.mkdir()
    client = build_app(instance, demo=False).test_client()
    response = client.get("/dashboards/")
    assert response.status_code == 401
    assert "SMART session" in response.get_data(as_text=True)


def section_of(html: str, measure_id: str) -> str:
    """One measure's section of a page."""
    return html.split(f'id="measure-{measure_id}"')[1].split("</section>")[0]


def test_programme_chart_hides_small_months(demo_client):
    """Sepsis 2026-01 (0/2) and 2026-04 (2/4): a gap with the suppression tooltip, no counts."""
    sepsis = section_of(page(demo_client, "/dashboards/"), "sepsis-3h-bundle")
    chart = re.search(r"<svg.*?</svg>", sepsis, re.S).group(0)
    assert "Jan 2026: fewer than 5 cases (suppressed)" in chart
    assert "Apr 2026: fewer than 5 cases (suppressed)" in chart
    assert "Jan 2026: 0/2" not in chart and "Apr 2026: 2/4" not in chart
    assert "Feb 2026: 4/14 (29%)" in chart
    root = ET.fromstring(chart)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    shown = [t for t in titles if re.match(MONTH_COUNTS, t or "")]
    assert shown and all(int(re.match(MONTH_COUNTS, t).group(1)) >= 5 for t in shown)
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 3  # 2 gaps, 3 runs
    ticks = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if "%" not in t.text]
    assert ticks[0].endswith(" 2025") or ticks[0].endswith(" 2026")  # the first names its year
    assert all(re.fullmatch(r"[A-Z][a-z]{2}( \d{4})?", tick) for tick in ticks), ticks


def test_programme_marks_completions_and_suppresses_pooled_before_after_of_few_clinicians(
    demo_client,
):
    """URI: 2 clinicians completed the module in 2026-05: a marker, but neither their number nor
    their pooled before/after (fewer than 5 clinicians)."""
    html = page(demo_client, "/dashboards/")
    uri = section_of(html, "uri-appropriate-treatment")
    assert f"Fewer than 5 clinicians completed {URI_TITLE} in May 2026 (suppressed)" in uri
    assert uri.count('class="dash-marker"') == 1
    bronchitis = section_of(html, "bronchitis-antibiotic-avoidance")
    assert (
        f"Fewer than 5 clinicians completed {BRONCHITIS_TITLE} in Feb 2026 (suppressed)"
        in bronchitis
    )
    pooled = uri.split('id="pooled-uri-appropriate-treatment"')[1].split("</div>")[0]
    assert "Fewer than 5 clinicians completed a linked module" in pooled
    assert "data-numerator" not in pooled and "95% CI" not in pooled and "<svg" not in pooled
    assert "Moore level 5: performance in practice" in pooled
    assert "An association, not proof" in pooled


def test_peers_are_not_named_in_the_peer_chart(demo_client):
    """C03's peer charts name only 'you'; every other dot is 'a peer'."""
    html = page(demo_client, "/dashboards/clinicians/C03")
    peers = re.findall(r'class="dash-peer"><title>([^<]*)</title>', html)
    assert peers and all(title.startswith("a peer: ") for title in peers)
    assert not re.search(r"<title>(Practitioner/)?C\d\d:", html)
    assert re.search(r'class="dash-you"><title>you: \d+%</title>', html)


def test_demo_clinician_pages_stay_open_to_everyone(demo_app):
    """Demo with a SMART session as C05: C03's (synthetic) page still opens."""
    client = demo_app.test_client()
    sign_in(demo_app, client, f"{ISSUER}/Practitioner/C05")
    assert "Outcomes for C03" in page(client, "/dashboards/clinicians/C03")
    assert 'id="my-dashboard" href="/dashboards/clinicians/C05"' in page(client, "/dashboards/")


def test_home_says_synthetic_only_in_demo(demo_client, tmp_path):
    """The home page's dashboards link says 'synthetic data' in demo mode only."""
    assert "(synthetic data)" in page(demo_client, "/")
    instance = tmp_path / "live-home"
    instance.mkdir()
    html = page(build_app(instance, demo=False).test_client(), "/")
    assert "(synthetic data)" not in html and 'href="/dashboards/"' in html
