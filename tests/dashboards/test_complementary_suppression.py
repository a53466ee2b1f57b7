"""No suppressed figure can be recovered by subtraction: an all-modules count less the shown
versions' counts, or the pooled clinicians less the shown completion markers' clinicians."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.dashboards import content_data as cd
from app.db import close_stores
from cds_hooks.store import Exposure
from tests.dashboards.conftest import ISSUER
from tests.dashboards.test_content_data import action, card, tallies
from tests.dashboards.test_content_pages import (
    MODULE,
    act_on,
    build,
    csv_table,
    last_monday_noon,
    module_version,
    page,
    row,
    signed_in_client,
)
from tests.dashboards.test_practice_data import complete_module
from tests.dashboards.test_programme_small_cells import (
    URI,
    section_of,
    store_cases,
    uri_cases,
    viewer,
    words,
)

SMALL_VERSION = "0.9.0"
WOULD_REVEAL = "suppressed (would reveal a small cell)"
# Figures that add up over versions: (CSV figure, CSV column holding the count).
ADDITIVE_CSV = [
    ("cards_shown", "value"),
    ("accepted_share", "numerator"),
    ("overridden_share", "numerator"),
    ("seconds_to_action_median", "denominator"),
    ("cards_per_clinician_week_median", "denominator"),
]
PAGE_SHARES = ("accepted", "overridden")


def version_cards(*versions: tuple[str, int, int, int]) -> tuple[list, list]:
    """Per (version, cards, clinicians, accepted): cards of module m round-robin to the
    clinicians, the first `accepted` accepted and the rest overridden (reason r1)."""
    shown, actions, number = [], [], 0
    for version, cards, clinicians, accepted in versions:
        for i in range(cards):
            shown.append(card(number, f"{version}-c{i % clinicians}", version=version))
            outcome = "accepted" if i < accepted else "overridden"
            actions.append(action(number, outcome, None if i < accepted else "r1"))
            number += 1
    return shown, actions


def version_records(*versions: tuple[str, int, int, int]) -> cd.ContentTallies:
    """The tallies of version_cards."""
    return tallies(*version_cards(*versions))


def additive_figures(cards: cd.CardFigures) -> dict[str, tuple[int, bool]]:
    """Each figure that adds up over versions: (its count, whether it is suppressed)."""
    return {
        "shown": (cards.shown, cards.count_suppressed),
        "accepted": (cards.accepted.numerator, cards.share_suppressed(cards.accepted)),
        "overridden": (cards.overridden.numerator, cards.share_suppressed(cards.overridden)),
        "acted": (
            cards.time_to_action.count,
            cards.time_to_action.suppressed or cards.time_to_action.count_withheld,
        ),
        "clinician_weeks": (
            cards.burden.count,
            cards.burden.suppressed or cards.burden.count_withheld,
        ),
    }


def lone_unknowns(total: dict, parts: list[dict]) -> list[str]:
    """The figures a shown total gives away: exactly one non-empty part suppressed under it."""
    return [
        figure
        for figure, (_, hidden) in total.items()
        if not hidden and sum(part[figure][1] and part[figure][0] > 0 for part in parts) == 1
    ]


def test_the_all_modules_counts_are_withheld_when_one_version_alone_is_suppressed():
    """1.0.0: 20 cards to 5 clinicians (shown); 2.0.0: 10 cards to 2 (suppressed): all modules
    30 cards, 11 accepted and 19 overridden would give 2.0.0's 10, 1 and 9 away."""
    records = version_records(("1.0.0", 20, 5, 10), ("2.0.0", 10, 2, 1))
    parts = [figures.cards for figures in cd.version_figures(records)]
    overall = cd.all_cards(records, cd.version_figures(records))
    assert [part.small_cell for part in parts] == [False, True]
    assert not overall.small_cell and overall.withheld
    assert overall.count_suppressed
    assert all(overall.share_suppressed(share) for share in (overall.accepted, overall.overridden))
    assert overall.time_to_action.count_withheld and overall.burden.count_withheld
    assert not overall.time_to_action.suppressed  # medians do not add up: they stay
    assert not parts[0].withheld and not parts[0].count_suppressed  # 1.0.0 keeps its figures
    assert not parts[0].reasons[0].suppressed
    assert lone_unknowns(additive_figures(overall), list(map(additive_figures, parts))) == []


def test_two_suppressed_versions_leave_the_all_modules_counts_shown():
    """Two small versions: the total less 1.0.0 gives only their sum, so nothing is withheld."""
    records = version_records(("1.0.0", 20, 5, 10), ("2.0.0", 10, 2, 1), ("3.0.0", 6, 3, 2))
    overall = cd.all_cards(records, cd.version_figures(records))
    assert not overall.withheld and not overall.count_suppressed
    assert not overall.time_to_action.count_withheld


def test_a_version_whose_time_to_action_alone_is_suppressed_withholds_the_total_count():
    """Both versions' cards are shown, but only 3 of 1.0.0's were acted on: the total's count of
    cards acted on is withheld, its median and every card count stay."""
    shown, actions = version_cards(("1.0.0", 20, 5, 10), ("2.0.0", 20, 5, 10))
    idle = {f"card-{n}" for n in range(3, 20)}
    records = tallies(shown, [a for a in actions if a.card_uuid not in idle])
    parts = [figures.cards for figures in cd.version_figures(records)]
    overall = cd.all_cards(records, cd.version_figures(records))
    assert parts[0].time_to_action.suppressed and not parts[0].small_cell
    assert overall.time_to_action.count_withheld and not overall.time_to_action.suppressed
    assert not overall.withheld
    assert lone_unknowns(additive_figures(overall), list(map(additive_figures, parts))) == []


