"""Turn selected ledger records into one export (csv, xapi, pars, badge), without any CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.database import Database
from app.ledger import badge_status
from app.ledger.chain import CreditRecord
from app.ledger.models import LedgerError
from app.ledger.outputs import badges, pars, status_list, xapi
from app.ledger.outputs.records import standing_credits
from app.ledger.outputs.settings import OutputSettings
from app.ledger.outputs.transcript import ledger_csv
from app.ledger.store import LedgerStore
from app.ledger.verify import first_failure

FORMATS = ("csv", "xapi", "pars", "badge")


class UnsoundRecord(LedgerError):
    """A record to export fails its hash or a link of the chain around it."""


@dataclass(frozen=True)
class ExportContext:
    """What an export reads besides the records: the store, settings, library and keys."""

    store: LedgerStore
    settings: OutputSettings
    modules: Mapping[str, dict] = field(default_factory=dict)
    instance_path: Path | None = None
    language: str = "en"
    database: Database | None = None  # the ledger's, where badges' status-list slots are kept


@dataclass(frozen=True)
class ExportResult:
    """The export's text, a one-line note for the operator, and the issuer JWKS for badges."""

    text: str
    note: str | None = None
    jwks: dict | None = None


def export(
    format_: str,
    records: list[CreditRecord],
    context: ExportContext,
    *,
    ndjson: bool = False,
    aggregate_poc: bool = True,
    issued_at: datetime | None = None,
    xapi_version: str = xapi.XAPI_VERSION,
) -> ExportResult:
    """Build the export of one format from records already limited to learner and period.

    Refused (UnsoundRecord) when a record fails its hash or chain link: an export vouches for
    every record in it, each by its hash.
    """
    if format_ not in FORMATS:
        raise ValueError(f"Unknown export format {format_!r}; choose one of {', '.join(FORMATS)}.")
    check_sound(records, context.store)
    if format_ == "csv":
        return ExportResult(ledger_csv(records, context.modules, context.language))
    if format_ == "xapi":
        return xapi_export(records, context, ndjson, xapi_version)
    if format_ == "pars":
        batch = pars.pars_batch(
            context.store,
            records,
            aggregate_poc=aggregate_poc,
            poc_activity_id=context.settings.pars_poc_activity_id,
            activity_ids=context.settings.pars_activity_ids,
        )
        return ExportResult(batch.text, batch.summary())
    return badge_export(records, context, issued_at)


def check_sound(records: list[CreditRecord], store: LedgerStore) -> None:
    """Refuse records that fail their hash or chain links, naming the record `verify` names."""
    failure = first_failure(store, {record.sequence for record in records})
    if failure is not None:
        sequence, problem = failure
        raise UnsoundRecord(f"Nothing was exported because record #{sequence} fails: {problem}.")


def xapi_export(
    records: list[CreditRecord], context: ExportContext, ndjson: bool, version: str
) -> ExportResult:
    """Write xAPI statements (of one xAPI version) as a JSON array, or NDJSON."""
    made = xapi.statements(
        records,
        base_url=context.settings.public_url(),
        library=context.modules,
        language=context.language,
        version=version,
    )
    text = "".join(xapi.to_ndjson(made)) if ndjson else xapi.to_json(made)
    header = ": ".join(xapi.version_header(version))
    return ExportResult(text, f"{len(records)} xAPI statements (send with {header}).")


def badge_export(
    records: list[CreditRecord], context: ExportContext, issued_at: datetime | None
) -> ExportResult:
    """Sign one badge per standing credit, one compact JWS per line, with the issuer's JWKS."""
    if context.instance_path is None:
        raise ValueError("Badges are signed with the instance's issuer key: run with the app.")
    base_url = context.settings.public_url()
    key = badges.issuer_key(context.instance_path)
    kid = badges.key_id(base_url, key)
    issuer = badges.issuer_for(base_url, context.settings.accreditation.provider)
    statuses = status_entries(records, context, base_url, issued_at)
    tokens = list(
        badges.issue_badges(
            records,
            key=key,
            kid=kid,
            issuer=issuer,
            base_url=base_url,
            library=context.modules,
            language=context.language,
            issued_at=issued_at,
            statuses=statuses,
        )
    )
    text = "".join(token + "\n" for token in tokens)
    note = f"Signed {len(tokens)} Open Badges 3.0 credentials as {issuer.id}."
    return ExportResult(text, note, badges.issuer_jwks(context.instance_path, base_url))


def status_entries(
    records: list[CreditRecord], context: ExportContext, base_url: str, at: datetime | None
) -> dict[int, dict]:
    """Allocate (once) each standing credit's revocation bit; return the entries by sequence."""
    if context.database is None:
        raise ValueError("Badges carry a revocation status kept in the ledger: give its database.")
    sequences = [record.sequence for record in standing_credits(records)]
    slots = badge_status.allocate(context.database, sequences, at)
    return {sequence: status_list.entry(base_url, slot) for sequence, slot in slots.items()}
