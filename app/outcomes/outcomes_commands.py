"""`bedside outcomes compute`: measures from a FHIR server or an NDJSON export, as text or FHIR."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from flask.cli import ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from app import stats
from app.cli_output import writing
from app.database import Database, DatabaseUrl, database_url, parse_database_url, sqlite_path_url
from app.errors import ConfigError
from app.library.measure_definitions import MeasureError, load_measures
from app.outcomes import case_rates, ingest_ndjson, parallel, reports
from app.outcomes.backend_token import credential_for
from app.outcomes.cases import MeasureCase
from app.outcomes.ingest_fhir import Credential, FhirIngestError, FhirSource
from app.outcomes.measures import UnknownMeasureKind, cases_by_measure, evaluate_patients
from app.outcomes.practice_store import ImportSummary, PracticeStore
from app.outcomes.spark_engine import SparkEngineError, spark_cases
from app.smart.backend_services import BackendServicesError

DEFAULT_CONTENT = Path(__file__).resolve().parents[2] / "content"
TOKEN_ENV = "BEDSIDE_HOOK_TOKEN"
SUPPRESSED = "<5 suppressed"


@click.command("compute")
@click.option("--fhir-server", "fhir_server", metavar="URL", help="FHIR R4 base URL to search.")
@click.option(
    "--token",
    metavar="T",
    help=f"Bearer token (default: ${TOKEN_ENV}, else a backend-services token).",
)
@click.option(
    "--ndjson",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Bulk Data export directory of *.ndjson files (a URI such as s3a://… with Spark).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    help="Compute here (default) or on Apache Spark (--ndjson only; pip install 'bedside[spark]').",
)
@click.option(
    "--master",
    metavar="URL",
    help="Spark master for --engine spark, e.g. local[4] or spark://host:7077 (default: Spark's).",
)
@click.option(
    "--since",
    metavar="DATE|INSTANT",
    callback=lambda context, param, value: parse_since(value),
    help="A date: only cases from that day (--save replaces the period from it; not for an "
    "incremental export). An instant (a Bulk _since export's, with a time): the export holds "
    "what changed since then, and --save merges it per encounter.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, parallel.MAX_WORKERS),
    default=1,
    show_default=True,
    help="Processes evaluating an --ndjson export (patients split by a hash of their id).",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="When the data end (default: now); cases whose window is still open are not counted.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "measurereport"]), default="table"
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option(
    "--content",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CONTENT,
    show_default=False,
    help="Content directory holding measures/.",
)
@click.option(
    "--save",
    is_flag=True,
    help="Also store the cases (no patient identifiers) for the dashboards; replaces the period "
    "(merges an incremental export per encounter).",
)
@click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file for --save (default: the app's database).",
)
@click.option(
    "--database-url",
    "database_url_text",
    metavar="URL",
    help="Database for --save, sqlite:///… or postgresql://… (default: the app's database).",
)
def compute(
    fhir_server,
    token,
    ndjson,
    since,
    workers,
    as_of,
    fmt,
    output,
    content,
    save,
    database,
    database_url_text,
    engine,
    master,
):
    """Compute practice measures: rates with Wilson 95% intervals, overall and per clinician.

    With --save the cases are also stored for the dashboards without patient identifiers (measure,
    clinician, day, excluded and numerator flags: no patient or encounter reference), replacing
    whatever was stored before for the days of this period. They go to the app's database
    (BEDSIDE_DATABASE_URL, else BEDSIDE_DATABASE) unless --database-url names another.

    An incremental export (`outcomes export --since INSTANT`, Bulk `_since`) holds only what
    changed: --save merges it per encounter instead, each encounter in it replacing its earlier
    cases (a re-run changes nothing), and the encounters and patients its `deleted/` Bundles name
    losing theirs. An export whose manifest.json asks for `_since` is always merged (a --since
    DATE, which would replace the period, is refused); give --since INSTANT to merge another.
    A resource given more than once (same type and id) is read once: its last copy by file name
    and line.

    With --fhir-server and no --token (or $BEDSIDE_HOOK_TOKEN), Bedside gets its own SMART
    Backend Services token when BEDSIDE_BACKEND_CLIENTS registers the server.

    \b
    Examples:
      bedside outcomes compute --ndjson export/ --as-of 2026-11-01
      bedside outcomes compute --fhir-server https://ehr.example/fhir --format measurereport
      bedside outcomes compute --ndjson export/ --since 2026-10-01 --as-of 2026-11-01 --save
      bedside outcomes compute --ndjson changes/ --since 2026-11-01T00:00:00Z --save --workers 4
      bedside outcomes compute --engine spark --master 'local[4]' --ndjson export/ --format json
    """
    if bool(fhir_server) == bool(ndjson):
        raise click.UsageError("give exactly one of --fhir-server URL or --ndjson DIR")
    if workers > 1 and (not ndjson or engine == "spark"):
        raise click.UsageError("--workers applies to the local engine on an --ndjson export only")
    check_engine(engine, master, fhir_server)
    end = case_rates.as_instant(as_of) if as_of else datetime.now(UTC)
    merge, deleted = save_mode(since, ndjson) if save else (False, None)
    store = open_store(save_target(database, database_url_text)) if save else None
    duplicates = ingest_ndjson.Duplicates()
    try:
        definitions = load_measures(content).values()
        pasted = token or os.environ.get(TOKEN_ENV)
        credential = credential_for(fhir_server, pasted) if fhir_server else None
        if engine == "spark":
            cases = spark_cases(
                ndjson, definitions, as_of=end, master=master, duplicates=duplicates
            )
        elif ndjson:
            cases = _ndjson_cases(definitions, Path(ndjson), end, workers, duplicates)
        else:
            groups = _fhir_groups(fhir_server, credential)
            cases = list(evaluate_patients(definitions, groups, as_of=end))
        directions = {m.id: m.direction for m in definitions}
    except (
        FhirIngestError,
        ingest_ndjson.NdjsonError,
        parallel.WorkerError,
        MeasureError,
        UnknownMeasureKind,
        BackendServicesError,
        ConfigError,
        SparkEngineError,
    ) as error:
        raise click.ClickException(str(error)) from None
    if since and not since.incremental:
        cases = [c for c in cases if c.period_start is not None and c.period_start >= since.moment]
    start = since.moment if since and not since.incremental else _earliest(cases, end)
    text = render(cases, fmt, start, end, directions)
    if output:
        with writing(output):
            output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    if duplicates.dropped:
        click.echo(duplicates_text(duplicates.dropped), err=True)
    if save:
        try:
            source = "ndjson" if ndjson else "fhir"
            summary = save_cases(store, cases, start, end, source, merge=merge, deleted=deleted)
        finally:
            store.database.dispose()
        click.echo(merged_text(summary) if merge else saved_text(summary), err=True)


@dataclass(frozen=True)
class Since:
    """--since: a day to count cases from, or the instant an incremental export starts at."""

    moment: datetime
    incremental: bool


def parse_since(text: str | None) -> Since | None:
    """A date (2026-10-01) or an instant with a time (2026-11-01T00:00:00Z, UTC if no zone)."""
    if not text:
        return None
    try:
        if "T" in text:
            return Since(case_rates.as_instant(datetime.fromisoformat(text)), incremental=True)
        return Since(case_rates.as_instant(date.fromisoformat(text)), incremental=False)
    except ValueError:
        raise click.BadParameter(
            "use a date (2026-10-01) or an instant (2026-11-01T00:00:00Z)", param_hint="--since"
        ) from None


def save_mode(since: Since | None, ndjson: str | None) -> tuple[bool, frozenset[str] | None]:
    """How --save stores: merged per encounter or not; the references the export deletes.

    An export whose manifest asks for `_since` holds only what changed: it is merged, and a
    --since DATE (replace that period with it, losing the saved cases it leaves out) is refused.
    """
    export = Path(ndjson) if ndjson and "://" not in ndjson else None
    try:
        export_since = ingest_ndjson.export_since(export) if export else None
        if export_since and since and not since.incremental:
            raise click.UsageError(
                f"{export} holds only what changed since {export_since} (an incremental export),"
                f" so --save cannot replace the period from --since {since.moment.date()} with"
                " it: leave out --since to merge it per encounter."
            )
        merge = bool(since and since.incremental) or export_since is not None
        deleted = ingest_ndjson.deleted_references(export) if merge and export else None
    except ingest_ndjson.NdjsonError as error:
        raise click.ClickException(str(error)) from None
    return merge, deleted


def check_engine(engine: str, master: str | None, fhir_server: str | None) -> None:
    """Spark reads NDJSON exports only, and --master means something only to Spark."""
    if engine == "spark" and fhir_server:
        raise click.UsageError("--engine spark reads --ndjson exports, not --fhir-server")
    if master and engine != "spark":
        raise click.UsageError("--master applies only to --engine spark")


def save_target(database: Path | None, url_text: str | None) -> DatabaseUrl:
    """The database --save writes: --database-url, else the file --database, else the app's."""
    if database is not None and url_text:
        raise click.UsageError("Give --database PATH or --database-url URL, not both.")
    try:
        if url_text:
            return parse_database_url(url_text)
        if database is not None:
            return sqlite_path_url(database)
        return database_url(app_config())
    except ConfigError as error:
        raise click.UsageError(str(error)) from None


