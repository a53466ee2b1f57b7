"""Discussions on module versions (/app/discuss): threads, replies, edits, reports, moderation.

Peers appear under the display names they chose (never EHR ids); every text passes the
patient-data guard used for point-of-care questions, and a refused text comes back in its form.
A moderator hides and restores posts, or marks their reports handled; learners never read a hidden
post (404), nor moderate (403). The moderation page lists reported posts and, in a second list,
reported journal-club reflections (handled on the club pages' routes).
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from flask import redirect, request, url_for
from flask_babel import LazyString, gettext, lazy_gettext, ngettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.collaboration import collaboration
from app.collaboration.posting import (
    POSTING_WINDOW,
    POSTS_PER_WINDOW,
    PostingTooFast,
    last_page,
    page_span,
)
from app.collaboration.roles import EDIT_QUEUE, MODERATE, permissions_of
from app.collaboration.store import (
    CollaborationStore,
    NameMixesScripts,
    NameTaken,
    NotFound,
    Post,
)
from app.i18n import ago
from app.journal_clubs import journal_clubs
from app.ledger.models import PatientDataRefused
from app.library.markdown import render_post_markdown
from app.smart import current_smart_session
from app.ui.page_context import launched_patient_terms, learner_id, module_or_404
from app.ui.poc_forms import patient_data_error
from app.ui.views import bp, error_page, page

TITLE_MAX, BODY_MAX, NAME_MAX = 120, 5000, 40
FormAnswer = str | tuple[str, int] | tuple[str, int, dict[str, str]]
MODULE_SCOPE = "module"
REFLECTIONS_LIST = "reflections"  # the moderation page's second list (`show`); posts by default
HIDDEN_LIST = "hidden-reflections"  # its third: hidden reflections, restored from here
CASE_SCOPE = "case"  # a teaching case's thread: read and answered on its case's page
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
# Posts are read by peers, so a date of birth is refused for any patient, not only the launched
# one the shared guard knows: a date written next to "DOB", "born", "date of birth" (or Spanish).
BIRTH_DATE_MENTION = re.compile(
    r"(?i)\b(d\.?o\.?b\.?|date of birth|born(?: on)?|fecha de nacimiento|f\.? ?nac\.?|"
    r"nacid[oa](?: el)?)\W{0,3}\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
)


class NotPermitted(Exception):
    """The signed-in clinician's roles do not allow this."""


def answer_with_page(
    exception: type[Exception], status: int, title: LazyString, message: LazyString
) -> None:
    """Answer an exception of the collaborative pages with a translated page (lazy texts)."""
    bp.register_error_handler(exception, lambda error: error_page(status, str(title), str(message)))


# A page or action the user's roles do not allow, and an unknown (or hidden) thread, post or item.
answer_with_page(
    NotPermitted,
    403,
    lazy_gettext("Not allowed"),
    lazy_gettext("Your role does not allow this page or action, so nothing was changed."),
)
answer_with_page(
    NotFound, 404, lazy_gettext("Not found"), lazy_gettext("There is no such page, post or item.")
)


@bp.context_processor
def collaboration_helpers() -> dict:
    """Let templates ask what the signed-in clinician may do, and say when something happened."""
    return {"can": can, "when": when}


def store() -> CollaborationStore:
    """This app's discussions and queue store."""
    return collaboration().store


def can(permission: str) -> bool:
    """Tell whether the signed-in clinician's roles grant a permission."""
    session = current_smart_session()
    if session is None:
        return False
    roles = collaboration().role_map.roles_of(session.issuer, session.user, session.id_claims)
    return permission in permissions_of(roles)


def when(moment: str | None) -> str:
    """How long ago a stored moment (ISO 8601 text) was, in the UI language."""
    return ago(datetime.fromisoformat(moment)) if moment else ""


def require(permission: str) -> None:
    """Refuse (403) unless the signed-in clinician's roles grant the permission."""
    held = can(permission)
    if permission in (EDIT_QUEUE, MODERATE) and current_smart_session() is not None:
        store().note_role(learner_id(), permission, held=held)  # they get notices of their work
    if not held:
        raise NotPermitted(permission)


