"""Case conferences (/app/cases): a launched encounter turned into a de-identified teaching case.

The author drafts a vignette from the launched patient's FHIR data (Safe Harbor identifiers
removed), edits it (every save is checked for Safe Harbor identifiers as the draft was, and for
the source patient's own terms whichever patient is launched now; a refusal names the kind found),
and submits it; a moderator approves it before anyone else sees it (others get 404), and peers
then discuss it in a collaboration thread shown on the case page.
"""

from __future__ import annotations

from dataclasses import replace

from flask import redirect, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.wrappers import Response

from app.case_conferences import case_conferences
from app.case_conferences.store import (
    CaseChanged,
    CaseNotFound,
    CaseStateError,
    IdentifierFound,
    OwnCaseReview,
    TeachingCase,
)
from app.case_conferences.vignette import VIGNETTE_MAX, draft_vignette
from app.collaboration.posting import PostingTooFast, last_page, page_span
from app.collaboration.roles import MODERATE
from app.ledger.models import PatientDataRefused
from app.ledger.privacy import NO_TERMS, IdentifyingTerms
from app.smart import FhirRequestError, fhir_get
from app.ui.discussion_views import (
    CASE_SCOPE,
    FormAnswer,
    answer_with_page,
    can,
    form_answer,
    refused_text,
    rendered,
    require,
    store,
    text_error,
    too_fast_text,
)
from app.ui.facts import read_record
from app.ui.page_context import launched_patient_terms, learner_id, smart_session
from app.ui.views import bp, error_page, page

TITLE_MAX, BODY_MAX = 120, 5000
# Catalogue markers for the templates the pure vignette drafter writes in (it is not scanned by
# Babel); tests/case_conferences/test_deidentify.py checks this list matches vignette.message_ids.
VIGNETTE_TEXTS = (
    lazy_gettext("A {age}-year-old woman"),
    lazy_gettext("A {age}-year-old man"),
    lazy_gettext("A {age}-year-old person"),
    lazy_gettext("A {age}-year-old girl"),
    lazy_gettext("A {age}-year-old boy"),
    lazy_gettext("A {age}-year-old child"),
    lazy_gettext("A woman aged 90 or older"),
    lazy_gettext("A man aged 90 or older"),
    lazy_gettext("A person aged 90 or older"),
    lazy_gettext("A woman"),
    lazy_gettext("A man"),
    lazy_gettext("A person"),
    lazy_gettext("{who} from {state}."),
    lazy_gettext("Day 0 is the day of the encounter."),
    lazy_gettext("Day 0 is the earliest date in the record."),
    lazy_gettext("Reason for the encounter: {reason}"),
    lazy_gettext("day {number}"),
    lazy_gettext("(not named)"),
    lazy_gettext("Problems"),
    lazy_gettext("Findings"),
    lazy_gettext("Medications"),
    lazy_gettext("Allergies"),
    lazy_gettext("Some entries were left out: the record is longer than a teaching case can hold."),
)
# What the Safe Harbor check found in a case's text, by the kind the store names.
IDENTIFIER_KINDS = {
    "record": lazy_gettext("a name, number or place from the patient's record"),
    "date": lazy_gettext("a date more precise than the year"),
    "age": lazy_gettext("an age over 89"),
    "birth year": lazy_gettext("a birth year that tells an age over 89"),
    "url": lazy_gettext("a web address"),
    "e-mail": lazy_gettext("an e-mail address"),
    "ip address": lazy_gettext("an IP address"),
    "id": lazy_gettext("a record, account or device number"),
    "phone": lazy_gettext("a phone number"),
    "zip": lazy_gettext("a ZIP code"),
    "address": lazy_gettext("a street address"),
}


# An unknown case, or one not yet approved for this clinician to read.
answer_with_page(
    CaseNotFound, 404, lazy_gettext("Not found"), lazy_gettext("There is no such teaching case.")
)
# A step the case's review state does not allow.
answer_with_page(
    CaseStateError,
    409,
    lazy_gettext("Not possible now"),
    lazy_gettext("The case is not at a step that allows this, so nothing was changed."),
)
# The case was edited or reviewed after the moderator opened it.
answer_with_page(
    CaseChanged,
    409,
    lazy_gettext("The case changed"),
    lazy_gettext(
        "The case changed since you opened it, so nothing was changed. Open it again"
        " to review what it says now."
    ),
)
# A moderator's own case goes to another moderator.
answer_with_page(
    OwnCaseReview,
    403,
    lazy_gettext("Not your review"),
    lazy_gettext("Another moderator reviews the cases you wrote, so nothing was changed."),
)


