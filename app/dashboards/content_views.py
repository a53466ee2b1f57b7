"""Content analytics for content owners: the /dashboards/content page and its CSV download.

Per module version: cards shown, accepted, overridden and why, alert burden, time to action,
case pass rate, and each question's difficulty and discrimination with the flags they raise.
Aggregates only; every figure resting on fewer than 5 cards, actions, clinicians, learners or
answers is shown as suppressed (content_data marks them, by the one rule of app.stats), on the
page and in the CSV alike, and so is an all-modules count that would give a lone suppressed
version's away by subtraction. Outside demo mode
only the editor and admin roles of BEDSIDE_ROLES may read them (a 403 page for anyone else).
"""

from __future__ import annotations

import csv
import io

from flask import Response, render_template

from app import stats
from app.collaboration import collaboration
from app.dashboards import content_sources, labels
from app.dashboards.content_data import (
    CardFigures,
    ContentTallies,
    VersionFigures,
    all_cards,
    version_figures,
)
from app.dashboards.views import bp
from app.deployment import deployment
from app.ledger.outputs.transcript import safe_cell
from app.smart import current_smart_session

CSV_COLUMNS = [
    "module_id",
    "module_version",
    "figure",
    "detail",
    "label",
    "value",
    "numerator",
    "denominator",
]
SUPPRESSED = "suppressed"
CONTENT_ROLES = frozenset({"editor", "admin"})


@bp.get("/content")
def content():
    """Per module version: card figures, alert burden, time to action, cases and items."""
    if not may_read_content():
        return content_forbidden()
    tallies = content_sources.content_tallies()
    versions = version_figures(tallies)
    return render_template(
        "dashboards/content.html",
        records=tallies,
        overall=all_cards(tallies, versions),
        versions=[version_view(figures) for figures in versions],
        data=None,
    )


@bp.get("/content.csv")
def content_csv():
    """The same figures as CSV rows (suppressed cells say so, with no count)."""
    if not may_read_content():
        return content_forbidden()
    tallies = content_sources.content_tallies()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(tallies))
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="bedside-content.csv"'
    return response


def may_read_content() -> bool:
    """Demo mode shows synthetic figures to all; otherwise the editor and admin roles only."""
    if deployment().demo:
        return True
    session = current_smart_session()
    if session is None:
        return False
    roles = collaboration().role_map.roles_of(session.issuer, session.user, session.id_claims)
    return bool(roles & CONTENT_ROLES)


def content_forbidden() -> tuple[str, int]:
    """403: content analytics are for the content's editors."""
    return render_template("dashboards/content_forbidden.html", data=None), 403


def version_view(figures: VersionFigures) -> dict:
    """What the page shows for one version: its figures, title, words and editorial hook."""
    return {
        "figures": figures,
        "title": labels.module_title(figures.module_id),
        "reasons": [
            (reason, labels.override_reason_text(figures.module_id, reason.code))
            for reason in (figures.cards.reasons if figures.cards else [])
        ],
        "questions": [
            (
                item,
                labels.question_text(figures.module_id, figures.module_version, item.item_id),
                [labels.flag_text(flag) for flag in item.flags],
            )
            for item in (figures.case.items if figures.case else [])
        ],
        "editorial": content_sources.editorial_figures(figures.module_id, figures.module_version),
    }


def csv_rows(tallies: ContentTallies) -> list[list[str]]:
    """Long-format rows: one figure per row, the first rows for all modules together."""
    rows = []
    versions = version_figures(tallies)
    overall = all_cards(tallies, versions)
    if overall is not None:
        rows.extend(card_rows("", "", overall))
    for figures in versions:
        if figures.cards is not None:
            rows.extend(card_rows(figures.module_id, figures.module_version, figures.cards))
        if figures.case is not None:
            rows.extend(case_rows(figures))
    return [[*row[:3], safe_cell(row[3]), safe_cell(row[4]), *map(str, row[5:])] for row in rows]


def card_rows(module: str, version: str, cards: CardFigures) -> list[list]:
    """Cards shown, accepted, overridden, reasons (of one module), burden, time to action."""
    where = [module, version]
    shown = SUPPRESSED if cards.count_suppressed else cards.shown
    rows = [
        [*where, "cards_shown", "", "", shown, "", ""],
        [*where, "accepted_share", "", "", *share_cells(cards, cards.accepted)],
        [*where, "overridden_share", "", "", *share_cells(cards, cards.overridden)],
    ]
    for reason in cards.reasons if module else ():  # reason codes are each module's own
        label = labels.override_reason_text(module, reason.code)
        cells = rate_cells(reason.rate, reason.suppressed)
        rows.append([*where, "override_reason", reason.code or "", label, *cells])
    spreads = {"cards_per_clinician_week": cards.burden, "seconds_to_action": cards.time_to_action}
    for name, spread in spreads.items():
        for statistic in ("median", "p90"):
            if spread.suppressed:
                rows.append([*where, f"{name}_{statistic}", "", "", SUPPRESSED, "", ""])
            else:
                value = number(getattr(spread, statistic))
                count = SUPPRESSED if spread.count_withheld else spread.count
                rows.append([*where, f"{name}_{statistic}", "", "", value, "", count])
    return rows


def case_rows(figures: VersionFigures) -> list[list]:
    """Pass rate, then each item's difficulty, discrimination and flags."""
    where = [figures.module_id, figures.module_version]
    case = figures.case
    rows = [
        [*where, "case_pass_rate", "", "", *rate_cells(case.attempts, case.pass_rate_suppressed)]
    ]
    for item in case.items:
        stem = labels.question_text(*where, item.item_id)
        rows.append([*where, "item_difficulty", item.item_id, stem, *rate_cells(item.difficulty)])
        if item.suppressed:
            rows.append([*where, "item_discrimination", item.item_id, stem, SUPPRESSED, "", ""])
            continue
        value, answered = number(item.discrimination), item.difficulty.eligible
        rows.append([*where, "item_discrimination", item.item_id, stem, value, "", answered])
        rows.extend(
            [*where, "item_flag", item.item_id, labels.flag_text(flag), flag, "", answered]
            for flag in item.flags
        )
    return rows


def share_cells(cards: CardFigures, share: stats.Rate) -> list:
    """value, numerator, denominator of a share of cards, by the cards' suppression rule."""
    return rate_cells(share, cards.share_suppressed(share))


def rate_cells(rate: stats.Rate, suppressed: bool | None = None) -> list:
    """value, numerator, denominator of a share; 'suppressed' and no counts for a small cell."""
    if rate.small_cell if suppressed is None else suppressed:
        return [SUPPRESSED, "", ""]
    return [number(rate.rate, 4), rate.numerator, rate.eligible]


def number(value: float | None, digits: int = 3) -> str:
    """A plain machine-readable number ('' when undefined)."""
    return "" if value is None else f"{value:.{digits}f}".rstrip("0").rstrip(".")