def text_error(value: str, *, minimum: int, maximum: int) -> str | None:
    """Why a text cannot be posted (length or patient data), or None."""
    if len(value) < minimum:
        return gettext("Write at least %(count)d characters.", count=minimum)
    if len(value) > maximum:
        return gettext("Keep it under %(count)d characters.", count=maximum)
    if BIRTH_DATE_MENTION.search(value):
        return gettext(
            "This text looks like it contains a patient's date of birth. Bedside never records "
            "patient data: please rewrite it with the age instead."
        )
    return patient_data_error(value, launched_patient_terms())


def refused_text() -> str:
    """The message when the store's own guard refuses a text the form check let through."""
    return gettext(
        "Bedside never records patient data, and this text looks like it contains some. "
        "Please rewrite it without anything that identifies the patient."
    )


def too_fast_text(error: PostingTooFast) -> str:
    """Why a post was not taken (the learner's posting budget), and when to send it again."""
    minutes = max(1, math.ceil(error.wait_seconds / 60))
    return ngettext(
        "You have posted %(count)d times in the last %(window)d minutes. Wait %(num)d minute"
        " and send it again: your text is kept here.",
        "You have posted %(count)d times in the last %(window)d minutes. Wait %(num)d minutes"
        " and send it again: your text is kept here.",
        minutes,
        count=POSTS_PER_WINDOW,
        window=int(POSTING_WINDOW.total_seconds() // 60),
    )


def form_answer(html: str, errors: dict, too_fast: PostingTooFast | None = None) -> FormAnswer:
    """A form page: as is, 400 with its errors, or 429 with Retry-After over the posting budget."""
    if too_fast is not None:
        return html, 429, {"Retry-After": str(too_fast.wait_seconds)}
    return (html, 400) if errors else html


def visible_post(post_id: str) -> Post:
    """A post the signed-in clinician may see: hidden ones only to moderators (else 404)."""
    post = store().post(post_id)
    if post.hidden and not can(MODERATE):
        raise NotFound(post_id)
    return post


def rendered(body: str) -> Markup:
    """What a user wrote, as safe HTML: Markdown without headings of its own."""
    return Markup(render_post_markdown(body))


@bp.route("/discuss/<module_id>", methods=["GET", "POST"])
def discussion(module_id: str) -> Response | FormAnswer:
    """A module's threads (every version, a page at a time), and a form to start one."""
    module = module_or_404(module_id)
    values = {"title": "", "body": ""}
    errors: dict[str, str] = {}
    too_fast = None
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in values}
        errors = thread_errors(values)
        if not errors:
            try:
                thread_id = store().start_thread(
                    MODULE_SCOPE,
                    module_id,
                    module["version"],
                    values["title"],
                    learner_id(),
                    values["body"],
                )
                return redirect(url_for("ui.thread_view", thread_id=thread_id), 303)
            except PatientDataRefused:
                errors["body"] = refused_text()
            except PostingTooFast as refused:
                errors["body"], too_fast = too_fast_text(refused), refused
    span = page_span(store().thread_count(MODULE_SCOPE, module_id), request.args.get("page"))
    threads = store().threads(MODULE_SCOPE, module_id, limit=span.size, offset=span.offset)
    html = page(
        "ui/discussion.html",
        module=module,
        threads=threads,
        span=span,
        names=store().display_names({t.author_id for t in threads}),
        my_name=store().display_name(learner_id()),
        values=values,
        errors=errors,
    )
    return form_answer(html, errors, too_fast)


def thread_errors(values: dict) -> dict[str, str]:
    """What is wrong with a new thread's title and opening post."""
    errors = {}
    if not store().display_name(learner_id()):
        errors["title"] = gettext("Choose the name your peers will see before you post.")
    elif refused := text_error(values["title"], minimum=5, maximum=TITLE_MAX):
        errors["title"] = refused
    if refused := text_error(values["body"], minimum=2, maximum=BODY_MAX):
        errors["body"] = refused
    return errors