@bp.get("/cases")
def teaching_cases() -> str:
    """Approved cases, the author's own, and (for moderators) the cases awaiting review."""
    cases = case_conferences()
    return page(
        "ui/cases.html",
        approved=cases.cases("approved"),
        mine=cases.cases_by(learner_id()),
        pending=cases.cases("submitted") if can(MODERATE) else [],
        has_patient=bool(smart_session().patient),
    )


@bp.post("/cases/draft")
def case_draft() -> Response | tuple[str, int]:
    """Draft a de-identified vignette of the launched encounter, in the author's UI language."""
    session = smart_session()
    if not session.patient:
        return error_page(
            400,
            gettext("No patient"),
            gettext("Launch Bedside from a patient's chart to turn the encounter into a case."),
        )
    resources = launched_resources(session)
    if resources is None:
        return error_page(
            502,
            gettext("Record not available"),
            gettext("The EHR did not return this patient's record. Try again later."),
        )
    title = gettext("Teaching case")
    try:
        vignette = draft_vignette(resources, gettext)
        case_id = case_conferences().draft(
            learner_id(), title, vignette, launched_patient_terms(), source=resources
        )
    except PatientDataRefused:
        return error_page(
            422,
            gettext("Draft refused"),
            gettext("The drafted text still looked like patient data, so nothing was kept."),
        )
    return redirect(url_for("ui.case_edit", case_id=case_id), 303)


def launched_resources(session) -> list[dict] | None:
    """The launched patient, encounter and record (None when the EHR cannot give the patient)."""
    try:
        patient = fhir_get(session, f"Patient/{session.patient}")
    except FhirRequestError:
        return None
    encounter = []
    if session.encounter:
        try:
            encounter = [fhir_get(session, f"Encounter/{session.encounter}")]
        except FhirRequestError:
            encounter = []
    record, _ = read_record(session)
    return [patient, *encounter, *(r for found in record.values() for r in found)]


@bp.route("/cases/<case_id>/edit", methods=["GET", "POST"])
def case_edit(case_id: str) -> Response | tuple[str, int] | str:
    """The author edits the draft; the patient-data guard runs on every save."""
    case = case_conferences().authors_case(case_id, learner_id())
    values = {"title": case.title, "vignette": case.vignette}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {key: as_typed(request.form.get(key, "")) for key in values}
        errors = case_errors(values)
        if not errors:
            try:
                case_conferences().edit(
                    case_id, learner_id(), values["title"], values["vignette"], guard_terms()
                )
                return redirect(url_for("ui.case_edit", case_id=case_id, saved=1), 303)
            except IdentifierFound as found:
                errors[found.field] = identifier_text(found.kind)
            except PatientDataRefused:
                errors["vignette"] = refused_text()
    html = page(
        "ui/case_edit.html",
        case=case,
        values=values,
        errors=errors,
        saved=bool(request.args.get("saved")),
        rendered=rendered,
    )
    return (html, 400) if errors else html


def as_typed(value: str) -> str:
    """A form text as typed, with a browser's CRLF line ends as the draft's LF (its length)."""
    return value.replace("\r\n", "\n").strip()


def identifier_text(kind: str) -> str:
    """Why a case's text was refused, naming the kind of identifier found (never the text)."""
    return gettext(
        "This text looks like it contains a patient identifier (%(kind)s). Bedside never "
        "records patient data: please rewrite it without names, numbers or references "
        "that identify the patient.",
        kind=str(IDENTIFIER_KINDS.get(kind, kind)),
    )


def case_errors(values: dict[str, str]) -> dict[str, str]:
    """What is wrong with a case's title and vignette."""
    errors = {}
    if refused := text_error(values["title"], minimum=5, maximum=TITLE_MAX):
        errors["title"] = refused
    if refused := text_error(values["vignette"], minimum=20, maximum=VIGNETTE_MAX):
        errors["vignette"] = refused
    return errors


