"""`bedside editorial sync`: file queue items for new CDS overrides, resolve published items."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.collaboration import init_collaboration

editorial_group = AppGroup(
    "editorial",
    help="""The editorial queue (critiques of the content library).

    \b
    Examples:
      bedside editorial sync
    """,
)


@editorial_group.command("sync")
def sync_command() -> None:
    """Pull critiquing CDS overrides into the queue and resolve items a loaded version cites.

    \b
    Example:
      bedside editorial sync
    """
    cds = current_app.extensions.get("cds")
    if cds is None:
        raise click.ClickException("The CDS services are not configured, so nothing to sync.")
    filed, resolved = init_collaboration(current_app).sync(cds.engine.library.modules)
    click.echo(f"Filed {filed} new item(s) from CDS overrides; resolved {len(resolved)} item(s).")
    for item_id in resolved:
        click.echo(f"  resolved {item_id}")
