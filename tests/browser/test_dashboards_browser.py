"""In a real browser: the outcome dashboards' SVG charts, suppression, Spanish and a phone."""

from __future__ import annotations

import json
import re

import pytest

from app.stats import Rate

URI_BEFORE_AFTER = "#before-after-uri-appropriate-treatment-uri-antibiotics-adults"


def chart_titles(page) -> list[str]:
    """The <title> of each measure's main SVG chart (which must also have a visible size)."""
    return page.eval_on_selector_all(
        "section.dash-measure > figure > svg.dash-chart",
        """charts => charts.map(chart => {
            const box = chart.getBoundingClientRect();
            const shown = box.width > 100 && box.height > 20;
            return shown ? chart.querySelector('title').textContent : '';
        })""",
    )


def no_horizontal_overflow(page) -> bool:
    """The page fits the viewport's width."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_programme_page_charts_suppression_and_moore_levels(page, demo_server):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{demo_server.url}/dashboards/")
    assert page.inner_text("h1") == "Programme outcomes"
    assert "Synthetic demo data" in page.inner_text(".dash-synthetic")
    sections = page.locator("section.dash-measure").count()
    titles = chart_titles(page)
    assert sections >= 4 and len(titles) == sections
    assert all(title.endswith(": programme rate by month") for title in titles)
    assert page.locator("svg.dash-chart circle.dash-point").count() > 20
    moore = page.locator("section.dash-measure > .dash-moore").all_inner_texts()
    assert len(moore) == sections and set(moore) == {"Moore level 5: performance in practice"}
    bronchitis = page.locator("#measure-bronchitis-antibiotic-avoidance")
    suppressed = bronchitis.locator("td.dash-suppressed")
    assert suppressed.count() > 0 and suppressed.first.is_visible()
    assert suppressed.first.inner_text() == "fewer than 5 (suppressed)"
    assert not [text for text in console if "Content Security Policy" in text]


def test_clinician_page_markers_before_after_peers_and_own_cases(page, demo_server):
    page.goto(f"{demo_server.url}/dashboards/")
    page.click("#measure-uri-appropriate-treatment tr[data-clinician='C03'] a")
    page.wait_for_url("**/dashboards/clinicians/C03")
    assert page.inner_text("h1") == "Outcomes for C03"
    uri = page.locator("#measure-uri-appropriate-treatment")
    marker = uri.locator("svg line.dash-marker title").first
    assert marker.text_content() == (
        "Completed Colds and acute bronchitis in adults: hold the antibiotic on 1 May 2026"
    )
    pair = page.locator(URI_BEFORE_AFTER)
    before, after = (
        pair.locator("dd.dash-before").inner_text(),
        pair.locator("dd.dash-after").inner_text(),
    )
    low, high = Rate(5, 15).interval
    assert (
        "5 of 15 eligible" in before and f"95% CI {low * 100:.0f} % to {high * 100:.0f} %" in before
    )
    assert "14 of 16 eligible" in after and "95% CI" in after
    assert pair.locator("svg.dash-chart circle.dash-point").count() == 2
    assert "association, not proof" in pair.inner_text().lower()
    peers = uri.locator("svg.dash-chart:has(circle.dash-you)")
    assert peers.locator("circle.dash-peer").count() >= 5
    assert peers.locator("circle.dash-you title").text_content().startswith("you: ")
    assert page.locator("#own-cases").count() == 0
    page.click("#show-my-cases")
    page.wait_for_selector("#own-cases tbody tr")
    rows = page.locator("#own-cases tbody tr")
    assert rows.count() > 10
    assert "Patient/" in rows.first.inner_text()


def test_spanish_dashboards_via_lang_es(page, demo_server):
    page.goto(f"{demo_server.url}/dashboards/?lang=es")
    assert page.get_attribute("html", "lang") == "es"
    assert page.inner_text("h1") == "Resultados del programa"
    assert "Nivel de Moore 5: desempeño en la práctica" in page.inner_text("main")
    assert "menos de 5 (oculto)" in page.inner_text("main")
    assert all(title.endswith(": tasa del programa por mes") for title in chart_titles(page))
    page.click("#measure-uri-appropriate-treatment tr[data-clinician='C03'] a")
    page.wait_for_url("**/dashboards/clinicians/C03")  # no ?lang=: the cookie keeps Spanish
    assert page.inner_text("h1") == "Resultados de C03"
    pair = page.locator(URI_BEFORE_AFTER)
    assert "Antes" in pair.inner_text() and "Después" in pair.inner_text()
    assert "5 de 15 elegibles" in pair.inner_text() and "IC 95%" in pair.inner_text()


def test_programme_gaps_completion_markers_pooled_before_after_and_export(page, demo_server):
    page.goto(f"{demo_server.url}/dashboards/")
    sepsis = page.locator("#measure-sepsis-3h-bundle > figure svg.dash-chart")
    gaps = sepsis.locator("rect.dash-gap")
    assert "Jan 2026: fewer than 5 cases (suppressed)" in gaps.locator("title").all_text_contents()
    assert gaps.first.bounding_box()["width"] > 5
    shown = page.locator("svg.dash-chart circle.dash-point title").all_text_contents()
    counts = [re.match(r"\d{4}-\d{2}: \d+/(\d+)", text) for text in shown]
    assert all(int(found.group(1)) >= 5 for found in counts if found)
    assert "Jan 2026: 0/2" not in page.content()
    uri = page.locator("#measure-uri-appropriate-treatment")
    markers = uri.locator("svg line.dash-marker title").all_text_contents()
    assert markers == [
        "Fewer than 5 clinicians completed Colds and acute bronchitis in adults: hold the "
        "antibiotic in May 2026 (suppressed)"
    ]
    assert uri.locator(".dash-completions li").all_inner_texts() == markers
    pooled = page.locator("#pooled-uri-appropriate-treatment")
    assert pooled.is_visible()
    assert "their rates before and after are suppressed" in pooled.inner_text()
    assert pooled.locator("dd.dash-before").count() == 0
    assert "association, not proof" in pooled.inner_text().lower()
    assert pooled.locator(".dash-moore").inner_text() == "Moore level 5: performance in practice"
    with page.expect_download() as download:
        page.click("#export-programme")
    bundle = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle" and len(bundle["entry"]) > 4


@pytest.mark.parametrize("path", ["/dashboards/", "/dashboards/clinicians/C03?cases=mine"])
def test_dashboards_fit_a_phone(phone, demo_server, path):
    phone.goto(f"{demo_server.url}{path}")
    phone.wait_for_selector("svg.dash-chart")
    assert no_horizontal_overflow(phone)
    widths = phone.eval_on_selector_all(
        "svg.dash-chart", "charts => charts.map(c => c.getBoundingClientRect().right)"
    )
    assert widths and max(widths) <= phone.evaluate("window.innerWidth")