def app_config() -> dict:
    """The configuration of the app `bedside` loads (a usage error when there is none)."""
    info = click.get_current_context().find_object(ScriptInfo)
    if info is None:
        raise click.UsageError(
            "Give --database PATH or --database-url URL (no Bedside app to read it from)."
        )
    return info.load_app().config


def open_store(target: DatabaseUrl) -> PracticeStore:
    """Open (and migrate) the dashboards' database before computing; a readable error if not."""
    try:
        return PracticeStore(Database(target))
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    except (SQLAlchemyError, sqlite3.Error, OSError) as error:
        where = shown(target)
        raise click.ClickException(
            f"Could not open {where} to save into: {reason(error)}"
        ) from None


def save_cases(
    store: PracticeStore,
    cases: list[MeasureCase],
    start: datetime,
    end: datetime,
    source: str,
    *,
    merge: bool = False,
    deleted: frozenset[str] | None = None,
) -> ImportSummary:
    """Store the cases without patient identifiers: replace the period's, or merge per encounter.

    A merge first removes the saved cases of the `deleted` encounters and patients.
    """
    try:
        if merge:
            return store.merge_import(cases, source, deleted)
        return store.save_import(cases, start, end, source)
    except (SQLAlchemyError, sqlite3.Error, OSError) as error:
        where = shown(store.database.url)
        raise click.ClickException(f"Could not save to {where}: {reason(error)}") from None


