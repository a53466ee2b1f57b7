"""The programme and clinician pages: exact counts, before/after, suppression, CSP-safe markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from app.outcomes.stats import Rate
from app.outcomes.synthetic import expected_summary, generate_dataset
from tests.dashboards.conftest import build_app


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
    assert "Completed uri-antibiotics-adults on 2026-05-01" in html
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
