"""`send-due` and `preview`: which learner gets which message now, claimed before it is sent.

Each run walks the confirmed, unsuppressed subscriptions. For each it skips quiet hours, picks the
most overdue review question not yet mailed, claims the learner's slot and the message in the
database (app/delivery/store.py), then sends. A second run, or a run on another host at the same
moment, finds the slot taken and sends nothing. A send that fails for any reason is released, so
the next run tries again; the Message-ID is derived from the learner, kind and card, so a message
sent again after an unrecorded success is recognisable as the same one. Review answers by e-mail
earn no CME credit (see docs/email.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, gettext

from app.delivery import smtp
from app.delivery.links import ANSWER_DAYS, Links
from app.delivery.messages import (
    PLAIN_WORDING,
    REASON_WORDING,
    Envelope,
    ReasonWording,
    confirmation_message,
    digest_message,
    notices_message,
    review_message,
    sender_domain,
)
from app.delivery.notices import (
    NOTICE_BATCH,
    NOTICE_DAYS,
    NOTICE_SOURCE,
    MailNotice,
    NoticeSource,
)
from app.delivery.schedule import (
    DIGEST_DAYS,
    cap_cutoff,
    digest_due,
    in_quiet_hours,
    next_question,
    stamp,
)
from app.delivery.store import (
    ACTIVE,
    DIGEST,
    NOTICES,
    REVIEW,
    Claim,
    DeliveryStore,
    Preferences,
    Subscription,
    address_key,
    bare_address,
    new_nonce,
)
from app.errors import ConfigError
from app.identity import keyed_hash
from app.learning.profile_store import LearningStore
from app.learning.recommend import Profile, Recommendation, recommend
from app.learning.reviews import DueReview, due_reviews

DIGEST_ITEMS = 3
CLAIM_MARGIN_DAYS = 1  # notice claims are kept this long past the mailing window, then purged


@dataclass
class SendReport:
    """What one run did, counted (no addresses, no learner ids)."""

    sent: int = 0
    digests: int = 0
    notices: int = 0
    quiet: int = 0
    capped: int = 0
    nothing_due: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the operator and the cron log."""
        return (
            f"{self.sent} questions, {self.digests} digests and {self.notices} notice digests"
            f" sent; skipped: {self.quiet} in "
            f"quiet hours, {self.capped} at their cap, {self.nothing_due} with nothing due; "
            f"{self.failed} failed."
        )


