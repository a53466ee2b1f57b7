"""Notices by e-mail: collaboration's in-app notices offered to delivery's notice digest.

app.collaboration (discussions, the editorial queue and their notices) and app.delivery (e-mail)
are sibling layers and never import each other. This package sits one layer above both, beside
the journal clubs and case conferences: it reads collaboration's notices and hands the outbox
what a mail may say of them (a kind, a module, a page), through delivery's `NoticeSource`. The
app factory wires it with `init_notice_mail(app)` after both.
"""

from __future__ import annotations

from collections.abc import Collection

from flask import Flask

from app.collaboration import EXTENSION as COLLABORATION
from app.collaboration.store import (
    ITEM_REPLY,
    ITEM_RESOLVED,
    ITEM_STATUS,
    POST_REPORTED,
    QUEUE_ITEM,
    REFLECTION_REPORTED,
    THREAD_REPLY,
    CollaborationStore,
    NotFound,
    Notice,
)
from app.delivery import notices as mail

__all__ = ["CollaborationNotices", "init_notice_mail"]

# The pages a notice links to, under /app (app/ui's routes; this layer sits below the UI).
THREAD_PAGES = {"module": "/app/discuss/thread/{thread_id}", "case": "/app/cases/{scope_id}"}
NOTICES_PAGE = "/app/notices"
MAIL_KINDS = {
    THREAD_REPLY: mail.THREAD_REPLY,
    ITEM_STATUS: mail.ITEM_UPDATE,
    ITEM_REPLY: mail.ITEM_UPDATE,
    ITEM_RESOLVED: mail.ITEM_UPDATE,
    QUEUE_ITEM: mail.QUEUE_ITEM,
    POST_REPORTED: mail.POST_REPORTED,
    REFLECTION_REPORTED: mail.REFLECTION_REPORTED,
}


class CollaborationNotices:
    """A learner's unread collaboration notices, as delivery's notice source."""

    def __init__(self, store: CollaborationStore):
        self.store = store

    def unread(
        self, learner_id: str, since: str, mailed: Collection[str], limit: int
    ) -> list[mail.MailNotice]:
        """The learner's first unread notices after `since` not yet mailed, oldest first."""
        return [
            mail.MailNotice(
                notice.notice_id, MAIL_KINDS[notice.kind], self._module(notice), page(notice)
            )
            for notice in self.store.unread_notices(learner_id, since, mailed, limit)
            if notice.kind in MAIL_KINDS
        ]

    def _module(self, notice: Notice) -> str | None:
        """The module a notice concerns: its thread's or its item's, if any."""
        if notice.scope == "module":
            return notice.scope_id
        if notice.item_id:
            try:
                return self.store.item(notice.item_id).module_id
            except NotFound:
                return None
        return None


def page(notice: Notice) -> str:
    """The path of the page a notice links to."""
    if notice.kind == THREAD_REPLY and notice.scope in THREAD_PAGES:
        return THREAD_PAGES[notice.scope].format(
            thread_id=notice.thread_id, scope_id=notice.scope_id
        )
    if notice.kind == QUEUE_ITEM:
        return f"/app/editorial/{notice.item_id}"
    if notice.kind == POST_REPORTED:
        return "/app/moderation"
    if notice.kind == REFLECTION_REPORTED:
        return "/app/moderation?show=reflections"
    return NOTICES_PAGE


def init_notice_mail(app: Flask) -> None:
    """Let `bedside notify send-due` mail collaboration's notices to learners who asked."""
    app.extensions[mail.NOTICE_SOURCE] = CollaborationNotices(app.extensions[COLLABORATION].store)
