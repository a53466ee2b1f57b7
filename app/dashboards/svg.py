"""Server-rendered SVG charts (no JavaScript): monthly rates, before/after, peer distribution."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from app.stats import Rate

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 16, 10, 26


def iso_month(month: str, with_year: bool = True) -> str:
    """A month key as written (YYYY-MM): the default when no localized namer is given."""
    return month


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
    title: str,
    series: Sequence[tuple[str, Rate]],
    markers: Sequence[Marker] = (),
    suppressed: str | None = None,
    month_name: Callable[[str, bool], str] = iso_month,
) -> Markup:
    """Monthly rates: points with Wilson 95% whiskers, a line, dated markers, 0-100 % axis.

    With `suppressed` (a programme view), months with fewer than 5 eligible cases are a gap in
    the line whose tooltip is that text: neither their counts nor their rate are drawn.
    `month_name(key, with_year)` writes a YYYY-MM key for people ("Mar 2026", or "May").
    """
    months = [month for month, _ in series]
    parts = [_open(title), *_month_axes(months, month_name), *_markers(markers, months)]
    segments: list[list[str]] = [[]]
    dots: list[str] = []
    for index, (month, rate) in enumerate(series):
        if suppressed is not None and _hidden(rate):
            segments.append([])
            dots.append(_gap(index, len(months), f"{month_name(month, True)}: {suppressed}"))
        elif rate.rate is not None:
            x, y = month_x(index + 0.5, len(months)), rate_y(rate.rate)
            segments[-1].append(f"{x:.1f},{y:.1f}")
            dots.extend(_point(x, month_name(month, True), rate))
    parts.extend(
        f'<polyline points="{" ".join(points)}" class="dash-line"/>'
        for points in segments
        if len(points) > 1
    )
    parts.extend(dots)
    parts.append("</svg>")
    return Markup("".join(parts))


def _hidden(rate: Rate) -> bool:
    """A month a programme view must not show: some cases, but fewer than 5 eligible."""
    return rate.denominator > 0 and rate.small_cell


def _month_axes(months: Sequence[str], month_name: Callable[[str, bool], str]) -> list[str]:
    """Horizontal grid lines with 0-100 % ticks and the month labels.

    The first label and each January carry the year, so no label reads as a day and a month.
    """
    parts = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = rate_y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="dash-grid"/>'
        )
        parts.append(_text(LEFT - 4, y + 3, f"{tick:.0%}", "dash-tick", "end"))
    count = len(months)
    shown = [index for index in range(count) if index % 2 == 0 or count <= 6]
    for index in shown:
        month = months[index]
        with_year = index == shown[0] or month.endswith("-01")
        label = month_name(month, with_year)
        parts.append(_text(month_x(index + 0.5, count), HEIGHT - 8, label, "dash-tick"))
    return parts


def _markers(markers: Sequence[Marker], months: Sequence[str]) -> list[str]:
    """Dashed vertical lines at dated events inside the charted months, with their labels."""
    parts = []
    for marker in markers:
        index = date_index(marker.when, months)
        if index is None:
            continue
        x = month_x(index, len(months))
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
            f'class="dash-marker"><title>{escape(marker.label)}</title></line>'
        )
    return parts


def _point(x: float, month: str, rate: Rate) -> list[str]:
    """A month's Wilson whisker and point, its counts in the tooltip."""
    low, high = rate.interval
    label = f"{month}: {rate.numerator}/{rate.eligible} ({rate.rate:.0%})"
    cls = "dash-point dash-small" if rate.small_cell else "dash-point"
    return [
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{rate_y(low):.1f}" y2="{rate_y(high):.1f}" '
        'class="dash-ci"/>',
        f'<circle cx="{x:.1f}" cy="{rate_y(rate.rate):.1f}" r="3" class="{cls}">'
        f"<title>{escape(label)}</title></circle>",
    ]


def _gap(index: int, count: int, label: str) -> str:
    """A faint column over a suppressed month, whose tooltip says why it is empty."""
    x = month_x(index, count)
    width = month_x(index + 1, count) - x
    return (
        f'<rect x="{x:.1f}" y="{TOP}" width="{width:.1f}" height="{HEIGHT - TOP - BOTTOM}" '
        f'class="dash-gap" fill="#888" fill-opacity="0.08"><title>{escape(label)}</title></rect>'
    )


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


def peer_chart(
    title: str, peers: dict[str, Rate], you: str | None, you_label: str, peer_label: str
) -> Markup:
    """A strip plot of each clinician's rate, 'you' highlighted and labelled; peers stay unnamed."""
    height = 70
    y = 28
    parts = [_open(title, height)]
    for who, rate in sorted(peers.items(), key=lambda item: item[0] == you):
        if rate.rate is None:
            continue
        x = _x_rate(rate.rate)
        mine = who == you
        cls = "dash-you" if mine else "dash-peer"
        text = f"{you_label if mine else peer_label}: {rate.rate:.0%}"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y}" r="{6 if mine else 4}" class="{cls}">'
            f"<title>{escape(text)}</title></circle>"
        )
        if mine:
            parts.append(_text(x, y - 10, you_label, "dash-label"))
    parts.extend(_rate_axis(height - 24))
    parts.append("</svg>")
    return Markup("".join(parts))
