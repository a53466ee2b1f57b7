"""`bedside content check`: a plain click command (no Flask app, so it works with broken config).

Register it on the CLI's content group with `content_group.add_command(check)`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from pathlib import Path

import click

from app.library.check import ContentDirError, check_library
from app.settings import REPO_ROOT

PROGRESS_THRESHOLD = 50  # show a progress bar only for libraries with more modules than this


def progress_bar(paths: Sequence[Path]) -> AbstractContextManager[Iterable[Path]]:
    """A progress bar on stderr for large libraries when stderr is a terminal; silence otherwise."""
    stderr = sys.stderr
    if len(paths) > PROGRESS_THRESHOLD and stderr.isatty():
        return click.progressbar(paths, label="Checking modules", file=stderr)
    return nullcontext(paths)


@click.command("check")
@click.option(
    "--content-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPO_ROOT / "content",
    envvar="BEDSIDE_CONTENT_DIR",
    help="Content folder with modules/, valuesets/, schema/, measures/ (default: "
    "BEDSIDE_CONTENT_DIR, the folder the app serves, else content/).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="YYYY-MM-DD",
    help="Check expiry as of this date (YYYY-MM-DD) instead of today.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per finding and a summary; json: one JSON object.",
)
@click.option("--quiet", is_flag=True, help="Report errors only (no warnings or infos).")
def check(content_dir: Path, today: datetime | None, output_format: str, quiet: bool) -> None:
    """Check every module, value set and outcome measure before it reaches a clinician.

    Schema, references, codes (ICD-10-CM, LOINC, SNOMED CT, RxNorm), summary length, Markdown,
    links, disclosures, brand names, expiry, translations, suggestions, questions, the
    editorial record (workflow, reviewers, AI provenance, review dates, guideline age) and the
    item-writing rules across the library; for measures: schema, value sets, linked modules,
    Moore level, windows and ages.
    Exit status: 0 no errors, 1 errors found, 2 usage problem (e.g. no such content folder).

    \b
    Examples:
      bedside content check
      bedside content check --content-dir ../content --today 2026-07-01 --format json
    """
    as_of = today.date() if today else date.today()
    try:
        report = check_library(content_dir, today=as_of, progress=progress_bar)
    except ContentDirError as error:
        raise click.BadParameter(str(error), param_hint="--content-dir") from None
    findings = [f for f in report.findings if f.severity == "error"] if quiet else report.findings
    if output_format == "json":
        data = report.as_dict()
        data["findings"] = [finding.as_dict() for finding in findings]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            click.echo(finding.line())
        click.echo(report.summary())
    click.get_current_context().exit(0 if report.ok else 1)
