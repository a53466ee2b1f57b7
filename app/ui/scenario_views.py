"""The scenario player: a decision per page, the patient's state as it evolves, then the debrief.

Plain HTML forms (no JavaScript needed). Every POST redirects (303) to a page that only reads, so a
refresh or a second press records nothing twice: a decision counts only at the step the path is
waiting on, and finishing replays the attempt's one credit claim.
"""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import format_decimal, gettext
from werkzeug.wrappers import Response

from app.i18n import localized
from app.ledger.credit import replayed_credit
from app.ledger.rules import scenario_refusal
from app.library.scenarios import Decision, Walk, guideline_choice, guideline_walk
from app.ui import case_flow, labels, learning_flow, scenario_flow
from app.ui.page_context import learner_id, ledger, module_or_404
from app.ui.views import bp, error_page, page

UPDATED = 409  # the attempt's module version is no longer the library's


@bp.context_processor
def offer_helpers() -> dict:
    """What the case intro's scenario offer needs beyond the app's helpers."""
    return {"scenario_no_credit": no_credit_sentence}


@bp.post("/scenario/<module_id>/start")
def scenario_start(module_id: str) -> Response:
    """Record a new attempt and open the scenario's first decision."""
    module = module_or_404(module_id)
    scenario_flow.scenario_of(module)
    attempt = scenario_flow.start_attempt(ledger(), learner_id(), module)
    return redirect(step_url(module, attempt.attempt_id), 303)


@bp.get("/scenario/<module_id>/attempt/<attempt_id>")
def scenario_step(module_id: str, attempt_id: str) -> Response | str:
    """The patient's state now, what the last decision did, and the next decision (or the end)."""
    module = module_or_404(module_id)
    attempt = scenario_flow.learners_scenario_attempt(ledger(), learner_id(), module, attempt_id)
    if attempt.completed_at is not None:
        return redirect(debrief_url(module, attempt.attempt_id))
    return step_page(module, attempt, scenario_flow.path(ledger(), module, attempt))


@bp.post("/scenario/<module_id>/attempt/<attempt_id>/step/<step_id>")
def scenario_decide(module_id: str, attempt_id: str, step_id: str) -> Response | tuple[str, int]:
    """Record the decision at the step the path waits on; anything else changes nothing."""
    module = module_or_404(module_id)
    attempt = scenario_flow.learners_scenario_attempt(ledger(), learner_id(), module, attempt_id)
    done = scenario_flow.path(ledger(), module, attempt)
    waiting = done.current_step
    if attempt.completed_at is None and waiting is not None and waiting["id"] == step_id:
        choice = request.form.get("choice", "")
        try:
            answer = scenario_flow.record_decision(ledger(), attempt, waiting, choice)
        except ValueError:
            return step_page(module, attempt, done, gettext("Choose one decision.")), 400
        if answer is not None:
            learning_flow.learn_from_answer(attempt.learner_id, module["id"], answer)
    return redirect(step_url(module, attempt.attempt_id), 303)


@bp.post("/scenario/<module_id>/attempt/<attempt_id>/debrief")
def scenario_finish(module_id: str, attempt_id: str) -> Response:
    """Score a finished path and claim its credit (a repeat replays, never re-credits)."""
    module = module_or_404(module_id)
    attempt = scenario_flow.learners_scenario_attempt(ledger(), learner_id(), module, attempt_id)
    done = scenario_flow.path(ledger(), module, attempt)
    if not done.finished:
        return redirect(step_url(module, attempt.attempt_id), 303)
    submission = scenario_flow.finish(ledger(), module, attempt, done)
    return redirect(debrief_url(module, attempt.attempt_id, replayed_credit(submission)), 303)


@bp.get("/scenario/<module_id>/attempt/<attempt_id>/debrief")
def scenario_debrief(module_id: str, attempt_id: str) -> Response | str:
    """The learner's path beside the guideline's, with rationales, the score and the credit."""
    module = module_or_404(module_id)
    attempt = scenario_flow.learners_scenario_attempt(ledger(), learner_id(), module, attempt_id)
    submission = scenario_flow.credit_outcome(ledger(), attempt)
    if attempt.completed_at is None or submission is None:
        return redirect(step_url(module, attempt.attempt_id))
    scenario = scenario_flow.scenario_of(module)
    done = scenario_flow.path(ledger(), module, attempt)
    return page(
        "ui/scenario_debrief.html",
        module=module,
        scenario=scenario,
        attempt=attempt,
        done=done,
        guideline=guideline_walk(scenario),
        passed=scenario_flow.has_passed(module, done),
        submission=submission,
        replayed=request.args.get("replayed") == "1",
        **view_helpers(scenario),
    )


