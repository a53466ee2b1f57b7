"""Words and numbers on the dashboards: percentages, intervals, Moore levels, marker labels."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

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


def completed_on(event: LearningEvent) -> str:
    """'Completed uri-antibiotics-adults on 2026-05-01'."""
    return _(
        "Completed %(module)s on %(date)s", module=event.module_id, date=event.completed.isoformat()
    )


def completed_in(completions: d.MonthCompletions) -> str:
    """'2 clinicians completed uri-antibiotics-adults in 2026-05'."""
    return ngettext(
        "%(num)d clinician completed %(module)s in %(month)s",
        "%(num)d clinicians completed %(module)s in %(month)s",
        completions.clinicians,
        module=completions.module_id,
        month=completions.month,
    )


def suppressed_month() -> str:
    """The tooltip of a programme chart month with fewer than 5 eligible cases."""
    return _("fewer than 5 cases (suppressed)")
