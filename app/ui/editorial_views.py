"""Critique that changes content: report an error, disagree, suggest an update; the editors' queue.

Learners file items from the case page and from a post; CDS override reasons that critique the
content file items by themselves, when the feedback arrives (app/collaboration). Viewing the
queue or the notices files, changes and syncs nothing; it only notes, at most daily, that an editor
or moderator holds their role (who hears of new items). Editors triage, reply and link an item to a
module field; an item is resolved only when a reviewed new module version cites it (queue.py).
"""

from __future__ import annotations

from datetime import datetime

from flask import redirect, request, url_for
from flask_babel import gettext, lazy_gettext, lazy_pgettext
from werkzeug.wrappers import Response

from app.collaboration import collaboration, queue
from app.collaboration.posting import PostingTooFast, page_span
from app.collaboration.roles import EDIT_QUEUE, MODERATE
from app.collaboration.store import (
    CDS_REPORTER,
    CollaborationError,
    Item,
    NotFound,
    iso,
    timestamp,
)
from app.ledger.models import PatientDataRefused
from app.ui.discussion_views import (
    BODY_MAX,
    FormAnswer,
    can,
    form_answer,
    refused_text,
    rendered,
    require,
    store,
    text_error,
    too_fast_text,
    visible_post,
)
from app.ui.page_context import learner_id, module_or_404, runtime, smart_session
from app.ui.views import bp, page

KIND_LABELS = {
    "error": lazy_gettext("Report an error"),
    "evidence": lazy_gettext("Disagree with the evidence"),
    "update": lazy_gettext("Suggest an update"),
    "more-info": lazy_gettext("Needs more information"),
}
STATUS_LABELS = {
    "new": lazy_gettext("New"),
    "accepted": lazy_pgettext("critique status", "Accepted"),
    "rejected": lazy_gettext("Rejected"),
    "resolved": lazy_gettext("Resolved"),
}


@bp.context_processor
def editorial_labels() -> dict:
    """The kind and status labels every editorial template shows."""
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS}


def my_keys() -> set[str]:
    """Every key the signed-in clinician's items and notices may be filed under."""
    session = smart_session()
    return collaboration().reporter_keys(learner_id(), session.issuer, session.user)


def noted_keys() -> set[str]:
    """my_keys, with its CDS keys noted as this learner's (so their notices can be mailed)."""
    keys = my_keys()
    store().note_keys(learner_id(), keys)
    return keys


@bp.route("/critique/<module_id>", methods=["GET", "POST"])
def critique(module_id: str) -> Response | FormAnswer:
    """Report an error, disagree with the evidence or suggest an update (optionally on a post)."""
    module = module_or_404(module_id)
    post_id = request.values.get("post") or None
    post = visible_post(post_id) if post_id else None
    if post is not None and store().thread(post.thread_id).scope_id != module_id:
        raise NotFound(post_id)  # a post is sent to the editors of its own module
    values = {"kind": "", "field": "", "body": ""}
    errors: dict[str, str] = {}
    too_fast = None
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in values}
        errors = critique_errors(module, values)
        if not errors:
            try:
                file_critique(module, values, post_id)
                return redirect(url_for("ui.notices", filed=1), 303)
            except PatientDataRefused:
                errors["body"] = refused_text()
            except PostingTooFast as refused:
                errors["body"], too_fast = too_fast_text(refused), refused
    html = page(
        "ui/critique.html",
        module=module,
        post=post,
        rendered=rendered,
        kinds=queue.LEARNER_KINDS,
        fields=queue.module_fields(module),
        values=values,
        errors=errors,
    )
    return form_answer(html, errors, too_fast)


def critique_errors(module: dict, values: dict) -> dict[str, str]:
    """What is wrong with a critique form."""
    errors = {}
    if values["kind"] not in queue.LEARNER_KINDS:
        errors["kind"] = gettext("Choose what kind of comment this is.")
    if values["field"] and values["field"] not in queue.module_fields(module):
        errors["field"] = gettext("Choose a part of the module from the list.")
    if refused := text_error(values["body"], minimum=10, maximum=BODY_MAX):
        errors["body"] = refused
    return errors


def file_critique(module: dict, values: dict, post_id: str | None) -> str:
    """File the learner's critique (once per post and learner when it comes from a post)."""
    source = "post" if post_id else "learner"
    reference = f"post:{post_id}:{learner_id()}" if post_id else None
    return store().file_item(
        module,
        values["kind"],
        values["body"],
        learner_id(),
        field=values["field"] or None,
        source=source,
        source_ref=reference,
    )


