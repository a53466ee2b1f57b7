"""Words and numbers on the dashboards: percentages, intervals, Moore levels, marker labels."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from app import i18n, stats
from app.dashboards import data as d
from app.outcomes.practice_data import LearningEvent, PracticeDataset


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


def measure_title(data: PracticeDataset, measure_id: str) -> str:
    """A measure's title in the UI language (its id when unknown)."""
    definition = data.measures.get(measure_id)
    return i18n.localized(definition.title) if definition else measure_id


def module_title(module_id: str) -> str:
    """A module's title in the UI language, from the content library (its id if it is gone)."""
    runtime = current_app.extensions.get("cds")
    modules = runtime.engine.library.modules if runtime is not None else {}
    module = modules.get(module_id)
    return i18n.localized(module["title"]) if module else module_id


def month_name(month: str, with_year: bool = True) -> str:
    """A YYYY-MM key in the UI language: 'Mar 2026' (or 'Mar' where the year is already shown)."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        return month
    return format_date(first, "LLL yyyy" if with_year else "LLL")


def day_text(day: date) -> str:
    """A day in the UI language, never ambiguous ('1 May 2026' / '1 may 2026')."""
    return format_date(day, "d MMM yyyy")


def completed_on(event: LearningEvent) -> str:
    """'Completed URI in adults on 1 May 2026'."""
    return _(
        "Completed %(module)s on %(date)s",
        module=module_title(event.module_id),
        date=day_text(event.completed),
    )


def completed_in(completions: d.MonthCompletions) -> str:
    """'2 clinicians completed URI in adults in May 2026'."""
    return ngettext(
        "%(num)d clinician completed %(module)s in %(month)s",
        "%(num)d clinicians completed %(module)s in %(month)s",
        completions.clinicians,
        module=module_title(completions.module_id),
        month=month_name(completions.month),
    )


def suppressed_month() -> str:
    """The tooltip of a programme chart month with fewer than 5 eligible cases."""
    return _("fewer than 5 cases (suppressed)")
