"""Notices by e-mail: what the outbox needs from whoever keeps a learner's in-app notices.

Delivery knows nothing of discussions or the editorial queue (app.collaboration is a sibling
layer, never imported here). It names the few kinds of notice it can word in a mail and asks a
`NoticeSource` for a learner's unread ones; the app factory wires a source from a higher layer
(app/notice_mail). A notice carries what happened and where, never a post's text or patient data.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

NOTICE_SOURCE = "delivery.notice_source"  # the app.extensions key the source is wired under
NOTICE_DAYS = 7  # older unread notices are not mailed (they stay on the notices page)
NOTICE_BATCH = 50  # the most notices one run reads for a learner (the rest go in later runs)
THREAD_REPLY, ITEM_UPDATE = "thread-reply", "item-update"
QUEUE_ITEM, POST_REPORTED = "queue-item", "post-reported"
REFLECTION_REPORTED = "reflection-reported"
KINDS = (THREAD_REPLY, ITEM_UPDATE, QUEUE_ITEM, POST_REPORTED, REFLECTION_REPORTED)


@dataclass(frozen=True)
class MailNotice:
    """One unread notice, as a mail tells it: its kind, the module it concerns, its page."""

    notice_id: str
    kind: str  # one of KINDS
    module_id: str | None  # shown by its title; None when the notice concerns no module
    path: str  # the page under the public base URL, e.g. /app/discuss/thread/…


class NoticeSource(Protocol):
    """Where a learner's unread notices come from."""

    def unread(
        self, learner_id: str, since: str, mailed: Collection[str], limit: int
    ) -> list[MailNotice]:
        """The first `limit` unread notices after `since` not in `mailed`, oldest first."""
        ...
