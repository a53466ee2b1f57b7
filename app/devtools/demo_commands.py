"""`bedside demo …`: helpers for trying Bedside against its own demo EHR (demo mode only)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("demo")
def demo_group() -> None:
    """Demo-mode helpers (run with BEDSIDE_DEMO=1, like `make run`).

    \b
    Example:
      BEDSIDE_DEMO=1 bedside demo token --patient sepsis-adult
    """


@demo_group.command("token")
@click.option("--patient", required=True, help="Fixture patient id, e.g. sepsis-adult.")
@click.option("--minutes", default=60, show_default=True, type=click.IntRange(1, 24 * 60))
@with_appcontext
def token(patient: str, minutes: int) -> None:
    """Print a demo EHR access token for the fixture FHIR server at /fhir.

    \b
    Example:
      export BEDSIDE_HOOK_TOKEN=$(BEDSIDE_DEMO=1 bedside demo token --patient sepsis-adult)
      bedside hook patient-view --fhir-server http://127.0.0.1:8000/fhir --patient sepsis-adult
    """
    server = current_app.extensions.get("demo_auth")
    if server is None:
        raise click.ClickException(
            "Demo mode is off: run with BEDSIDE_DEMO=1 (as `make run` does)."
        )
    if current_app.extensions["demo_fhir_store"].read("Patient", patient) is None:
        raise click.ClickException(f"There is no fixture patient {patient!r}.")
    issued = server.issue_access_token(patient=patient, seconds=minutes * 60)
    click.echo(issued["access_token"])