@bp.route("/discuss/thread/<thread_id>", methods=["GET", "POST"])
def thread_view(thread_id: str) -> Response | FormAnswer:
    """A page of a thread's posts (hidden ones as a placeholder to learners) and a reply form.

    Only a module's threads: a teaching case's thread is read and answered on its case's page,
    which checks who may see the case.
    """
    thread = store().thread(thread_id)
    if thread.scope != MODULE_SCOPE:
        raise NotFound(thread_id)
    values, errors = {"body": ""}, {}
    too_fast = None
    if request.method == "POST":
        values["body"] = request.form.get("body", "").strip()
        if not store().display_name(learner_id()):
            errors["body"] = gettext("Choose the name your peers will see before you post.")
        elif refused := text_error(values["body"], minimum=2, maximum=BODY_MAX):
            errors["body"] = refused
        else:
            try:
                store().reply(thread_id, learner_id(), values["body"])
                newest = last_page(store().post_count(thread_id))
                return redirect(url_for("ui.thread_view", thread_id=thread_id, page=newest), 303)
            except PatientDataRefused:
                errors["body"] = refused_text()
            except PostingTooFast as refused_now:
                errors["body"], too_fast = too_fast_text(refused_now), refused_now
    return form_answer(thread_page(thread, values, errors), errors, too_fast)


@bp.post("/discuss/thread/<thread_id>/title")
def thread_title(thread_id: str) -> Response | tuple[str, int]:
    """A moderator replaces a module thread's title (one that identifies a patient, say)."""
    require(MODERATE)
    thread = store().thread(thread_id)
    if thread.scope != MODULE_SCOPE:
        raise NotFound(thread_id)
    title = request.form.get("title", "").strip()
    refused = text_error(title, minimum=5, maximum=TITLE_MAX)
    if not refused:
        try:
            store().retitle_thread(thread_id, title)
            return redirect(url_for("ui.thread_view", thread_id=thread_id), 303)
        except PatientDataRefused:
            refused = refused_text()
    return thread_page(thread, {"body": "", "title": title}, {"title": refused}), 400


def thread_page(thread, values: dict, errors: dict) -> str:
    """Render a page of a thread's posts and the reply form."""
    span = page_span(store().post_count(thread.thread_id), request.args.get("page"))
    posts = store().posts(thread.thread_id, limit=span.size, offset=span.offset)
    return page(
        "ui/discussion_thread.html",
        thread=thread,
        module=module_or_404(thread.scope_id),
        posts=posts,
        span=span,
        names=store().display_names({post.author_id for post in posts}),
        me=learner_id(),
        moderator=can(MODERATE),
        rendered=rendered,
        values=values,
        errors=errors,
    )


@bp.route("/discuss/post/<post_id>/edit", methods=["GET", "POST"])
def post_edit(post_id: str) -> Response | tuple[str, int] | str:
    """The author changes their post; the earlier text stays in its history."""
    post = visible_post(post_id)
    if post.author_id != learner_id():
        raise NotPermitted("edit")
    values, errors = {"body": post.body}, {}
    if request.method == "POST":
        values["body"] = request.form.get("body", "").strip()
        if refused := text_error(values["body"], minimum=2, maximum=BODY_MAX):
            errors["body"] = refused
        else:
            try:
                store().edit_post(post_id, learner_id(), values["body"])
                return redirect(thread_url(post.thread_id), 303)
            except PatientDataRefused:
                errors["body"] = refused_text()
    html = page(
        "ui/discussion_edit.html",
        post=post,
        back=thread_url(post.thread_id),
        values=values,
        errors=errors,
    )
    return (html, 400) if errors else html


@bp.get("/discuss/post/<post_id>/history")
def post_history(post_id: str) -> str:
    """A post's earlier texts, oldest first, then the current one (its author and moderators)."""
    post = visible_post(post_id)
    if post.author_id != learner_id() and not can(MODERATE):
        raise NotFound(post_id)  # what was edited away is not for every reader
    return page(
        "ui/discussion_history.html",
        post=post,
        back=thread_url(post.thread_id),
        edits=store().edits(post_id),
        rendered=rendered,
    )


@bp.post("/discuss/post/<post_id>/report")
def post_report(post_id: str) -> Response:
    """Flag a post for the moderators (once per learner)."""
    post = visible_post(post_id)
    store().report_post(post_id, learner_id())
    return redirect(thread_url(post.thread_id, reported=post_id), 303)


@bp.post("/discuss/post/<post_id>/hide")
def post_hide(post_id: str) -> Response:
    """A moderator hides a post from learners (its text is kept)."""
    return set_hidden(post_id, hidden=True)


