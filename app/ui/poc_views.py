"""The point-of-care learning cycle: ask, search, read, apply to this patient, earn credit."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.i18n import language
from app.ledger.credit import replayed_credit
from app.ledger.models import PatientDataRefused
from app.ui import labels, poc_flow, poc_forms
from app.ui.case_views import guideline_summary
from app.ui.page_context import launched_patient_terms, learner_id, module_or_404, runtime
from app.ui.views import bp, page

QUERY_MAX = poc_forms.QUESTION_MAX


@bp.route("/poc/new", methods=["GET", "POST"])
def poc_new() -> Response | tuple[str, int] | str:
    """Step 1: the clinical question and why it came up."""
    if request.method == "GET":
        values = {"question": request.args.get("q", "")[: poc_forms.QUESTION_MAX], "reason": ""}
        return question_page(values, {})
    form = poc_forms.read_question(request.form, launched_patient_terms())
    if not form.ok:
        return question_page(form.values, form.errors), 400
    attempt_id = poc_flow.start_cycle(learner_id(), form.values["question"], form.values["reason"])
    return redirect(url_for("ui.poc_search", attempt_id=attempt_id), 303)


@bp.get("/poc/<attempt_id>/search")
def poc_search(attempt_id: str) -> str:
    """Step 2: search the guideline library; the question asked is the first search."""
    cycle = poc_flow.cycle(learner_id(), attempt_id)
    query = request.args.get("q", cycle.question).strip()[:QUERY_MAX]
    result = runtime().search.search(query, language()) if query else None
    modules = runtime().library.modules
    return page("ui/poc_search.html", cycle=cycle, query=query, result=result, modules=modules)


@bp.route("/poc/<attempt_id>/read/<module_id>", methods=["GET", "POST"])
def poc_read(attempt_id: str, module_id: str) -> Response | str:
    """Step 2 (cont.): read a module's guideline summary; record it as the source consulted."""
    learner = learner_id()
    cycle = poc_flow.cycle(learner, attempt_id)
    module = module_or_404(module_id)
    if request.method == "POST" and cycle.module_id in {None, module_id} and not cycle.expired:
        poc_flow.record_sources(learner, cycle, module)
        if request.form.get("next") == "later":
            return redirect(url_for("ui.home"), 303)
        return redirect(url_for("ui.poc_apply", attempt_id=cycle.attempt_id), 303)
    return page(
        "ui/poc_read.html",
        cycle=cycle,
        module=module,
        guideline=module["guideline"],
        summary=guideline_summary(module),
        query=request.args.get("q", "")[:QUERY_MAX],
    )


@bp.route("/poc/<attempt_id>/apply", methods=["GET", "POST"])
def poc_apply(attempt_id: str) -> Response | tuple[str, int] | str:
    """Step 3: how the answer applies to this patient; then claim the cycle's credit."""
    learner = learner_id()
    cycle = poc_flow.cycle(learner, attempt_id)
    if cycle.module_id is None:
        return redirect(url_for("ui.poc_search", attempt_id=cycle.attempt_id))
    if cycle.applied or cycle.expired:
        again = request.method == "POST" and cycle.applied  # a resubmitted form: nothing new
        return redirect(done_url(cycle, replayed=again and credited(learner, cycle)))
    if request.method == "GET":
        return apply_page(cycle, poc_forms.FormResult(values={"impact": []}))
    form = poc_forms.read_application(request.form, launched_patient_terms())
    if not form.ok:
        return apply_page(cycle, form), 400
    try:
        submission = poc_flow.finish(cycle, poc_forms.application_response(form.values))
    except PatientDataRefused:
        form.errors["notes"] = gettext(
            "Bedside never records patient data, and this text looks like it contains some. "
            "Please rewrite it without anything that identifies the patient."
        )
        return apply_page(cycle, form), 400
    return redirect(done_url(cycle, replayed=replayed_credit(submission)), 303)


@bp.get("/poc/<attempt_id>/done")
def poc_done(attempt_id: str) -> Response | str:
    """The finished cycle and the credit it earned (or why none); reads only."""
    learner = learner_id()
    cycle = poc_flow.cycle(learner, attempt_id)
    if cycle.module_id is None:
        return redirect(url_for("ui.poc_search", attempt_id=cycle.attempt_id))
    if not cycle.applied and not cycle.expired:
        return redirect(url_for("ui.poc_apply", attempt_id=cycle.attempt_id))
    module = runtime().library.modules.get(cycle.module_id)
    submission = poc_flow.credit_outcome(learner, cycle)
    replayed = request.args.get("replayed") == "1"
    context = {"cycle": cycle, "module": module, "submission": submission, "replayed": replayed}
    return page("ui/poc_done.html", **context)


def done_url(cycle: poc_flow.Cycle, *, replayed: bool) -> str:
    """The finished cycle's page; `replayed` says the last submit repeated a recorded credit."""
    extra = {"replayed": "1"} if replayed else {}
    return url_for("ui.poc_done", attempt_id=cycle.attempt_id, **extra)


def credited(learner: str, cycle: poc_flow.Cycle) -> bool:
    """Tell whether finishing the cycle recorded credit (reads the stored outcome)."""
    submission = poc_flow.credit_outcome(learner, cycle)
    return submission is not None and bool(submission.records)


def question_page(values: dict, errors: dict) -> str:
    """Render the question form, saying first whether a cycle now would earn credit."""
    return page(
        "ui/poc_new.html",
        values=values,
        errors=errors,
        reasons=labels.QUESTION_REASONS,
        outlook=poc_flow.credit_outlook(learner_id()),
    )


def apply_page(cycle: poc_flow.Cycle, form: poc_forms.FormResult) -> str:
    """Render the application form."""
    return page(
        "ui/poc_apply.html",
        outlook=poc_flow.credit_outlook(learner_id(), current=cycle),
        cycle=cycle,
        module=runtime().library.modules.get(cycle.module_id or ""),
        values=form.values,
        errors=form.errors,
        answered=labels.ANSWERED,
        impacts=labels.IMPACTS,
        ratings=labels.RATINGS,
        bias=labels.BIAS,
    )
