"""The SVG charts are well-formed, escaped, and place points and markers where they belong."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from app.dashboards import svg
from app.stats import Rate

NS = {"s": "http://www.w3.org/2000/svg"}
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def parse(markup) -> ET.Element:
    """Parse rendered SVG (fails on malformed markup)."""
    return ET.fromstring(str(markup))


def test_rate_chart_points_whiskers_and_marker():
    """One point and whisker per month with data; a marker at the completion date's x."""
    series = [
        (MONTHS[0], Rate(2, 4)),
        (MONTHS[1], Rate(0, 0)),
        (MONTHS[2], Rate(5, 6)),
        (MONTHS[3], Rate(6, 6)),
    ]
    root = parse(svg.rate_chart("Rate <by> month", series, [svg.Marker(date(2026, 3, 1), "Done")]))
    assert root.get("viewBox") == f"0 0 {svg.WIDTH} {svg.HEIGHT}"
    assert root.get("width") == "100%"
    assert root.find("s:title", NS).text == "Rate <by> month"
    points = root.findall("s:circle", NS)
    assert len(points) == 3
    assert "dash-small" in points[0].get("class")
    assert "dash-small" not in points[1].get("class")
    assert float(points[1].get("cx")) == pytest.approx(svg.month_x(2.5, 4), abs=0.1)
    assert float(points[2].get("cy")) == pytest.approx(svg.rate_y(1.0), abs=0.1)
    whiskers = root.findall("s:line[@class='dash-ci']", NS)
    assert len(whiskers) == 3
    markers = root.findall("s:line[@class='dash-marker']", NS)
    assert len(markers) == 1
    assert float(markers[0].get("x1")) == pytest.approx(svg.month_x(2, 4), abs=0.1)
    assert markers[0].find("s:title", NS).text == "Done"
    assert len(root.findall("s:polyline", NS)) == 1


def test_marker_outside_the_months_is_left_out():
    """A completion outside the charted months draws no marker."""
    root = parse(
        svg.rate_chart("t", [(MONTHS[0], Rate(1, 2))], [svg.Marker(date(2025, 1, 1), "x")])
    )
    assert root.findall("s:line[@class='dash-marker']", NS) == []


def test_date_index_fraction_of_month():
    """Mid-month dates fall part of the way through their month."""
    assert svg.date_index(date(2026, 2, 15), MONTHS) == pytest.approx(1 + 14 / 28)


def test_before_after_chart_has_two_dots_with_intervals():
    """Before and after each get a dot and an interval line."""
    root = parse(svg.before_after_chart("b/a", [("Before", Rate(5, 15)), ("After", Rate(14, 16))]))
    assert len(root.findall("s:circle", NS)) == 2
    assert len(root.findall("s:line[@class='dash-ci']", NS)) == 2


def test_peer_chart_highlights_you_and_escapes():
    """Peers are dots; 'you' is highlighted; text is escaped."""
    peers = {"P/A": Rate(1, 10), "P/<B>": Rate(5, 10), "P/me": Rate(9, 10)}
    markup = str(svg.peer_chart("peers & you", peers, "P/me", "you", "a <peer>"))
    assert "<B>" not in markup and "<peer>" not in markup
    root = parse(markup)
    others = root.findall("s:circle[@class='dash-peer']", NS)
    assert len(others) == 2
    assert {o.find("s:title", NS).text for o in others} == {"a <peer>: 10%", "a <peer>: 50%"}
    you = root.findall("s:circle[@class='dash-you']", NS)
    assert [y.find("s:title", NS).text for y in you] == ["you: 90%"]
    assert "P/A" not in markup and "B&gt;" not in markup


def test_suppressed_months_are_gaps_without_counts():
    """With a suppression text, a month of 1-4 eligible cases is a gap: no point, line broken."""
    series = [
        (MONTHS[0], Rate(5, 6)),
        (MONTHS[1], Rate(0, 2)),
        (MONTHS[2], Rate(6, 8)),
        (MONTHS[3], Rate(7, 9)),
    ]
    root = parse(svg.rate_chart("t", series, suppressed="hidden <5>"))
    assert len(root.findall("s:circle", NS)) == 3
    assert len(root.findall("s:line[@class='dash-ci']", NS)) == 3
    gaps = root.findall("s:rect[@class='dash-gap']", NS)
    assert [g.find("s:title", NS).text for g in gaps] == ["2026-02: hidden <5>"]
    assert float(gaps[0].get("x")) == pytest.approx(svg.month_x(1, 4), abs=0.1)
    assert "0/2" not in str(svg.rate_chart("t", series, suppressed="x"))
    assert len(root.findall("s:polyline", NS)) == 1  # one point before the gap: no line there
    assert len(parse(svg.rate_chart("t", series)).findall("s:circle", NS)) == 4