@dataclass(frozen=True)
class Outbox:
    """The parts a run needs: the stores, the library, the SMTP server, the links."""

    store: DeliveryStore
    learning: LearningStore
    modules: dict
    links: Links
    sender: str
    smtp_url: smtp.SmtpUrl | None
    notices: NoticeSource | None = None  # in-app notices to mail (wired by the app factory)
    wording: ReasonWording = PLAIN_WORDING  # the digest's reason sentences (lent by the pages)

    def send_due(self, now: datetime) -> SendReport:
        """Send every learner their due question (and digest) now, at most once."""
        self._require_smtp()
        self.store.purge_notice_claims(stamp(now - timedelta(days=NOTICE_DAYS + CLAIM_MARGIN_DAYS)))
        report = SendReport()
        for subscription in self.store.active():
            self._serve(subscription, now, report)
        return report

    def preview(self, learner_id: str, now: datetime, kind: str = REVIEW) -> EmailMessage | None:
        """The message of this kind the learner would get next (nothing claimed, nothing sent).

        None when they have no subscription, did not choose that kind, or have nothing for it.
        """
        subscription = self.store.subscription(learner_id)
        if subscription is None:
            return None
        if kind == DIGEST:
            return self._digest_preview(subscription, now)
        if kind == NOTICES:
            return self._notices_preview(subscription, now)
        review = self._next_review(subscription, now)
        if review is None:
            return None
        return self._review_message(subscription, review, "preview-token-not-valid")

    def _digest_preview(self, subscription: Subscription, now: datetime) -> EmailMessage | None:
        """The "what next" digest as it would go now, if the learner chose digests."""
        if not subscription.preferences.digest:
            return None
        recommendations = self._recommendations(subscription, now)
        return digest_message(self._envelope(subscription), recommendations, self.modules)

    def _notices_preview(self, subscription: Subscription, now: datetime) -> EmailMessage | None:
        """The notices digest as it would go now (its unmailed notices), if the learner chose it."""
        if not subscription.preferences.notices or self.notices is None:
            return None
        pending = self._pending_notices(subscription.learner_id, self.notices, now)
        if not pending:
            return None
        return notices_message(self._envelope(subscription), pending, self.modules)

    def _pending_notices(
        self, learner: str, source: NoticeSource, now: datetime
    ) -> list[MailNotice]:
        """The learner's unread notices of the window that no run has mailed yet (a batch)."""
        since = stamp(now - timedelta(days=NOTICE_DAYS))
        mailed = self.store.mailed_notices(learner, since)
        return source.unread(learner, since, mailed, NOTICE_BATCH)

    def opt_in(
        self, learner_id: str, address: str, preferences: Preferences, now: datetime
    ) -> bool:
        """Keep the address and preferences; mail a new address the double opt-in link.

        True when a confirmation went out, now or already within the hour (a repeat or a double
        submit), False when a confirmed address only changed settings. The subscription changes
        only once the mail has left: one that could not be sent leaves it as it was and counts
        for no limit.
        """
        if self.store.is_suppressed(address):
            raise AddressSuppressed
        current = self.store.subscription(learner_id)
        same = (  # an address kept before addresses were checked is confirmed anew
            current is not None
            and bare_address(current.address) is not None
            and address_key(current.address) == address_key(address)
        )
        if same and current.status == ACTIVE:
            self.store.subscribe(learner_id, address, preferences, stamp(now))
            return False
        day_ago, hour_ago = stamp(now - timedelta(days=1)), stamp(now - timedelta(hours=1))
        taken = self.store.take_confirmation_slot(
            learner_id, address, stamp(now), day_ago, hour_ago
        )
        if not taken:
            if not self.store.confirmation_awaited(learner_id, address, hour_ago):
                raise ConfirmationThrottled
            if same:  # the mail sent lately carries this subscription's nonce
                self.store.subscribe(learner_id, address, preferences, stamp(now))
            return True
        nonce = current.nonce if same else new_nonce()
        self._send_confirmation(learner_id, address, preferences.language, nonce, now)
        self.store.subscribe(learner_id, address, preferences, stamp(now), nonce)
        return True

    def _send_confirmation(
        self, learner_id: str, address: str, language: str, nonce: str, now: datetime
    ) -> None:
        """Mail the opt-in link; if anything fails, give the limit slot taken `now` back."""
        envelope = Envelope(self.sender, address.strip(), language, self.links, nonce)
        try:
            smtp.send(self._require_smtp(), confirmation_message(envelope))
        except BaseException:
            self.store.release_confirmation_slot(learner_id, address, stamp(now))
            raise

    def _serve(self, subscription: Subscription, now: datetime, report: SendReport) -> None:
        """Send one learner what is due for them, or count why not."""
        prefs = subscription.preferences
        if in_quiet_hours(now, prefs.time_zone, prefs.quiet_start, prefs.quiet_end):
            report.quiet += 1
            return
        review = self._next_review(subscription, now)
        if review is None:
            report.nothing_due += 1
        else:
            self._send_review(subscription, review, now, report)
        if prefs.digest and digest_due(subscription.last_digest_at, now):
            self._send_digest(subscription, now, report)
        if prefs.notices and self.notices is not None:
            self._send_notices(subscription, self.notices, now, report)

    def _next_review(self, subscription: Subscription, now: datetime) -> DueReview | None:
        """The question to mail next, if one is due."""
        learner = subscription.learner_id
        return next_question(
            self.learning.cards(learner), now, self.store.sent_cards(learner), self._questions()
        )

    def _send_review(
        self, subscription: Subscription, review: DueReview, now: datetime, report: SendReport
    ) -> None:
        """Claim, then send one review question."""
        card = (review.key.module_id, review.key.item_id, stamp(review.due))
        cutoff = cap_cutoff(
            now, subscription.preferences.min_hours, subscription.preferences.time_zone
        )
        claim = self.store.claim(subscription.learner_id, REVIEW, card, stamp(now), stamp(cutoff))
        if claim is None:
            report.capped += 1
            return
        with released_on_failure(self.store, claim):
            expires = stamp(now + timedelta(days=ANSWER_DAYS))
            token = self.store.issue_token(subscription.learner_id, card[0], card[1], expires)
            message = self._review_message(subscription, review, token)
            self._stamp_message_id(message, claim, card)
            if self._deliver(message, report):
                self.store.mark_sent(claim)
                report.sent += 1
            else:
                self.store.release(claim)

    def _send_digest(self, subscription: Subscription, now: datetime, report: SendReport) -> None:
        """Claim, then send the weekly "what next" digest."""
        cutoff = now - timedelta(days=DIGEST_DAYS)
        claim = self.store.claim(
            subscription.learner_id, DIGEST, ("", "", stamp(now)), stamp(now), stamp(cutoff)
        )
        if claim is None:
            return
        with released_on_failure(self.store, claim):
            message = digest_message(
                self._envelope(subscription), self._recommendations(subscription, now), self.modules
            )
            self._stamp_message_id(message, claim, ("", "", stamp(now)))
            if self._deliver(message, report):
                self.store.mark_sent(claim)
                report.digests += 1
            else:
                self.store.release(claim)

    def _send_notices(
        self, subscription: Subscription, source: NoticeSource, now: datetime, report: SendReport
    ) -> None:
        """Claim the learner's unmailed notices, then send them in one digest (at most per cap)."""
        learner = subscription.learner_id
        pending = self._pending_notices(learner, source, now)
        if not pending:
            return
        cutoff = cap_cutoff(
            now, subscription.preferences.min_hours, subscription.preferences.time_zone
        )
        claim = self.store.claim_notices(
            learner, [n.notice_id for n in pending], stamp(now), stamp(cutoff)
        )
        if claim is None:
            return
        with released_on_failure(self.store, claim):
            claimed = [n for n in pending if n.notice_id in claim.notice_ids]
            message = notices_message(self._envelope(subscription), claimed, self.modules)
            # the same notices resent after an unrecorded success carry the same Message-ID
            self._stamp_message_id(message, claim, ("", "", " ".join(claim.notice_ids)))
            if self._deliver(message, report):
                self.store.mark_sent(claim)
                report.notices += 1
            else:
                self.store.release(claim)

    def _deliver(self, message: EmailMessage, report: SendReport) -> bool:
        """Hand the message to SMTP; count a failure (its reason, never the address)."""
        smtp_url = self._require_smtp()
        try:
            smtp.send(smtp_url, message)
        except smtp.SendFailed as error:
            report.failed += 1
            report.failures.append(str(error))
            return False
        return True

    def _require_smtp(self) -> smtp.SmtpUrl:
        """The SMTP server, or ConfigError before anything is claimed."""
        if self.smtp_url is None:
            raise ConfigError("Set BEDSIDE_SMTP_URL (smtp://user:pass@host:587?starttls=1).")
        return self.smtp_url

    def _stamp_message_id(
        self, message: EmailMessage, claim: Claim, card: tuple[str, str, str]
    ) -> None:
        """Give the message an id derived from its row, the same on every resend."""
        digest = keyed_hash(
            self.links.secret_key.encode(),
            "delivery-message-id",
            claim.learner_id,
            claim.kind,
            *card,
        )
        message.replace_header("Message-ID", f"<{digest[:40]}@{sender_domain(self.sender)}>")

    def _review_message(
        self, subscription: Subscription, review: DueReview, token: str
    ) -> EmailMessage:
        """The message for one review question."""
        module = self.modules[review.key.module_id]
        question = find_question(module, review.key.item_id)
        return review_message(self._envelope(subscription), module, question, token)

    def _recommendations(self, subscription: Subscription, now: datetime) -> list[Recommendation]:
        """The learner's top "what next" modules, reasons worded as /app/next words them.

        In the learner's language; practice data is not read by the digest.
        """
        learner = subscription.learner_id
        stored = self.learning.profile(learner)
        profile = stored[0] if stored else Profile(learner)
        due = due_reviews(self.learning.cards(learner), now)
        mastery = self.learning.mastery(learner)
        with force_locale(subscription.preferences.language):
            ranked = recommend(
                profile, mastery, due, [], self.modules, now, gettext, self.wording.specialty
            )
            return [
                replace(item, reasons=self.wording.sentences(item))
                for item in ranked[:DIGEST_ITEMS]
            ]

    def _envelope(self, subscription: Subscription) -> Envelope:
        """Sender, recipient, language and links of a learner's messages."""
        return Envelope(
            self.sender,
            subscription.address,
            subscription.preferences.language,
            self.links,
            subscription.nonce,
        )

    def _questions(self) -> set[tuple[str, str]]:
        """(module, question) of every case question in the library."""
        return {
            (module_id, question["id"])
            for module_id, module in self.modules.items()
            for question in module.get("case", {}).get("questions", [])
        }


