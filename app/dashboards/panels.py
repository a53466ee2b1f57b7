"""What each measure's section shows: on the programme page and on a clinician's page."""

from __future__ import annotations

from flask_babel import gettext as _

from app import i18n, stats
from app.dashboards import data as d
from app.dashboards import labels, svg
from app.outcomes import case_rates
from app.outcomes.practice_data import PracticeDataset


def programme_panel(data: PracticeDataset, measure_id: str, months: list[str]) -> dict:
    """Overall rate, monthly chart (small months a gap), completion markers, pooled before/after."""
    definition = data.measures[measure_id]
    cases = data.cases[measure_id]
    title = i18n.localized(definition.title)
    completions = d.completions_by_month(data, measure_id)
    markers = [svg.Marker(c.first_day, labels.completed_in(c)) for c in completions]
    pooled = d.pooled_before_after(data, measure_id)
    return {
        "definition": definition,
        "overall": case_rates.summarize(cases),
        "chart": svg.rate_chart(
            _("%(title)s: programme rate by month", title=title),
            d.monthly_series(cases, months),
            markers,
            suppressed=labels.suppressed_month(),
            month_name=labels.month_name,
        ),
        "completions": [(c, labels.completed_in(c)) for c in completions],
        "pooled": pooled,
        "pooled_chart": pooled_chart(pooled) if pooled else None,
        "clinicians": clinician_rows(cases),
    }


def clinician_rows(cases: list) -> list[tuple[str, stats.Rate, bool]]:
    """(clinician, rate, suppressed) rows: small cells and a lone small cell's complement hidden."""
    rates = case_rates.by_clinician(cases)
    hidden = stats.suppressed_groups(rates, unshown=[case_rates.UNATTRIBUTED])
    return [
        (str(who), rate, who in hidden)
        for who, rate in rates.items()
        if who != case_rates.UNATTRIBUTED
    ]


def pooled_chart(pooled: d.PooledBeforeAfter):
    """The pooled before/after dots, leaving out a side with fewer than 5 eligible cases (and
    both when fewer than 5 clinicians are behind them)."""
    if pooled.suppressed:
        return None
    rows = [(_("Before"), pooled.before), (_("After"), pooled.after)]
    shown = [(label, rate) for label, rate in rows if not rate.small_cell]
    title = _("Before and after a linked module, pooled")
    return svg.before_after_chart(title, shown) if shown else None


def clinician_panel(
    data: PracticeDataset, measure_id: str, who: str, months: list[str]
) -> dict | None:
    """One clinician's rate, monthly chart with completion markers, before/after, among peers."""
    definition = data.measures[measure_id]
    mine = d.for_clinician(data.cases[measure_id], who)
    if not any(case.in_denominator for case in mine):
        return None
    title = i18n.localized(definition.title)
    markers = [
        svg.Marker(event.completed, labels.completed_on(event))
        for event in data.events_for(who)
        if event.module_id in definition.modules
    ]
    linked = [c for c in d.before_after_for(data, who) if c.measure_id == measure_id]
    return {
        "definition": definition,
        "overall": case_rates.summarize(mine),
        "chart": svg.rate_chart(
            _("%(title)s: your rate by month", title=title),
            d.monthly_series(mine, months),
            markers,
            month_name=labels.month_name,
        ),
        "comparisons": [(c, comparison_chart(c)) for c in linked],
        "peers": svg.peer_chart(
            _("%(title)s: your rate among peers", title=title),
            d.peer_rates(data.cases[measure_id]),
            who,
            _("you"),
            _("a peer"),
        ),
    }


def comparison_chart(comparison: d.BeforeAfter):
    """One clinician's before/after dots for one module."""
    return svg.before_after_chart(
        _("Before and after %(module)s", module=labels.module_title(comparison.module_id)),
        [(_("Before"), comparison.before), (_("After"), comparison.after)],
    )