@bp.errorhandler(case_flow.ModuleUpdated)
def module_updated(updated: case_flow.ModuleUpdated) -> tuple[str, int]:
    """An attempt begun on another version: say so, keep its record, offer the current version."""
    module = updated.module
    if isinstance(updated, scenario_flow.ScenarioModuleUpdated) and module.get("scenario"):
        html = page(
            "ui/scenario_step.html",
            module=module,
            scenario=module["scenario"],
            updated=updated_sentence(updated),
        )
        return html, UPDATED
    restart = gettext(
        "Open the module again from the start to begin on version %(new)s.", new=module["version"]
    )
    message = f"{updated_sentence(updated)} {restart}"
    return error_page(UPDATED, gettext("This module was updated"), message)


def updated_sentence(updated: case_flow.ModuleUpdated) -> str:
    """That the attempt began on another version, and that its record is kept."""
    return gettext(
        "This attempt began on version %(old)s of the module, which has since been updated to "
        "version %(new)s, so it cannot go on or be shown here. Its record, and any credit it "
        "earned, is kept as it was.",
        old=updated.started_on,
        new=updated.module["version"],
    )


def step_page(module: dict, attempt, done: Walk, error: str | None = None) -> str:
    """Render the state panel, the last consequence and the waiting decision or the outcome."""
    scenario = scenario_flow.scenario_of(module)
    step = done.current_step
    return page(
        "ui/scenario_step.html",
        module=module,
        scenario=scenario,
        attempt=attempt,
        done=done,
        choices=scenario_flow.shuffled_choices(step, attempt) if step else [],
        error=error,
        **view_helpers(scenario),
    )


def view_helpers(scenario: dict) -> dict:
    """Functions the scenario templates use to show state, time and the guideline's choice."""
    variables = {variable["id"]: variable for variable in scenario["variables"]}
    unit = scenario["time"]["unit"]
    return {
        "variables": scenario["variables"],
        "variable_label": lambda name: localized(variables[name]["label"]),
        "quantity": lambda name, value: quantity(value, variables[name]["unit"]),
        "clock": lambda moment: clock(unit, moment),
        "guideline_choice": guideline_choice,
        "changed_by": changed_names,
        "refusal": labels.refusal,
    }


def no_credit_sentence(module: dict) -> str | None:
    """Why a walk of the module's scenario earns no credit here (None when it can)."""
    refused = scenario_refusal(module, ledger().policy)
    return labels.refusal(refused.reason) if refused else None


def quantity(value: float, unit: str) -> str:
    """A value in the UI language's number format with its unit (4.6 mmol/L, 4,6 mmol/L)."""
    return f"{format_decimal(value)} {unit}".strip()


def clock(unit: str, moment: int) -> str:
    """The scenario's time in its unit ("Week 2", "Semana 2")."""
    if unit == "minutes":
        return gettext("Minute %(number)d", number=moment)
    if unit == "hours":
        return gettext("Hour %(number)d", number=moment)
    if unit == "days":
        return gettext("Day %(number)d", number=moment)
    return gettext("Week %(number)d", number=moment)


def changed_names(decision: Decision | None) -> dict[str, float]:
    """{variable id: value before} for what the decision changed (empty without one)."""
    if decision is None:
        return {}
    return {name: before for name, before, _ in decision.changes()}


def step_url(module: dict, attempt_id: str) -> str:
    """The URL of an attempt's current step."""
    return url_for("ui.scenario_step", module_id=module["id"], attempt_id=attempt_id)


def debrief_url(module: dict, attempt_id: str, replayed: bool = False) -> str:
    """The URL of an attempt's debrief; `replayed` says the last finish repeated an earlier one."""
    extra = {"replayed": "1"} if replayed else {}
    return url_for("ui.scenario_debrief", module_id=module["id"], attempt_id=attempt_id, **extra)