@contextmanager
def released_on_failure(store: DeliveryStore, claim: Claim) -> Iterator[None]:
    """Give the claim back if anything at all goes wrong before it is settled, then re-raise."""
    try:
        yield
    except BaseException:
        store.release(claim)
        raise


class AddressSuppressed(Exception):
    """The address bounced or complained before: Bedside does not mail it."""


class ConfirmationThrottled(Exception):
    """Too many confirmation mails lately, from this learner or to this address."""


def find_question(module: dict, item_id: str) -> dict | None:
    """A case question of the module by id, or None."""
    questions = module.get("case", {}).get("questions", [])
    return next((q for q in questions if q["id"] == item_id), None)


def outbox(base_url: str | None = None) -> Outbox:
    """The current app's outbox; links on BEDSIDE_PUBLIC_BASE_URL unless a base is given."""
    config = current_app.config
    base = base_url or config.get("PUBLIC_BASE_URL")
    if not base:
        raise ConfigError("Set BEDSIDE_PUBLIC_BASE_URL: e-mail links need this service's address.")
    smtp_text = config.get("SMTP_URL")
    return Outbox(
        store=current_app.extensions["delivery"],
        learning=current_app.extensions["learning"],
        modules=current_app.extensions["ui"].library.modules,
        links=Links(config["SECRET_KEY"], str(base)),
        sender=str(config["MAIL_FROM"]),
        smtp_url=smtp.parse_smtp_url(smtp_text) if smtp_text else None,
        notices=current_app.extensions.get(NOTICE_SOURCE),
        wording=current_app.extensions.get(REASON_WORDING, PLAIN_WORDING),
    )
