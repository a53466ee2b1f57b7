"""`bedside notify send-due | preview | bounce`: review questions by e-mail (cron, timers)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from app.delivery.outbox import outbox
from app.delivery.schedule import stamp
from app.delivery.store import DIGEST, NOTICES, REVIEW
from app.errors import ConfigError

PREVIEW_KINDS = (REVIEW, DIGEST, NOTICES)
NOTHING_TO_PREVIEW = {
    REVIEW: "That learner has no subscription or no question due now.",
    DIGEST: "That learner has no subscription or did not choose the digest.",
    NOTICES: "That learner has no subscription, did not choose notices by e-mail, or has no "
    "notice to mail.",
}


@click.group("notify")
def notify_group() -> None:
    """Send spaced review questions by e-mail (docs/email.md).

    \b
    Examples:
      bedside notify send-due
      bedside notify preview --learner 3f9c…
      bedside notify bounce --address someone@example.org
    """


@notify_group.command("send-due")
@with_appcontext
def send_due_command() -> None:
    """Mail each opted-in learner their due question and notices, at most once (every 15 min).

    Two hosts may run it at the same time: each message is claimed in the database first.

    \b
    Examples:
      bedside notify send-due
    """
    try:
        report = outbox().send_due(datetime.now(UTC))
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(report.summary())
    for reason in sorted(set(report.failures)):
        click.echo(f"  not sent: {reason}", err=True)
    if report.failed:
        raise SystemExit(1)


@notify_group.command("preview")
@click.option("--learner", required=True, help="The learner's opaque id (as in their export).")
@click.option(
    "--kind",
    type=click.Choice(PREVIEW_KINDS),
    default=REVIEW,
    show_default=True,
    help="Which message: the next review question, the digest or the notices digest.",
)
@with_appcontext
def preview_command(learner: str, kind: str) -> None:
    """Print the message of a kind a learner would get next, without sending or claiming it.

    \b
    Examples:
      bedside notify preview --learner 3f9c…
      bedside notify preview --learner 3f9c… --kind notices
    """
    try:
        message = outbox().preview(learner, datetime.now(UTC), kind)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if message is None:
        raise click.ClickException(NOTHING_TO_PREVIEW[kind])
    for header in ("From", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"):
        click.echo(f"{header}: {message[header]}")
    click.echo("To: (the learner's confirmed address)\n")
    for kind in ("plain", "html"):
        click.echo(f"--- {kind} part ---")
        click.echo(message.get_body(preferencelist=(kind,)).get_content())


@notify_group.command("bounce")
@click.option("--address", required=True, help="The address that bounced or complained.")
@click.option("--complaint", is_flag=True, help="A spam complaint rather than a hard bounce.")
@with_appcontext
def bounce_command(address: str, complaint: bool) -> None:
    """Never mail an address again after a hard bounce or complaint (stops its subscriptions).

    \b
    Examples:
      bedside notify bounce --address someone@example.org
      bedside notify bounce --address someone@example.org --complaint
    """
    reason = "complaint" if complaint else "bounce"
    stopped = current_app.extensions["delivery"].suppress(address, reason, stamp(datetime.now(UTC)))
    click.echo(f"Suppressed ({reason}); {stopped} subscription(s) stopped.")