@bp.post("/discuss/post/<post_id>/restore")
def post_restore(post_id: str) -> Response:
    """A moderator shows a hidden post again."""
    return set_hidden(post_id, hidden=False)


@bp.post("/discuss/post/<post_id>/handled")
def post_handled(post_id: str) -> Response:
    """A moderator marks a post's reports handled: it leaves the list until reported again."""
    require(MODERATE)
    post = store().post(post_id)
    store().dismiss_reports(post_id, learner_id())
    return back_from_moderation(thread_url(post.thread_id))


def set_hidden(post_id: str, *, hidden: bool) -> Response:
    """Hide or restore a post (moderators only), then go back where the moderator came from."""
    require(MODERATE)
    post = store().post(post_id)
    store().set_hidden(post_id, learner_id(), hidden=hidden)
    return back_from_moderation(thread_url(post.thread_id))


def back_from_moderation(elsewhere: str, **listing: str) -> Response:
    """After a moderator's action: back to the moderation list it came from, else `elsewhere`."""
    if request.form.get("next") == "moderation":
        return redirect(url_for("ui.moderation", **listing), 303)
    return redirect(elsewhere, 303)


def thread_url(thread_id: str, **args: str) -> str:
    """Where a thread is read: a teaching case's on its case's page, a module's on its own page."""
    thread = store().thread(thread_id)
    if thread.scope == CASE_SCOPE:
        return url_for("ui.case_view", case_id=thread.scope_id, **args)
    return url_for("ui.thread_view", thread_id=thread_id, **args)


@bp.get("/moderation")
def moderation() -> str:
    """Reported posts or club reflections not yet handled (most reported first), or the hidden
    reflections, which only this page can restore (a club's page is its members')."""
    require(MODERATE)
    totals = {"posts": store().reported_post_count()}
    totals[REFLECTIONS_LIST] = journal_clubs().reported_reflection_count()
    totals[HIDDEN_LIST] = journal_clubs().hidden_reflection_count()
    listing = request.args.get("show") if request.args.get("show") in totals else "posts"
    span = page_span(totals[listing], request.args.get("page"))
    if listing == REFLECTIONS_LIST:
        reported = journal_clubs().reported_reflections(limit=span.size, offset=span.offset)
    elif listing == HIDDEN_LIST:
        hidden = journal_clubs().hidden_reflections(limit=span.size, offset=span.offset)
        reported = [(reflection, None) for reflection in hidden]
    else:
        reported = store().reported_posts(limit=span.size, offset=span.offset)
    clubs = journal_clubs().club_titles({row.club_id for row, _ in reported if listing != "posts"})
    return page(
        "ui/moderation.html",
        listing=listing,
        totals=totals,
        reported=reported,
        clubs=clubs,
        span=span,
        names=store().display_names({row.author_id for row, _ in reported}),
        rendered=rendered,
        thread_url=thread_url,
    )


@bp.route("/discuss/name", methods=["GET", "POST"])
def display_name() -> Response | tuple[str, int] | str:
    """Choose the name peers see on your posts (never your EHR identity)."""
    current = store().display_name(learner_id()) or ""
    values, errors = {"name": current}, {}
    if request.method == "POST":
        values["name"] = " ".join(request.form.get("name", "").split())
        if refused := text_error(values["name"], minimum=3, maximum=NAME_MAX):
            errors["name"] = refused
        else:
            try:
                store().set_display_name(learner_id(), values["name"])
                return redirect(safe_next(request.form.get("next")), 303)
            except NameTaken:
                errors["name"] = gettext("Another learner already uses this name.")
            except NameMixesScripts:
                errors["name"] = gettext(
                    "Write your name in one alphabet: letters that look alike from different "
                    "alphabets could pass for another learner's name."
                )
            except PatientDataRefused:
                errors["name"] = refused_text()
    next_url = safe_next(request.values.get("next"))
    html = page("ui/display_name.html", values=values, errors=errors, next_url=next_url)
    return (html, 400) if errors else html


def safe_next(target: str | None) -> str:
    """Where to go after choosing a name: a path inside /app, else the start page."""
    if target and target.startswith("/app/") and not CONTROL_CHARACTER.search(target):
        return target  # (a control character cannot go in a Location header)
    return url_for("ui.home")
