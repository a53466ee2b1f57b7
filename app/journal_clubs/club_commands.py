"""`bedside clubs settle`: record the club credit claims that failed after their reflection."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.journal_clubs import init_journal_clubs
from app.journal_clubs.participation import settle_clubs
from app.ledger.wiring import ledger_for

clubs_group = AppGroup(
    "clubs",
    help="""Journal clubs.

    \b
    Examples:
      bedside clubs settle
    """,
)


@clubs_group.command("settle")
def settle_command() -> None:
    """Claim the credit of every member who reflected but whose claim was never recorded.

    Safe to repeat: each member's credit for a club stays recorded exactly once.

    \b
    Example:
      bedside clubs settle
    """
    cds = current_app.extensions.get("cds")
    if cds is None:
        raise click.ClickException("The content library is not loaded, so no club can be settled.")
    ledger = ledger_for(current_app)
    settled = settle_clubs(
        init_journal_clubs(current_app), ledger.store, ledger.policy, cds.engine.library.modules
    )
    click.echo(f"Settled {settled} journal club credit claim(s).")
