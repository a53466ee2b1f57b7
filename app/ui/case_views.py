"""The case player: disclosures and pass mark first, then questions with feedback, then credit."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.i18n import localized
from app.ledger.credit import replayed_credit
from app.library.markdown import render_markdown
from app.ui import case_flow, learning_flow
from app.ui.facts import patient_facts
from app.ui.offline import offline_readable
from app.ui.page_context import learner_id, ledger, module_or_404, runtime, smart_session
from app.ui.views import bp, page


@bp.get("/case/<module_id>")
@offline_readable
def case_intro(module_id: str) -> str:
    """Disclosures, pass mark, time, credit and guideline, before the case can start."""
    module = module_or_404(module_id)
    return page("ui/case_intro.html", module=module, summary=guideline_summary(module))


@bp.post("/case/<module_id>/start")
def case_start(module_id: str) -> Response:
    """Record a new attempt and open its first question."""
    module = module_or_404(module_id)
    attempt = case_flow.start_attempt(ledger(), learner_id(), module)
    return redirect(question_url(module, attempt.attempt_id, 1), 303)


@bp.route("/case/<module_id>/attempt/<attempt_id>/q/<int:number>", methods=["GET", "POST"])
@offline_readable
def case_question(module_id: str, attempt_id: str, number: int) -> Response | tuple[str, int] | str:
    """Show a question (or, once answered, the feedback); record the chosen answer."""
    module = module_or_404(module_id)
    attempt = case_flow.learners_case_attempt(ledger(), learner_id(), module, attempt_id)
    question = case_flow.question_number(module, number)
    done = case_flow.progress(ledger(), module, attempt)
    upcoming = done.next_number()
    if question["id"] not in done.answers and upcoming is not None and number > upcoming:
        return redirect(question_url(module, attempt.attempt_id, upcoming))
    if request.method == "POST" and question["id"] not in done.answers:
        choice = request.form.get("option", "")
        if choice not in case_flow.option_ids(question):
            error = gettext("Choose one answer before you submit.")
            return question_page(module, attempt, number, done, error), 400
        try:
            confidence = learning_flow.confidence_from(request.form)
        except ValueError:
            error = gettext("Choose how sure you are: unsure, fairly sure or certain.")
            return question_page(module, attempt, number, done, error), 400
        answer = case_flow.record_choice(ledger(), attempt, question, choice, confidence)
        learning_flow.learn_from_answer(attempt.learner_id, module["id"], answer)
    if request.method == "POST":
        return redirect(question_url(module, attempt.attempt_id, number), 303)
    return question_page(module, attempt, number, done)


@bp.post("/case/<module_id>/attempt/<attempt_id>/result")
def case_finish(module_id: str, attempt_id: str) -> Response:
    """Score the finished attempt and claim its credit (a repeat replays, never re-credits)."""
    module = module_or_404(module_id)
    attempt = case_flow.learners_case_attempt(ledger(), learner_id(), module, attempt_id)
    done = case_flow.progress(ledger(), module, attempt)
    if not done.finished:
        return redirect(question_url(module, attempt.attempt_id, done.next_number() or 1), 303)
    submission = case_flow.finish(ledger(), module, attempt, done)
    url = result_url(module, attempt.attempt_id, replayed=replayed_credit(submission))
    return redirect(url, 303)


@bp.get("/case/<module_id>/attempt/<attempt_id>/result")
@offline_readable
def case_result(module_id: str, attempt_id: str) -> Response | str:
    """The score against the pass mark, and the credit earned (or why none); reads only."""
    module = module_or_404(module_id)
    attempt = case_flow.learners_case_attempt(ledger(), learner_id(), module, attempt_id)
    done = case_flow.progress(ledger(), module, attempt)
    submission = case_flow.credit_outcome(ledger(), attempt)
    if attempt.completed_at is None or submission is None:
        number = done.next_number() or done.total  # the last question offers "See your result"
        return redirect(question_url(module, attempt.attempt_id, number))
    return page(
        "ui/case_result.html",
        module=module,
        attempt=attempt,
        done=done,
        passed=case_flow.has_passed(module, done),
        submission=submission,
        replayed=request.args.get("replayed") == "1",
    )


def question_page(module, attempt, number: int, done, error: str | None = None) -> str:
    """Render the vignette, this patient's facts and the question or its feedback."""
    question = module["case"]["questions"][number - 1]
    answer = done.answers.get(question["id"])
    chosen = answer.response.get("option") if answer else None
    return page(
        "ui/case_question.html",
        module=module,
        attempt=attempt,
        number=number,
        question=question,
        options=case_flow.shuffled_options(question, attempt.attempt_id),
        done=done,
        answer=answer,
        chosen=chosen,
        confidence_choices=learning_flow.CONFIDENCE_CHOICES,
        stated_confidence=learning_flow.confidence_label(answer),
        rationale=Markup(render_markdown(localized(question["rationale"]))),
        facts=patient_facts(smart_session(), runtime().library, module),
        error=error,
    )


def guideline_summary(module: dict) -> Markup | None:
    """The module's guideline summary in the UI language, rendered; None when it has none."""
    summary = module["guideline"].get("summary")
    return Markup(render_markdown(localized(summary))) if summary else None


def question_url(module: dict, attempt_id: str, number: int) -> str:
    """The URL of a question of an attempt."""
    return url_for("ui.case_question", module_id=module["id"], attempt_id=attempt_id, number=number)


def result_url(module: dict, attempt_id: str, *, replayed: bool = False) -> str:
    """The URL of an attempt's result; `replayed` says the last finish repeated an earlier one."""
    extra = {"replayed": "1"} if replayed else {}
    return url_for("ui.case_result", module_id=module["id"], attempt_id=attempt_id, **extra)