def shown(target: DatabaseUrl) -> str:
    """The database in messages: a SQLite file by its path, a server by its URL (no password)."""
    return str(target.sqlite_path) if target.sqlite_path is not None else target.shown


def reason(error: Exception) -> str:
    """The driver's own first line for a database error (no SQL, no parameters)."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def saved_text(summary: ImportSummary) -> str:
    """One line saying what --save stored and replaced."""
    last = summary.end - timedelta(days=1)
    text = (
        f"Saved {summary.saved} measure cases (no patient identifiers) for "
        f"{summary.start.isoformat()} to {last.isoformat()} (replacing {summary.replaced})."
    )
    if summary.undated:
        text += f" {summary.undated} cases without a date were not saved."
    return text


def merged_text(summary: ImportSummary) -> str:
    """One line saying what an incremental --save merged and replaced."""
    text = (
        f"Merged {summary.saved} measure cases (no patient identifiers) of the encounters in "
        f"this export (replacing {summary.replaced} earlier cases of the same encounters)."
    )
    if summary.deleted is not None:
        text += (
            f" Removed {summary.deleted} saved cases of the encounters and patients the export"
            " lists as deleted."
        )
    if summary.without_patient:
        text += (
            f" {summary.without_patient} cases of patients whose Patient resource is not in the"
            " export were not merged (export those patients in full)."
        )
    return text + undated_note(summary)


def duplicates_text(dropped: int) -> str:
    """One line saying how many copies of repeated resources reading the export left out."""
    return (
        f"Left out {dropped} earlier copies of resources the export gives more than once (the"
        " same type and id): the last copy, by file name and line, counts."
    )


def undated_note(summary: ImportSummary) -> str:
    """' N cases without a date were not saved.' when there were any."""
    return f" {summary.undated} cases without a date were not saved." if summary.undated else ""


def _ndjson_cases(
    definitions,
    ndjson: Path,
    end: datetime,
    workers: int,
    duplicates: ingest_ndjson.Duplicates,
) -> list[MeasureCase]:
    """The export's cases from `workers` processes, with a progress bar on an interactive stderr."""
    show = sys.stderr.isatty()
    total = ingest_ndjson.count_lines(ndjson) if show else 0
    with _bar(show, total, "Reading NDJSON") as bar:
        progress = bar and bar.update
        return parallel.evaluate_export(
            definitions,
            ndjson,
            as_of=end,
            workers=workers,
            progress=progress,
            duplicates=duplicates,
        )


