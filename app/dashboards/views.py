"""The /dashboards blueprint: the programme view and the per-clinician view."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, render_template, request

from app import i18n
from app.dashboards import labels, panels, sources
from app.deployment import deployment
from app.outcomes.practice_data import (
    PRACTITIONER,
    PracticeDataset,
    month_range,
    practice_source,
    short_id,
)
from app.smart import current_smart_session

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")


@bp.before_request
def require_access() -> tuple[str, int] | None:
    """Synthetic data are open to all; otherwise a SMART session is required."""
    if practice_source().open_to_all or current_smart_session() is not None:
        return None
    return render_template("dashboards/launch_needed.html"), 401


bp.after_request(i18n.private_page)


@bp.context_processor
def helpers() -> dict:
    """Values and filters every dashboard template uses."""
    return {
        "lang": i18n.language(),
        "localized": i18n.localized,
        "percent": labels.percent,
        "interval": labels.interval_text,
        "moore": labels.moore_label,
        "short_id": short_id,
        "language_url": partial(i18n.language_url, fallback="dashboards.programme"),
        "demo": deployment().demo,
        "measure_title": labels.measure_title,
        "module_title": labels.module_title,
        "day_text": labels.day_text,
        "number_text": labels.number_text,
        "duration_text": labels.duration_text,
        "correlation_text": labels.correlation_text,
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
    data = sources.with_all_completions(data)
    months = month_range(data.start, data.end)
    views = [panels.programme_panel(data, measure_id, months) for measure_id in data.measures]
    me = sources.viewer_clinician(data)
    return render_template("dashboards/programme.html", views=views, data=data, me=me)


def find_clinician(data: PracticeDataset, clinician_id: str) -> str | None:
    """'Practitioner/<id>' when the data have that clinician, else None."""
    who = PRACTITIONER + clinician_id
    return who if who in data.clinicians() else None


def forbidden_page(who: str) -> tuple[str, int]:
    """403: a clinician's dashboard is for that clinician only; the programme view is for all."""
    return render_template("dashboards/forbidden.html", who=who, data=None), 403


@bp.get("/clinicians/<clinician_id>")
def clinician(clinician_id: str):
    """One clinician: series with completion markers, before/after, against peers."""
    data = sources.dashboard_data()
    if data is None:
        return no_data_page()
    who = find_clinician(data, clinician_id)
    if who is None:
        abort(404)
    if not sources.may_open(who):
        return forbidden_page(who)
    data = sources.with_completions(data, who)
    months = month_range(data.start, data.end)
    found = (panels.clinician_panel(data, measure_id, who, months) for measure_id in data.measures)
    return render_template(
        "dashboards/clinician.html",
        views=[view for view in found if view is not None],
        who=who,
        events=data.events_for(who),
        data=data,
        cases=cases_view(data, who),
    )


def cases_view(data: PracticeDataset, who: str) -> dict:
    """Whether the viewer may see this clinician's own cases, asked for them, and the cases."""
    allowed = sources.may_see_cases(who)
    asked = request.args.get("cases") == "mine"
    shown = sources.own_cases(data, who) if allowed and asked else None
    return {"allowed": allowed, "asked": asked, "shown": shown}