def seed_versions(app, versions: dict[str, tuple[int, int, int]]) -> None:
    """Per version: (cards, clinicians, accepted) AF cards round-robin to the clinicians, the
    first `accepted` accepted after 30 s and the rest overridden after 90 s."""
    store = app.extensions["cds"].engine.store
    shown_at = last_monday_noon()
    for version, (cards, clinicians, accepted) in versions.items():
        exposures = [
            Exposure(
                str(uuid.uuid4()),
                MODULE,
                version,
                "svc",
                f"user-key-{version}-{i % clinicians}",
                "p",
                shown_at.timestamp(),
                "",
            )
            for i in range(cards)
        ]
        store.record_call(exposures)
        for i, exposure in enumerate(exposures):
            outcome, reason, seconds = (
                ("accepted", None, 30) if i < accepted else ("overridden", "low-stroke-risk", 90)
            )
            act_on(store, exposure, outcome, reason, shown_at + timedelta(seconds=seconds))


@pytest.fixture
def two_versions_app(instance_path):
    """AF cards: the library's version 20 to 5 clinicians (10 accepted); SMALL_VERSION 10 to 2
    clinicians (1 accepted, 9 overridden)."""
    app = build(instance_path)
    seed_versions(app, {module_version(app): (20, 5, 10), SMALL_VERSION: (10, 2, 1)})
    yield app
    close_stores(app)


def csv_count(found: dict, column: str) -> int | None:
    """A CSV count cell as a number (None when it says suppressed or is empty)."""
    return int(found[column]) if found[column].isdigit() else None


def test_the_csv_gives_no_suppressed_version_away_by_subtraction(two_versions_app):
    """For every figure that adds up: a shown all-modules count never sits over exactly one
    suppressed version; the shown version keeps its counts."""
    rows = csv_table(signed_in_client(two_versions_app))
    version = module_version(two_versions_app)
    for figure, column in ADDITIVE_CSV:
        found = [r for r in rows if r["figure"] == figure]
        total = [r for r in found if r["module_id"] == ""]
        parts = {r["module_version"]: csv_count(r, column) for r in found if r["module_id"]}
        assert set(parts) == {version, SMALL_VERSION}, figure
        assert parts[version] is not None and parts[SMALL_VERSION] is None, figure
        assert csv_count(total[0], column) is None, figure
        assert "suppressed" in (total[0]["value"], total[0][column]), figure
    overall = {r["figure"]: r for r in rows if r["module_id"] == ""}
    assert overall["seconds_to_action_median"]["value"] == "90"  # a median gives nothing away


def page_counts(html: str, table_id: str) -> dict[str, int | None]:
    """The cards shown and the accepted and overridden counts of one card table (None: hidden)."""
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    shown = words(row(table, 'data-figure="shown"')).removeprefix("Cards shown ")
    counts = {"shown": int(shown) if shown.isdigit() else None}
    for figure in PAGE_SHARES:
        found = re.search(r"\((\d+) of \d+;", words(row(table, f'data-figure="{figure}"')))
        counts[figure] = int(found.group(1)) if found else None
    return counts


def test_the_page_gives_no_suppressed_version_away_by_subtraction(two_versions_app):
    """All modules says 'would reveal a small cell' where 30, 11 and 19 would have stood; the
    shown version keeps 20, 10 and 10."""
    html = page(signed_in_client(two_versions_app))
    version = module_version(two_versions_app)
    total = page_counts(html, "cards-all")
    shown = page_counts(html, f"cards-{MODULE}-{version}")
    small = page_counts(html, f"cards-{MODULE}-{SMALL_VERSION}")
    assert shown == {"shown": 20, "accepted": 10, "overridden": 10}
    assert small == {"shown": None, "accepted": None, "overridden": None}
    assert total == {"shown": None, "accepted": None, "overridden": None}
    all_modules = html.split('id="all-modules"')[1].split("</section>")[0]
    for figure in ("shown", *PAGE_SHARES):
        assert WOULD_REVEAL in row(all_modules, f'data-figure="{figure}"'), figure
    assert not re.search(r">\s*30\s*<|11 of 30|19 of 30", all_modules)


def test_the_pooled_clinicians_are_not_counted_beside_a_suppressed_marker(live_app):
    """5 clinicians completed the URI module in May and 1 in June: 'Cases of 6 clinicians' less
    the May marker's 5 would give June's 1 away, so the pooled text names no number."""
    store_cases(live_app, uri_cases(6))
    for k in range(1, 6):
        when = datetime(2026, 5, 1, 9, tzinfo=UTC)
        complete_module(live_app, f"{ISSUER}/Practitioner/D{k}", when, key=f"k{k}")
    june = datetime(2026, 6, 1, 9, tzinfo=UTC)
    complete_module(live_app, f"{ISSUER}/Practitioner/D6", june, key="k6")
    section = section_of(page(viewer(live_app), "/dashboards/"), URI)
    text = words(section)
    assert "Jun 2026 (suppressed)" in text and 'data-clinicians="5"' in section
    pooled = words(section.split(f'id="pooled-{URI}"')[1].split("</div>")[0])
    assert "Cases of the clinicians who completed a linked module" in pooled
    assert not re.search(r"\b6 clinicians\b|\bCases of \d+", text)
    assert "data-numerator" in section.split(f'id="pooled-{URI}"')[1]  # the rates stay