def _fhir_groups(fhir_server: str, token: Credential) -> Iterator:
    """Per-patient groups from a FHIR server, with a progress bar on an interactive stderr."""
    show = sys.stderr.isatty()
    with FhirSource(fhir_server, token) as source, _bar(show, 0, "Searching patients") as bar:

        def progress(done: int, total: int | None) -> None:
            """Advance the bar by one patient, sizing it from Bundle.total."""
            if total and not bar.length:
                bar.length = total
            bar.update(1)

        yield from source.patient_groups(progress if bar else None)


def _bar(show: bool, length: int, label: str):
    """A click progress bar on stderr when it is a terminal, else None (quiet in pipes)."""
    if not show:
        return nullcontext(None)
    return click.progressbar(length=length, label=label, file=sys.stderr)


def _earliest(cases: Iterable[MeasureCase], end: datetime) -> datetime:
    """The earliest case start (the reporting period's start), else the end."""
    starts = [c.period_start for c in cases if c.period_start is not None]
    return min(starts, default=end)


def render(
    cases: list[MeasureCase], fmt: str, start: datetime, end: datetime, directions: dict[str, str]
) -> str:
    """The results in the chosen format, ending with a newline."""
    if fmt == "measurereport":
        bundle = reports.programme_reports(cases, start, end, directions=directions)
        return json.dumps(bundle, indent=2) + "\n"
    results = {
        measure_id: {
            "overall": case_rates.summarize(measure_cases).as_dict(),
            "by_clinician": clinician_rows(measure_cases),
        }
        for measure_id, measure_cases in sorted(cases_by_measure(cases).items())
    }
    if fmt == "json":
        return json.dumps(results, indent=2, sort_keys=True) + "\n"
    return table(results)


def clinician_rows(cases: list[MeasureCase]) -> dict[str, dict]:
    """Each clinician's row, small cells (and a lone small cell's complement) withheld."""
    rates = case_rates.by_clinician(cases)
    hidden = stats.suppressed_groups(rates)
    return {str(who): clinician_row(rate, who in hidden) for who, rate in rates.items()}


def clinician_row(rate: stats.Rate, suppressed: bool) -> dict:
    """A clinician's counts, or only a suppression mark."""
    if suppressed:
        return {"suppressed": True, "small_cell": rate.small_cell}
    return rate.as_dict() | {"suppressed": False}


def table(results: dict) -> str:
    """Plain-text rates: one block per measure, clinicians below; small cells suppressed."""
    lines = []
    for measure_id, result in results.items():
        lines.append(f"{measure_id}: {_rate_text(result['overall'])}")
        for who, rate in result["by_clinician"].items():
            text = SUPPRESSED if rate["suppressed"] else _rate_text(rate)
            lines.append(f"  {who:<24} {text}")
    lines.append("* fewer than 5 eligible cases: too few to compare")
    lines.append(
        f"{SUPPRESSED}: fewer than 5 eligible cases, or counts that would reveal such a row"
    )
    return "\n".join(lines) + "\n"


def _rate_text(rate: dict) -> str:
    """'88/125 = 70.4% (95% CI 61.9-77.7%)' plus counts, '*' for small cells."""
    counts = f"{rate['numerator']}/{rate['eligible']}"
    if rate["rate"] is None:
        text = f"{counts} = n/a"
    else:
        low, high = rate["ci95"]
        text = f"{counts} = {rate['rate']:.1%} (95% CI {low:.1%}-{high:.1%})"
    text += f"  [denominator {rate['denominator']}, excluded {rate['excluded']}]"
    return text + (" *" if rate["small_cell"] else "")
