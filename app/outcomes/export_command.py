"""`bedside outcomes export`: a FHIR Bulk Data export into a directory `compute --ndjson` reads."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from app.errors import ConfigError
from app.outcomes.backend_token import credential_for
from app.outcomes.bulk_client import (
    DELETED_DIR,
    BulkExportClient,
    BulkExportError,
    ExportRequest,
    ExportResult,
    printable,
)
from app.outcomes.ingest_fhir import MEASURE_TYPES
from app.smart.backend_services import BackendServicesError

TOKEN_ENV = "BEDSIDE_HOOK_TOKEN"


@click.command("export")
@click.option("--fhir-server", "fhir_server", required=True, metavar="URL", help="FHIR base URL.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Directory for the NDJSON files (running again resumes an unfinished export).",
)
@click.option("--group", metavar="ID", help="Export one Group's patients (default: system export).")
@click.option("--since", metavar="INSTANT", help="Only resources changed after this (_since).")
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Resource type to export (repeat or comma-separate; default: what the measures read).",
)
@click.option("--token", metavar="T", help=f"Bearer token (default: ${TOKEN_ENV}, else backend).")
@click.option(
    "--max-wait",
    default=3600,
    show_default=True,
    type=click.IntRange(1),
    metavar="SECONDS",
    help="Longest time to wait for the server to prepare the files.",
)
@click.option(
    "--max-file-mb",
    default=4096,
    show_default=True,
    type=click.IntRange(1),
    help="Refuse an output file larger than this.",
)
def export(fhir_server, out, group, since, types, token, max_wait, max_file_mb):
    """Run a FHIR Bulk Data $export and download its NDJSON files for `compute --ndjson`.

    Without --token (or $BEDSIDE_HOOK_TOKEN), Bedside gets its own SMART Backend Services token
    when BEDSIDE_BACKEND_CLIENTS registers the server. Interrupted? Run the same command again:
    it resumes the export recorded in DIR instead of starting a new one. The manifest (with its
    transactionTime, the next --since) is kept as DIR/manifest.json; the Bundles naming resources
    deleted since --since go to DIR/deleted/. Files an earlier export left in DIR that the new
    manifest does not list are removed.

    \b
    Examples:
      bedside outcomes export --fhir-server https://ehr.example/fhir --group practice --out exp/
      bedside outcomes export --fhir-server https://ehr.example/fhir --out exp2/ \\
          --since 2026-11-01T00:00:00Z
      bedside outcomes compute --ndjson exp/ --as-of 2026-11-01
    """
    request = ExportRequest(
        fhir_base=fhir_server.rstrip("/"),
        types=type_list(types),
        group=group,
        since=checked_since(since),
    )
    try:
        credential = credential_for(request.fhir_base, token or os.environ.get(TOKEN_ENV))
        client = BulkExportClient(
            credential,
            max_wait=max_wait,
            max_file_bytes=max_file_mb * 1024 * 1024,
            report=lambda line: click.echo(line, err=True),
        )
        result = client.run(request, out)
    except (BulkExportError, BackendServicesError, ConfigError) as error:
        raise click.ClickException(printable(str(error))) from None
    click.echo(summary(result, out), file=sys.stdout)


def type_list(types: tuple[str, ...]) -> tuple[str, ...]:
    """The --type values split on commas, de-duplicated; the measures' types when none."""
    names = [name.strip() for value in types for name in value.split(",") if name.strip()]
    return tuple(dict.fromkeys(names)) or MEASURE_TYPES


def checked_since(since: str | None) -> str | None:
    """--since as a FHIR instant: a date becomes its midnight UTC; else a usage error."""
    if not since:
        return None
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise click.BadParameter(
            "use a date (2026-11-01) or an instant (2026-11-01T00:00:00Z)", param_hint="--since"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def summary(result: ExportResult, out: Path) -> str:
    """What was downloaded, the deletions, stale files removed, error entries, the next --since."""
    resources = sum(result.files.values())
    lines = [f"Exported {resources} resources in {len(result.files)} files to {out}."]
    if result.deleted:
        bundles, folder = sum(result.deleted.values()), out / DELETED_DIR
        lines.append(
            f"Saved {bundles} Bundles of deleted resources in {len(result.deleted)} files "
            f"to {folder}."
        )
    if result.stale_removed:
        lines.append(f"Removed {result.stale_removed} files an earlier export left in {out}.")
    lines += [f"Server error entry: {message}." for message in result.errors]
    if result.transaction_time:
        lines.append(f"Next time, --since {result.transaction_time} fetches only what changed.")
    return "\n".join(lines)
