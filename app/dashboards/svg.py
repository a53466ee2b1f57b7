"""Server-rendered SVG charts (no JavaScript): monthly rates, before/after, peer distribution."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from app.outcomes.stats import Rate

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 16, 10, 26


@dataclass(frozen=True)
class Marker:
    """A vertical marker: a dated event such as a module completion."""

    when: date
    label: str


def _text(x: float, y: float, text: str, cls: str, anchor: str = "middle") -> str:
    """An SVG text element with escaped content."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _open(title: str, height: int = HEIGHT) -> str:
    """The root element: responsive via viewBox and width 100%, labelled for screen readers."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'class="dash-chart" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def month_x(index: float, count: int) -> float:
    """The x of a position along the month axis (index 0.5 is the first month's centre)."""
    step = (WIDTH - LEFT - RIGHT) / max(count, 1)
    return LEFT + index * step


def rate_y(value: float) -> float:
    """The y of a rate between 0 and 1 (0 % at the bottom)."""
    return TOP + (1 - value) * (HEIGHT - TOP - BOTTOM)


def date_index(when: date, months: Sequence[str]) -> float | None:
    """Where a date falls on the month axis (month index plus the fraction of the month)."""
    key = f"{when.year:04d}-{when.month:02d}"
    if key not in months:
        return None
    days = calendar.monthrange(when.year, when.month)[1]
    return months.index(key) + (when.day - 1) / days


def rate_chart(
    title: str, series: Sequence[tuple[str, Rate]], markers: Sequence[Marker] = ()
) -> Markup:
    """Monthly rates: points with Wilson 95% whiskers, a line, dated markers, 0-100 % axis."""
    months = [month for month, _ in series]
    count = len(months)
    parts = [_open(title)]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = rate_y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="dash-grid"/>'
        )
        parts.append(_text(LEFT - 4, y + 3, f"{tick:.0%}", "dash-tick", "end"))
    for index, month in enumerate(months):
        if index % 2 == 0 or count <= 6:
            parts.append(_text(month_x(index + 0.5, count), HEIGHT - 8, month[2:], "dash-tick"))
    for marker in markers:
        index = date_index(marker.when, months)
        if index is None:
            continue
        x = month_x(index, count)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
            f'class="dash-marker"><title>{escape(marker.label)}</title></line>'
        )
    points: list[str] = []
    dots: list[str] = []
    for index, (month, rate) in enumerate(series):
        if rate.rate is None:
            continue
        x, y = month_x(index + 0.5, count), rate_y(rate.rate)
        points.append(f"{x:.1f},{y:.1f}")
        low, high = rate.interval
        dots.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{rate_y(low):.1f}" y2="{rate_y(high):.1f}" '
            'class="dash-ci"/>'
        )
        label = f"{month}: {rate.numerator}/{rate.eligible} ({rate.rate:.0%})"
        cls = "dash-point dash-small" if rate.small_cell else "dash-point"
        dots.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="{cls}"><title>{escape(label)}</title>'
            "</circle>"
        )
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" class="dash-line"/>')
    parts.extend(dots)
    parts.append("</svg>")
    return Markup("".join(parts))


def _x_rate(value: float) -> float:
    """The x of a rate on a horizontal 0-100 % axis."""
    return LEFT + value * (WIDTH - LEFT - RIGHT)


def _rate_axis(y: float) -> list[str]:
    """A horizontal 0-100 % axis at y with ticks."""
    axis = f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="dash-axis"/>'
    parts = [axis]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(_text(_x_rate(tick), y + 12, f"{tick:.0%}", "dash-tick"))
    return parts


def before_after_chart(title: str, rows: Sequence[tuple[str, Rate]]) -> Markup:
    """Dot-and-interval rows (e.g. before / after) on a 0-100 % axis."""
    height = TOP + 28 * len(rows) + 24
    parts = [_open(title, height)]
    for number, (label, rate) in enumerate(rows):
        y = TOP + 14 + 28 * number
        parts.append(_text(2, y - 8, label, "dash-label", "start"))
        if rate.rate is None:
            continue
        low, high = rate.interval
        parts.append(
            f'<line x1="{_x_rate(low):.1f}" x2="{_x_rate(high):.1f}" y1="{y}" y2="{y}" '
            'class="dash-ci"/>'
        )
        text = f"{label}: {rate.numerator}/{rate.eligible} ({rate.rate:.0%})"
        parts.append(
            f'<circle cx="{_x_rate(rate.rate):.1f}" cy="{y}" r="4" class="dash-point">'
            f"<title>{escape(text)}</title></circle>"
        )
    parts.extend(_rate_axis(height - 20))
    parts.append("</svg>")
    return Markup("".join(parts))


def peer_chart(title: str, peers: dict[str, Rate], you: str | None, you_label: str) -> Markup:
    """A strip plot of each clinician's rate, with 'you' highlighted (drawn last) and labelled."""
    height = 70
    y = 28
    parts = [_open(title, height)]
    for who, rate in sorted(peers.items(), key=lambda item: item[0] == you):
        if rate.rate is None:
            continue
        x = _x_rate(rate.rate)
        mine = who == you
        cls = "dash-you" if mine else "dash-peer"
        text = f"{you_label if mine else who}: {rate.rate:.0%}"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y}" r="{6 if mine else 4}" class="{cls}">'
            f"<title>{escape(text)}</title></circle>"
        )
        if mine:
            parts.append(_text(x, y - 10, you_label, "dash-label"))
    parts.extend(_rate_axis(height - 24))
    parts.append("</svg>")
    return Markup("".join(parts))