@bp.get("/editorial")
def editorial_queue() -> str:
    """The editors' queue: open items first, filterable by status."""
    require(EDIT_QUEUE)
    status = request.args.get("status", "open")
    if status not in queue.STATUSES:
        status = "open"
    statuses = queue.OPEN_STATUSES if status == "open" else (status,)
    span = page_span(store().item_count(statuses), request.args.get("page"))
    return page(
        "ui/editorial_queue.html",
        items=store().items(statuses, limit=span.size, offset=span.offset),
        span=span,
        status=status,
        statuses=queue.STATUSES,
        modules=runtime().library.modules,
    )


@bp.get("/editorial/<item_id>")
def editorial_item(item_id: str) -> str:
    """One item: what was reported, by what route, its history and the editor's actions."""
    require(EDIT_QUEUE)
    item = store().item(item_id)
    return item_page(item)


def item_page(item: Item, errors: dict | None = None, values: dict | None = None) -> str:
    """Render an item for an editor."""
    module = runtime().library.modules.get(item.module_id)
    events = store().events(item.item_id)
    return page(
        "ui/editorial_item.html",
        item=item,
        module=module,
        events=events,
        reporter=reporter_label(item),
        names=store().display_names({event.actor_id for event in events if event.actor_id}),
        fields=queue.module_fields(module) if module else [],
        triage=queue.TRIAGE_STATUSES,
        rendered=rendered,
        errors=errors or {},
        values=values or {"reply": ""},
    )


def reporter_label(item: Item) -> str:
    """Who filed an item, as an editor may see it (a display name, never an EHR identity)."""
    if item.reporter_key.startswith(CDS_REPORTER):
        return gettext("A clinician, through a CDS card override")
    return store().display_name(item.reporter_key) or gettext("A learner")


@bp.post("/editorial/<item_id>/status")
def editorial_status(item_id: str) -> Response | tuple[str, int]:
    """Triage an item: new, accepted or rejected (resolved comes only from a release)."""
    require(EDIT_QUEUE)
    try:
        store().triage(item_id, request.form.get("status", ""), learner_id())
    except NotFound:
        raise
    except CollaborationError:  # not a triage status, or resolved (by a release, perhaps just now)
        message = gettext("Choose new, accepted or rejected; a resolved item stays resolved.")
        return item_page(store().item(item_id), {"status": message}), 400
    return redirect(url_for("ui.editorial_item", item_id=item_id), 303)


@bp.post("/editorial/<item_id>/field")
def editorial_field(item_id: str) -> Response:
    """Link an item to the module field it concerns."""
    require(EDIT_QUEUE)
    item = store().item(item_id)
    module = module_or_404(item.module_id)
    field = request.form.get("field", "")
    if field in queue.module_fields(module):
        store().link_field(item_id, field, learner_id())
    return redirect(url_for("ui.editorial_item", item_id=item_id), 303)


@bp.post("/editorial/<item_id>/reply")
def editorial_reply(item_id: str) -> Response | tuple[str, int]:
    """Reply to the item's reporter (an in-app notice)."""
    require(EDIT_QUEUE)
    item = store().item(item_id)
    message = request.form.get("reply", "").strip()
    if refused := text_error(message, minimum=2, maximum=BODY_MAX):
        return item_page(item, {"reply": refused}, {"reply": message}), 400
    try:
        store().reply_to_reporter(item_id, learner_id(), message)
    except PatientDataRefused:
        return item_page(item, {"reply": refused_text()}, {"reply": message}), 400
    return redirect(url_for("ui.editorial_item", item_id=item_id), 303)


@bp.get("/notices")
def notices() -> str:
    """The clinician's notices (editors' replies, triage, resolution) and the items they filed."""
    for permission in (EDIT_QUEUE, MODERATE):  # who gets notices of new items, reported posts
        store().note_role(learner_id(), permission, held=can(permission))
    keys = noted_keys()
    shown = timestamp()  # before the notices are read: a notice written later stays unread
    items = store().items_reported_by(keys)
    span = page_span(store().notice_count(keys), request.args.get("page"))
    return page(
        "ui/notices.html",
        notices=store().notices(keys, limit=span.size, offset=span.offset),
        span=span,
        items=items,
        by_id={item.item_id: item for item in items},
        modules=runtime().library.modules,
        filed=request.args.get("filed") == "1",
        shown_at=shown,
    )


@bp.post("/notices/read")
def notices_read() -> Response:
    """Mark read the notices there were when the page was shown (one arriving since stays new)."""
    store().mark_read(my_keys(), shown_at(request.form.get("shown_at", "")))
    return redirect(url_for("ui.notices"), 303)


def shown_at(value: str) -> str | None:
    """The page's time from the form, as the store writes times; None if it is not one."""
    try:
        moment = datetime.fromisoformat(value)
        return iso(moment) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # not a time, or one beyond datetime's range in UTC
        return None
