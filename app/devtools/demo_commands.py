"""`bedside demo …`: helpers for trying Bedside against its own demo EHR (demo mode only)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli_output import writing
from app.devtools.demo_keys import DEMO_BACKEND_CLIENT, demo_backend_key

DEFAULT_DEMO_FHIR = "http://127.0.0.1:8000/fhir"


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


@demo_group.command("backend-client")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the BEDSIDE_BACKEND_CLIENTS file.",
)
@click.option(
    "--fhir-server",
    "fhir_server",
    metavar="URL",
    help="The demo FHIR base (default: PUBLIC_BASE_URL/fhir, else http://127.0.0.1:8000/fhir).",
)
@with_appcontext
def backend_client(out: Path, fhir_server: str | None) -> None:
    """Write a Backend Services registration for the demo EHR (demo key material, mode 0600).

    \b
    Example:
      BEDSIDE_DEMO=1 bedside demo backend-client --out instance/demo-backend-clients.json
      BEDSIDE_BACKEND_CLIENTS=instance/demo-backend-clients.json \\
          bedside outcomes export --fhir-server http://127.0.0.1:8000/fhir --out export/
    """
    if current_app.extensions.get("demo_auth") is None:
        raise click.ClickException(
            "Demo mode is off: run with BEDSIDE_DEMO=1 (as `make run` does)."
        )
    public_url = current_app.config.get("PUBLIC_BASE_URL")
    base = fhir_server or (
        f"{str(public_url).rstrip('/')}/fhir" if public_url else DEFAULT_DEMO_FHIR
    )
    key = demo_backend_key(Path(current_app.instance_path)).as_dict(private=True)
    entry = {"iss": base.rstrip("/"), "client_id": DEMO_BACKEND_CLIENT, "private_key": key}
    with writing(out):
        if not out.parent.exists():  # a file in its place is "Not a directory" when opening
            out.parent.mkdir(parents=True)
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump([entry], handle, indent=2)
    click.echo(f"Wrote the demo backend-services registration for {entry['iss']} to {out}.")