def guard_terms() -> IdentifyingTerms:
    """The launched patient's identifying terms, when the author's launch has a patient."""
    return launched_patient_terms() if smart_session().patient else NO_TERMS


@bp.post("/cases/<case_id>/submit")
def case_submit(case_id: str) -> Response:
    """The author sends the case to the moderators."""
    case_conferences().submit(case_id, learner_id())
    return redirect(url_for("ui.case_view", case_id=case_id), 303)


@bp.post("/cases/<case_id>/review")
def case_review(case_id: str) -> Response | tuple[str, int]:
    """A moderator approves (opening its discussion) or rejects a submitted case."""
    require(MODERATE)
    case = case_conferences().case(case_id)
    decision = request.form.get("decision")
    if decision not in {"approve", "reject"}:
        return error_page(
            400, gettext("Choose a decision"), gettext("Approve the case or send it back.")
        )
    approve = decision == "approve"
    seen = request.form.get("seen", "")
    case_conferences().review(case_id, learner_id(), approve=approve, seen=seen)
    if approve:
        discussion_of(case)
    return redirect(url_for("ui.teaching_cases"), 303)


def discussion_of(case: TeachingCase) -> str:
    """The case's discussion thread: the one it has, else one opened now (approval's or a view's).

    Opened before it is attached (a thread of a case is shown only through its case), so a
    worker dying in between leaves no case pointing at a missing thread. Its id is the case's,
    so workers opening it at once open one thread between them.
    """
    if case.thread_id:
        return case.thread_id
    thread_id = store().start_thread(
        CASE_SCOPE,
        case.case_id,
        "",
        case.title,
        case.author_id,
        gettext("Discussion of this case."),
        budgeted=False,  # Bedside opens it in the author's name: their recent posts do not count
        thread_id=f"case-{case.case_id}",
    )
    return case_conferences().open_discussion(case.case_id, thread_id)


@bp.route("/cases/<case_id>", methods=["GET", "POST"])
def case_view(case_id: str) -> Response | FormAnswer:
    """A case for whoever may read it, and once approved its discussion with a reply form."""
    case = case_conferences().visible_case(case_id, learner_id(), can(MODERATE))
    if case.status == "approved":  # an approval whose discussion was not opened gets it now
        case = replace(case, thread_id=discussion_of(case))
    values, errors = {"body": ""}, {}
    too_fast = None
    if request.method == "POST":
        if case.status != "approved":
            raise CaseStateError(case_id)
        values["body"] = request.form.get("body", "").strip()
        if not store().display_name(learner_id()):
            errors["body"] = gettext("Choose the name your peers will see before you post.")
        elif refused := text_error(values["body"], minimum=2, maximum=BODY_MAX):
            errors["body"] = refused
        else:
            try:
                store().reply(case.thread_id, learner_id(), values["body"])
                newest = last_page(replies_in(case.thread_id))
                return redirect(url_for("ui.case_view", case_id=case_id, page=newest), 303)
            except PatientDataRefused:
                errors["body"] = refused_text()
            except PostingTooFast as refused_now:
                errors["body"], too_fast = too_fast_text(refused_now), refused_now
    return form_answer(case_page(case, values, errors), errors, too_fast)


def replies_in(thread_id: str) -> int:
    """How many replies a case's discussion has (the opening post left out)."""
    return max(0, store().post_count(thread_id) - 1)


def case_page(case: TeachingCase, values: dict, errors: dict) -> str:
    """Render a case with a page of its discussion (hidden posts as a note, but to moderators)."""
    span = page_span(replies_in(case.thread_id) if case.thread_id else 0, request.args.get("page"))
    posts = (
        store().posts(case.thread_id, limit=span.size, offset=span.offset + 1)
        if case.thread_id
        else []
    )
    return page(
        "ui/teaching_case.html",
        case=case,
        posts=posts,  # the first post only opens the thread
        span=span,
        names=store().display_names({post.author_id for post in posts}),
        mine=case.author_id == learner_id(),
        me=learner_id(),
        moderator=can(MODERATE),
        rendered=rendered,
        values=values,
        errors=errors,
    )
