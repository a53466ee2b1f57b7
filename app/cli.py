"""The `bedside` command line: serve, content and ledger tools (a Flask CLI group)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, NoAppException, with_appcontext

from app import create_app
from app.collaboration.editorial_commands import editorial_group
from app.db_commands import db_group
from app.delivery.notify_commands import notify_group
from app.deployment import deployment
from app.devtools.demo_commands import demo_group
from app.errors import ConfigError
from app.journal_clubs.club_commands import clubs_group
from app.ledger.ledger_commands import checkpoint_command as ledger_checkpoint
from app.ledger.ledger_commands import export_command as export_ledger
from app.ledger.ledger_commands import init as init_ledger
from app.ledger.ledger_commands import reverse as reverse_ledger
from app.ledger.ledger_commands import stats as ledger_stats
from app.ledger.ledger_commands import verify as verify_ledger
from app.ledger.ledger_commands import verify_badge_command as verify_badge
from app.library.content_commands import check as check_content
from app.outcomes.export_command import export as outcomes_export
from app.outcomes.outcomes_commands import compute as outcomes_compute
from cds_hooks.hook_cli import hook_command


class ConfigProblem(NoAppException):
    """A configuration error shown as one line, without usage text or traceback."""

    def show(self, file=None) -> None:
        """Print only the sentence."""
        click.secho(f"Error: {self.format_message()}", err=True, fg="red")


class BedsideGroup(FlaskGroup):
    """Flask's command group without other packages' plugin commands (e.g. Flask-Limiter's).

    `bedside --help` then lists only Bedside's own commands, each documented in the README.
    """

    def _load_plugin_commands(self) -> None:
        """Add no plugin commands (Flask would add every installed `flask.commands` entry)."""
        self._loaded_plugin_commands = True


def create_app_for_cli() -> Flask:
    """Build the app for a command; turn configuration errors into one clear line."""
    try:
        return create_app()
    except ConfigError as error:
        raise ConfigProblem(str(error)) from None


@click.group(
    cls=BedsideGroup,
    create_app=create_app_for_cli,
    add_version_option=False,
    help="""Bedside: point-of-care CME service.

    \b
    Examples:
      bedside serve --port 8000          run the production server
      BEDSIDE_DEMO=1 bedside serve       run with the demo EHR and fixture FHIR server
      bedside content check              validate the content library
      bedside ledger verify              check the CME ledger's hash chain
      bedside db check                   check the database and its migrations
    """,
)
def cli() -> None:
    """Bedside command group."""


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Gunicorn workers."
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker. More help when calls wait on FHIR fetches (EHRs that do not "
    "prefetch); fewer keep CPU-bound prefetch traffic fast.",
)
@with_appcontext
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run Bedside under gunicorn (the production server).

    \b
    Examples:
      bedside serve
      bedside serve --host 0.0.0.0 --port 8080 --workers 4 --threads 4
    """
    from app.server import run_gunicorn

    pool = f"{workers} workers, {threads} threads each"
    click.echo(f"Bedside listening on http://{host}:{port} ({pool})")
    if deployment().demo:
        click.echo(f"  demo home:        http://{host}:{port}/")
        click.echo(f"  demo EHR:         http://{host}:{port}/demo-ehr/  (start here)")
        click.echo(f"  standalone app:   http://{host}:{port}/smart/standalone")
        click.echo(f"  fixture FHIR:     http://{host}:{port}/fhir/metadata")
    run_gunicorn(host=host, port=port, workers=workers, threads=threads)


@cli.group("content")
def content_group() -> None:
    """Work with the content library (guideline microlearning modules).

    \b
    Examples:
      bedside content check
      bedside content check --format json --today 2027-01-01
    """


content_group.add_command(check_content)
cli.add_command(hook_command)
cli.add_command(demo_group)
cli.add_command(db_group)
cli.add_command(editorial_group)
cli.add_command(clubs_group)
cli.add_command(notify_group)


@cli.group("ledger")
def ledger_group() -> None:
    """Work with the CME ledger (credit records, verification, exports).

    \b
    Examples:
      bedside ledger verify
      bedside ledger export --format xapi --since 2026-01-01 -o statements.json
      bedside ledger verify-badge badges.jwt --jwks issuer-jwks.json
    """


@cli.group("outcomes")
def outcomes_group() -> None:
    """Practice measures (Moore level 5): compute rates from FHIR data.

    \b
    Examples:
      bedside outcomes compute --ndjson exports/2026-10 --as-of 2026-11-01
      bedside outcomes compute --fhir-server https://ehr.example/fhir --format measurereport
      bedside outcomes compute --engine spark --master yarn --ndjson hdfs:///exports/2026-10
      bedside outcomes export --fhir-server https://ehr.example/fhir --out exports/2026-11
    """


outcomes_group.add_command(outcomes_compute)
outcomes_group.add_command(outcomes_export)
for ledger_command in (
    init_ledger,
    verify_ledger,
    ledger_checkpoint,
    ledger_stats,
    export_ledger,
    reverse_ledger,
    verify_badge,
):
    ledger_group.add_command(ledger_command)


def main() -> None:
    """Entry point of the `bedside` console script."""
    cli(prog_name="bedside")
