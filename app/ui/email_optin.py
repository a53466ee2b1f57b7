"""The profile's opt-in to review questions by e-mail: an address the learner types, confirmed.

The address is never taken from the EHR. Saving it sends a confirmation link (double opt-in);
nothing else is mailed until the learner follows it. Stopping is one button here, or the one-click
link in every message.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, current_app, redirect, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext

from app.delivery.messages import REASON_WORDING, ReasonWording
from app.delivery.outbox import AddressSuppressed, ConfirmationThrottled, outbox
from app.delivery.schedule import CAP_CHOICES, valid_time_zone
from app.delivery.smtp import SendFailed
from app.delivery.store import DeliveryStore, Preferences, Subscription, bare_address
from app.deployment import deployment
from app.errors import ConfigError
from app.learning.recommend import Recommendation
from app.public_url import public_base_url
from app.ui import labels, next_flow
from app.ui.editorial_views import noted_keys
from app.ui.learner_profile import current_profile, learner_view
from app.ui.learner_views import profile_page
from app.ui.page_context import learner_id
from app.ui.views import bp


class EmailFormError(ValueError):
    """An opt-in value Bedside cannot accept; the message is shown on the page."""


@bp.post("/profile/email")
def email_opt_in() -> Response | tuple[str, int]:
    """Keep the address awaiting confirmation and mail it the confirmation link."""
    if not current_app.config.get("PUBLIC_BASE_URL") and not deployment().demo:
        # Links built on the request's Host header could point a confirmation anywhere.
        message = gettext(
            "E-mail is not set up here yet: this service's public address is missing."
        )
        return email_error(message, 503)
    try:
        address, preferences = opt_in_from_form(request.form, current_profile().language)
        mailer = outbox(public_base_url())
        sent = mailer.opt_in(learner_id(), address, preferences, datetime.now(UTC))
        if preferences.notices:
            noted_keys()  # notices filed under their CDS keys are mailed to them too
    except EmailFormError as error:
        return email_error(str(error), 400)
    except AddressSuppressed:
        message = gettext("Mail to this address bounced or was reported; use another address.")
        return email_error(message, 400)
    except ConfirmationThrottled:
        message = gettext(
            "Too many confirmation e-mails were sent lately; try again in an hour or tomorrow."
        )
        return email_error(message, 429)
    except (ConfigError, SendFailed):
        return email_error(gettext("Bedside could not send e-mail just now; try again later."), 503)
    notice = "email-sent" if sent else "email-saved"
    return redirect(url_for("ui.profile_view", done=notice) + "#email", 303)


@bp.post("/profile/email/stop")
def email_stop() -> Response:
    """Stop review questions by e-mail."""
    delivery_store().stop(learner_id())
    return redirect(url_for("ui.profile_view", done="email-stopped") + "#email", 303)


@bp.record_once
def lend_reason_wording(state: BlueprintSetupState) -> None:
    """Let the weekly digest word its reasons as /app/next does (delivery cannot import pages)."""
    state.app.extensions[REASON_WORDING] = ReasonWording(labels.specialty, digest_reasons)


def digest_reasons(item: Recommendation) -> list[str]:
    """A recommendation's reasons in the sentences /app/next shows (real plurals included)."""
    return next_flow.explained(item).reasons


@bp.context_processor
def email_helpers() -> dict:
    """The profile's e-mail section reads the subscription and the choices through these."""
    return {"email_subscription": email_subscription, "cap_choices": CAP_CHOICES}


def email_subscription() -> Subscription | None:
    """The signed-in learner's subscription, or None."""
    return delivery_store().subscription(learner_id())


def opt_in_from_form(form, language: str) -> tuple[str, Preferences]:
    """The address and preferences typed; EmailFormError with the message if one is wrong."""
    address = bare_address(form.get("email", ""))
    if address is None:
        raise EmailFormError(gettext("Enter an e-mail address such as name@example.org."))
    time_zone = form.get("time_zone", "").strip() or "UTC"
    if not valid_time_zone(time_zone):
        raise EmailFormError(gettext("Enter a time zone such as Europe/Madrid or America/Chicago."))
    try:
        start, end = int(form.get("quiet_start", "")), int(form.get("quiet_end", ""))
        min_hours = int(form.get("min_hours", ""))
    except ValueError:
        raise EmailFormError(gettext("Choose quiet hours and how often from the lists.")) from None
    if not (0 <= start <= 23 and 0 <= end <= 23) or min_hours not in CAP_CHOICES:
        raise EmailFormError(gettext("Choose quiet hours and how often from the lists."))
    digest, notices = form.get("digest") == "yes", form.get("notices") == "yes"
    return address, Preferences(language, time_zone, start, end, min_hours, digest, notices)


def email_error(message: str, status: int) -> tuple[str, int]:
    """The profile page with the e-mail section's error."""
    return profile_page_with(email_error=message), status


def profile_page_with(**extra) -> str:
    """The profile page with extra values for its e-mail section."""
    return profile_page(learner_view(), **extra)


def delivery_store() -> DeliveryStore:
    """This app's delivery store."""
    return current_app.extensions["delivery"]
