"""The /dashboards blueprint: the programme view and the per-clinician view."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _

from app.dashboards import data as d
from app.dashboards import sources, svg
from app.outcomes import stats
from app.smart import current_smart_session
from app.ui import i18n

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")


@bp.before_request
def require_access() -> tuple[str, int] | None:
    """Demo mode shows synthetic data openly; otherwise a SMART session is required."""
    if current_app.config.get("DEMO") or current_smart_session() is not None:
        return None
    return render_template("dashboards/launch_needed.html"), 401


bp.after_request(i18n.private_page)


@bp.context_processor
def helpers() -> dict:
    """Values and filters every dashboard template uses."""
    return {
        "lang": i18n.language(),
        "localized": i18n.localized,
        "percent": percent,
        "interval": interval_text,
        "moore": moore_label,
        "short_id": d.short_id,
        "language_url": language_url,
        "demo": current_app.config.get("DEMO", False),
        "measure_title": measure_title,
    }


def no_data_page() -> str:
    """The page shown (200) when no practice data has been loaded: how to load it."""
    return render_template("dashboards/no_data.html", data=None)


@bp.get("/")
def programme():
    """Every measure: overall rate, monthly chart, per-clinician table (small cells suppressed)."""
    data = sources.dashboard_data()
    if data is None:
        return no_data_page()
    months = d.month_range(data.start, data.end)
    views = []
    for measure_id, definition in data.measures.items():
        cases = data.cases[measure_id]
        title = i18n.localized(definition.title)
        by_clinician = stats.by_clinician(cases)
        views.append(
            {
                "definition": definition,
                "overall": stats.summarize(cases),
                "chart": svg.rate_chart(
                    _("%(title)s: programme rate by month", title=title),
                    d.monthly_series(cases, months),
                ),
                "clinicians": [
                    (str(who), rate)
                    for who, rate in by_clinician.items()
                    if who != stats.UNATTRIBUTED
                ],
            }
        )
    return render_template("dashboards/programme.html", views=views, data=data)


@bp.get("/clinicians/<clinician_id>")
def clinician(clinician_id: str):
    """One clinician: series with completion markers, before/after, against peers."""
    data = sources.dashboard_data()
    if data is None:
        return no_data_page()
    who = d.PRACTITIONER + clinician_id
    if who not in data.clinicians():
        abort(404)
    data = sources.with_completions(data, who)
    months = d.month_range(data.start, data.end)
    events = data.events_for(who)
    comparisons = d.before_after_for(data, who)
    views = []
    for measure_id, definition in data.measures.items():
        mine = d.for_clinician(data.cases[measure_id], who)
        if not any(case.in_denominator for case in mine):
            continue
        title = i18n.localized(definition.title)
        markers = [
            svg.Marker(
                e.completed,
                _(
                    "Completed %(module)s on %(date)s",
                    module=e.module_id,
                    date=e.completed.isoformat(),
                ),
            )
            for e in events
            if e.module_id in definition.modules
        ]
        linked = [c for c in comparisons if c.measure_id == measure_id]
        views.append(
            {
                "definition": definition,
                "overall": stats.summarize(mine),
                "chart": svg.rate_chart(
                    _("%(title)s: your rate by month", title=title),
                    d.monthly_series(mine, months),
                    markers,
                ),
                "comparisons": [
                    (
                        c,
                        svg.before_after_chart(
                            _("Before and after %(module)s", module=c.module_id),
                            [(_("Before"), c.before), (_("After"), c.after)],
                        ),
                    )
                    for c in linked
                ],
                "peers": svg.peer_chart(
                    _("%(title)s: your rate among peers", title=title),
                    d.peer_rates(data.cases[measure_id]),
                    who,
                    _("you"),
                ),
            }
        )
    return render_template(
        "dashboards/clinician.html",
        views=views,
        who=who,
        events=events,
        data=data,
        cases=cases_view(data, who),
    )


def cases_view(data: d.DashboardData, who: str) -> dict:
    """Whether the viewer may see this clinician's own cases, asked for them, and the cases."""
    allowed = sources.may_see_cases(who)
    asked = request.args.get("cases") == "mine"
    shown = sources.own_cases(data, who) if allowed and asked else None
    return {"allowed": allowed, "asked": asked, "shown": shown}


def percent(value: float | None) -> str:
    """A rate as a whole percentage ('64 %'), or a dash when there is none."""
    return "—" if value is None else f"{value * 100:.0f} %"


def interval_text(rate: stats.Rate) -> str:
    """The Wilson 95% interval in words ('95% CI 52 % to 74 %')."""
    found = rate.interval
    if found is None:
        return ""
    return _("95%% CI %(low)s to %(high)s", low=percent(found[0]), high=percent(found[1]))


def moore_label(level: int) -> str:
    """'Moore level 5: performance in practice' (translated)."""
    names = {
        1: _("participation"),
        2: _("satisfaction"),
        3: _("knowledge"),
        4: _("competence"),
        5: _("performance in practice"),
        6: _("patient health"),
        7: _("community health"),
    }
    return _("Moore level %(level)s: %(name)s", level=level, name=names.get(level, ""))


def measure_title(data: d.DashboardData, measure_id: str) -> str:
    """A measure's title in the UI language (its id when unknown)."""
    definition = data.measures.get(measure_id)
    return i18n.localized(definition.title) if definition else measure_id


def language_url(code: str) -> str:
    """This page in another language."""
    arguments = {**request.args.to_dict(), "lang": code}
    return url_for(
        request.endpoint or "dashboards.programme", **(request.view_args or {}), **arguments
    )
