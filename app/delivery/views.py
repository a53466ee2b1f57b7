"""The /mail pages e-mail links open: answer a question, confirm an address, unsubscribe.

None needs a sign-in: the signed link is the authority (so no CSRF token either: a forged POST
would need the link). Every GET only shows a page with a button, because mail scanners fetch the
links in a message; the POST from that page acts. The unsubscribe URL also takes the RFC 8058
one-click POST a mail client sends (`List-Unsubscribe=One-Click`). A link that is tampered with,
expired or already used gets a readable page with a 4xx status, never a 500.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext, lazy_gettext
from sqlalchemy.exc import OperationalError as DatabaseBusy

from app import i18n
from app.delivery.links import ANSWER, CONFIRM, UNSUBSCRIBE, LinkRefused, Links
from app.delivery.outbox import find_question
from app.delivery.schedule import stamp
from app.delivery.store import AnswerToken, DeliveryStore, TokenRefused
from app.learning.mastery import normalize_confidence
from app.learning.profile_store import AnswerEvent
from app.public_url import public_base_url

bp = Blueprint("delivery", __name__, url_prefix="/mail")
CONFIDENCES = ("low", "medium", "high")


@bp.get("/answer")
def answer_page() -> tuple[str, int]:
    """Show the question with the chosen option selected and a button to record it."""
    _token, module, question = answer_parts()
    choice = request.args.get("choice", "")
    return page("delivery/answer.html", module=module, question=question, choice=choice), 200


@bp.post("/answer")
def answer_record() -> tuple[str, int]:
    """Record the answer once: mastery and the review schedule move; the token is spent."""
    token, module, question = answer_parts()
    choice = request.form.get("choice", "")
    if choice not in {option["id"] for option in question["options"]}:
        return page("delivery/answer.html", module=module, question=question, choice=""), 400
    confidence = request.form.get("confidence", "")
    event = AnswerEvent(
        attempt_id=f"mail:{token.token_id}",
        topic=token.module_id,
        item_id=token.item_id,
        correct=choice == question["answer"],
        confidence=normalize_confidence(confidence if confidence in CONFIDENCES else None),
        answered_at=datetime.now(UTC),
    )
    applied = current_app.extensions["learning"].apply_answer(token.learner_id, event)
    try:
        store().use_token(token.token_id, stamp(datetime.now(UTC)))
    except TokenRefused:
        applied = False  # a concurrent POST spent it; the answer counted once (learning_applied)
    if not applied:
        return refused("used")
    return page(
        "delivery/answered.html", module=module, question=question, correct=event.correct
    ), 200


@bp.get("/confirm")
def confirm_page() -> tuple[str, int]:
    """Ask the learner to confirm the address (a scanner's GET confirms nothing)."""
    read_link(CONFIRM)
    return page("delivery/confirm_page.html"), 200


@bp.post("/confirm")
def confirm_address() -> tuple[str, int]:
    """Activate the subscription: from now on due questions are mailed."""
    if store().confirm(read_link(CONFIRM)) is None:
        return refused("stopped")
    return page("delivery/done.html", message=gettext("Your address is confirmed.")), 200


@bp.get("/unsubscribe")
def unsubscribe_page() -> tuple[str, int]:
    """Offer the one button that stops the e-mails."""
    read_link(UNSUBSCRIBE)
    return page("delivery/unsubscribe_page.html"), 200


@bp.post("/unsubscribe")
def unsubscribe() -> tuple[str, int]:
    """Stop the e-mails (the page's button, or a mail client's RFC 8058 one-click POST)."""
    store().unsubscribe(read_link(UNSUBSCRIBE))
    return page("delivery/done.html", message=gettext("You will get no more e-mails.")), 200


@bp.errorhandler(LinkRefused)
@bp.errorhandler(TokenRefused)
def link_refused(error: Exception) -> tuple[str, int]:
    """A bad link: a readable page, 400 (tampered), 410 (expired or gone) or 409 (used)."""
    return refused(str(error))


TAMPERED = lazy_gettext("This link is not valid. Use the link in the e-mail exactly as it came.")


@bp.errorhandler(DatabaseBusy)
@bp.errorhandler(sqlite3.OperationalError)
def database_busy(_error: Exception) -> tuple[str, int]:
    """The database stayed locked: the transaction rolled back, so nothing was recorded."""
    message = gettext("Nothing was recorded just now. Try the link again in a moment.")
    return page("delivery/done.html", message=message), 503


REFUSALS = {
    "tampered": (400, TAMPERED),
    "unknown": (400, TAMPERED),
    "expired": (410, lazy_gettext("This link has expired. A new question will come later.")),
    "gone": (410, lazy_gettext("This question is no longer in the library.")),
    "used": (409, lazy_gettext("This question was already answered; the answer counted once.")),
    "stopped": (
        410,
        lazy_gettext("This address was unsubscribed. Opt in again from your Bedside profile."),
    ),
}


def refused(reason: str) -> tuple[str, int]:
    """The page for a refused link."""
    status, message = REFUSALS.get(reason, REFUSALS["tampered"])
    return page("delivery/done.html", message=str(message), refused=True), status


def answer_parts() -> tuple[AnswerToken, dict, dict]:
    """The usable token of this answer link, its module and its question (or a refusal)."""
    token_id = read_link(ANSWER)
    token = store().token(token_id, stamp(datetime.now(UTC)))
    module = current_app.extensions["ui"].library.modules.get(token.module_id)
    question = find_question(module, token.item_id) if module else None
    if question is None:
        raise TokenRefused("gone")
    return token, module, question


def read_link(purpose: str) -> str:
    """The id carried by this request's signed link (`t`); LinkRefused if it is not valid."""
    signed = request.values.get("t", "")
    return Links(current_app.config["SECRET_KEY"], public_base_url()).read(purpose, signed)


def store() -> DeliveryStore:
    """This app's delivery store."""
    return current_app.extensions["delivery"]


def page(template: str, **context) -> str:
    """Render a /mail page in the link's language."""
    return render_template(
        template,
        lang=i18n.language(),
        localized=i18n.localized,
        confidences=CONFIDENCES,
        signed=request.values.get("t", ""),
        **context,
    )
