"""Words and numbers on the dashboards: percentages, intervals, Moore levels, marker labels,
override reasons, questions and item flags."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from app import i18n, stats
from app.dashboards import content_data
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
    module = library_module(module_id)
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
    """'7 clinicians completed URI in adults in May 2026' (fewer than 5: not their number)."""
    if completions.suppressed:
        return _(
            "Fewer than 5 clinicians completed %(module)s in %(month)s (suppressed)",
            module=module_title(completions.module_id),
            month=month_name(completions.month),
        )
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


def library_module(module_id: str) -> dict | None:
    """The module as the content library holds it now (None when it is gone)."""
    runtime = current_app.extensions.get("cds")
    return runtime.engine.library.modules.get(module_id) if runtime is not None else None


def override_reason_text(module_id: str, code: str | None) -> str:
    """An override reason's display text from the module, in the UI language (else its code)."""
    if code is None:
        return _("no reason given")
    module = library_module(module_id) or {}
    reasons = module.get("card", {}).get("override_reasons", [])
    found = next((reason for reason in reasons if reason["code"] == code), None)
    return i18n.localized(found["display"]) if found else code


def question_text(module_id: str, module_version: str, item_id: str) -> str:
    """A question's stem when the library's module is still this version, else its id."""
    module = library_module(module_id)
    if module is None or str(module["version"]) != module_version:
        return item_id
    questions = module.get("case", {}).get("questions", [])
    found = next((question for question in questions if question["id"] == item_id), None)
    return i18n.localized(found["stem"]) if found else item_id


def flag_text(flag: str) -> str:
    """Why an item is flagged, in words (thresholds from content_data)."""
    if flag == "too-easy":
        return _(
            "More than %(share)s answer it correctly: it hardly tells learners apart (too easy, "
            "or the answer is given away).",
            share=percent(content_data.TOO_EASY),
        )
    if flag == "too-hard":
        return _(
            "Fewer than %(share)s answer it correctly: check the key, the wording and whether "
            "the case teaches it.",
            share=percent(content_data.TOO_HARD),
        )
    return _(
        "Learners who do well on the rest of the case do no better on it (discrimination below "
        "%(limit)s): check for a wrong key, ambiguity or two defensible answers.",
        limit=correlation_text(content_data.LOW_DISCRIMINATION),
    )


def number_text(value: float | None) -> str:
    """A number in the UI language with up to one decimal ('2,5' in Spanish), or a dash."""
    return "—" if value is None else format_decimal(value, format="#,##0.#")


def correlation_text(value: float | None) -> str:
    """A correlation with two decimals in the UI language, or a dash when undefined."""
    return "—" if value is None else format_decimal(value, format="0.00")


def duration_text(seconds: float | None) -> str:
    """A duration for people: '40 s', '2 min 5 s', '3 h 10 min'."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return _("%(seconds)d s", seconds=whole)
    if whole < 3600:
        return _("%(minutes)d min %(seconds)d s", minutes=whole // 60, seconds=whole % 60)
    return _("%(hours)d h %(minutes)d min", hours=whole // 3600, minutes=whole % 3600 // 60)
