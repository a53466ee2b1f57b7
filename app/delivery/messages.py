"""The e-mails Bedside sends, rendered with Jinja: HTML and plain-text parts, English or Spanish.

A review message carries one question; each option is a signed answer link that opens a page
asking to confirm (mail scanners fetch links; only the page's POST records the answer). Every
list message names its one-click unsubscribe (RFC 8058) in `List-Unsubscribe` and
`List-Unsubscribe-Post`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import render_template
from flask_babel import force_locale, gettext, lazy_gettext, ngettext

from app import i18n
from app.delivery.links import ANSWER, CONFIRM, UNSUBSCRIBE, Links
from app.delivery.notices import (
    ITEM_UPDATE,
    POST_REPORTED,
    QUEUE_ITEM,
    REFLECTION_REPORTED,
    THREAD_REPLY,
    MailNotice,
)
from app.learning.recommend import Recommendation


@dataclass(frozen=True)
class Envelope:
    """Who a message is from and to, and the links it is signed for."""

    sender: str
    recipient: str
    language: str
    links: Links
    unsubscribe_nonce: str


@dataclass(frozen=True)
class ReasonWording:
    """How the digest words a recommendation's reasons: as /app/next does, lent by the pages.

    Delivery sits below the pages (app.ui) and never imports them; the pages wire their wording
    under REASON_WORDING in app.extensions. Both are called inside the recipient's locale.
    """

    specialty: Callable[[str], str]  # a specialty code's name
    sentences: Callable[[Recommendation], list[str]]  # the reasons as the learner reads them


REASON_WORDING = "delivery.reason_wording"  # the app.extensions key the pages' wording is under
PLAIN_WORDING = ReasonWording(str, lambda item: item.reasons)  # when no pages are wired


def review_message(envelope: Envelope, module: dict, question: dict, token_id: str) -> EmailMessage:
    """One due review question, each option a link to confirm that answer."""
    with force_locale(envelope.language):
        title = i18n.localized(module["title"])
        options = [
            {
                "id": option["id"],
                "text": i18n.localized(option["text"]),
                "url": envelope.links.url(
                    ANSWER, token_id, choice=option["id"], lang=envelope.language
                ),
            }
            for option in question["options"]
        ]
        context = {
            "title": title,
            "stem": i18n.localized(question["stem"]),
            "options": options,
        }
        subject = gettext("Review question: %(title)s", title=title)
        return _list_message(envelope, subject, "delivery/review", context)


def digest_message(
    envelope: Envelope, recommendations: list[Recommendation], modules: dict
) -> EmailMessage:
    """The weekly "what next" digest: the top recommendations with their reasons."""
    with force_locale(envelope.language):
        items = [
            {
                "title": i18n.localized(modules[item.module_id]["title"]),
                "reasons": [sentence(reason) for reason in item.reasons],
            }
            for item in recommendations
        ]
        subject = gettext("Your week's learning: what to do next")
        return _list_message(envelope, subject, "delivery/digest", {"items": items})


def sentence(reason: str) -> str:
    """A reason ended with a full stop, so reasons read apart when put on one line."""
    return reason if reason.endswith((".", "!", "?")) else f"{reason}."


NOTICE_TEXTS = {
    THREAD_REPLY: lazy_gettext("A new reply in a discussion you take part in."),
    ITEM_UPDATE: lazy_gettext("News about a comment you sent on the content."),
    QUEUE_ITEM: lazy_gettext("A new comment on the content is in the editorial queue."),
    POST_REPORTED: lazy_gettext("A learner reported a post for moderation."),
    REFLECTION_REPORTED: lazy_gettext(
        "A learner reported a journal-club reflection for moderation."
    ),
}


def notices_message(envelope: Envelope, notices: list[MailNotice], modules: dict) -> EmailMessage:
    """One digest of a learner's new notices: what happened, on which module, and a link."""
    with force_locale(envelope.language):
        items = [
            {
                "text": str(NOTICE_TEXTS[notice.kind]),
                "title": i18n.localized(modules[notice.module_id]["title"])
                if notice.module_id in modules
                else "",
                "url": envelope.links.base_url + notice.path,
            }
            for notice in notices
        ]
        subject = ngettext(
            "Bedside: %(num)d new notice", "Bedside: %(num)d new notices", len(items)
        )
        return _list_message(envelope, subject, "delivery/notices", {"items": items})


def confirmation_message(envelope: Envelope) -> EmailMessage:
    """The double opt-in message: a link to confirm that this address wants review questions."""
    with force_locale(envelope.language):
        url = envelope.links.url(CONFIRM, envelope.unsubscribe_nonce, lang=envelope.language)
        subject = gettext("Confirm your Bedside review questions by e-mail")
        return _message(envelope, subject, "delivery/confirm", {"confirm_url": url})


def _list_message(envelope: Envelope, subject: str, template: str, context: dict) -> EmailMessage:
    """A message of the review list: with the RFC 8058 one-click unsubscribe headers."""
    url = envelope.links.url(UNSUBSCRIBE, envelope.unsubscribe_nonce, lang=envelope.language)
    message = _message(envelope, subject, template, {**context, "unsubscribe_url": url})
    message["List-Unsubscribe"] = f"<{url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def _message(envelope: Envelope, subject: str, template: str, context: dict) -> EmailMessage:
    """A multipart/alternative message: plain text first, then HTML."""
    context = {**context, "lang": envelope.language, "subject": subject}
    message = EmailMessage()
    message["From"] = envelope.sender
    message["To"] = envelope.recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender_domain(envelope.sender))
    message.set_content(render_template(f"{template}.txt", **context))
    message.add_alternative(render_template(f"{template}.html", **context), subtype="html")
    message["Content-Language"] = envelope.language  # after set_content, which drops it
    return message


def sender_domain(sender: str) -> str:
    """The domain of the sender's address (Message-IDs are made under it)."""
    return sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
