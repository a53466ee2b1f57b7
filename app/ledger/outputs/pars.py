"""ACCME PARS learner-completion batch: a tab-delimited file for MOC and state-board reporting.

Columns, in this order (header line first, one line per learner, activity and credit type, `\\n`):

    Board ID | State License ID | License State | First Name | Last Name | Birth MM/DD |
    Activity ID | Completion Date | Credit Type | Credit Amount | Consent to Share

- Only learners who entered a reporting identity *and* consented appear (the identity is erased
  when consent is withdrawn); others are skipped and counted, never guessed.
- A learner needs a board ID or a state licence ID; without either they are skipped and counted.
- A learner needs a month/day of birth, which PARS requires; without it they are skipped and
  counted. Birth is month/day only (MM/DD), never the year.
- Completion Date is MM/DD/YYYY, as PARS takes it: a date without a time or zone. Bedside writes
  the UTC day the credit was earned (a completion at 22:00 in New York on 31 March is dated
  04/01), the same day certificates and transcripts print, labelled UTC there.
- Amounts are net: reversed credit is left out. Consent to Share is always `Y` on a written line.
- Point-of-care cycles (0.5 each) are summed into one "internet searching and learning" activity
  per learner, credit type and reporting period (the export's --since/--until), because some
  boards (e.g. ABP) take neither partial nor repeating credit; `aggregate_poc=False` lists each.
- Activity ID: the PARS activity ID the provider registered, from `activity_ids` (the setting
  BEDSIDE_PARS_ACTIVITY_IDS), keyed by activity key (`case:sepsis-hour-1-bundle@1.0.0`), by kind
  and module (`case:sepsis-hour-1-bundle`, `poc:sepsis-hour-1-bundle`) or, for a case, by module
  id alone; else Bedside's activity key. Given `activity_ids`, the summary names the activities
  written without a registered ID (the aggregated point-of-care activity too while it keeps
  Bedside's default ID).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.ledger.chain import CreditRecord, from_hundredths
from app.ledger.models import ReportingIdentity
from app.ledger.outputs import records as shared
from app.ledger.store import LedgerStore

COLUMNS = (
    "Board ID",
    "State License ID",
    "License State",
    "First Name",
    "Last Name",
    "Birth MM/DD",
    "Activity ID",
    "Completion Date",
    "Credit Type",
    "Credit Amount",
    "Consent to Share",
)
CREDIT_NAMES = {
    "ama-pra-category-1": "AMA PRA Category 1 Credit",
    "aafp-prescribed": "AAFP Prescribed Credit",
    "ancc-contact-hours": "ANCC Contact Hours",
    "acpe-contact-hours": "ACPE Contact Hours",
    "aapa-category-1": "AAPA Category 1 CME Credit",
}
POC_ACTIVITY_ID = "bedside-internet-poc"
UNSAFE = re.compile(r"[\t\r\n]+")


@dataclass(frozen=True)
class Completion:
    """One line of the batch before the learner's identifiers are added."""

    activity_id: str
    completed_at: str  # ledger timestamp
    credit_type: str
    amount: Decimal
    registered: bool  # False: Bedside's own key stands in for a PARS activity ID


@dataclass(frozen=True)
class ParsBatch:
    """The batch file and what was left out of it."""

    text: str
    rows: int
    learners: int
    skipped_no_consent: int
    skipped_no_identifier: int
    skipped_no_birth_day: int
    unregistered: tuple[str, ...] = ()  # activity IDs written that the provider did not register

    def summary(self) -> str:
        """Say in one line what the batch holds and whom it skipped."""
        parts = [f"{self.rows} PARS {noun(self.rows, 'line')} for {learners(self.learners)}"]
        if self.skipped_no_consent:
            parts.append(f"{learners(self.skipped_no_consent)} skipped: no consent to share")
        if self.skipped_no_identifier:
            count = self.skipped_no_identifier
            parts.append(f"{learners(count)} skipped: no board or licence ID")
        if self.skipped_no_birth_day:
            count = self.skipped_no_birth_day
            parts.append(f"{learners(count)} skipped: no month/day of birth (PARS requires it)")
        if self.unregistered:
            listed = ", ".join(self.unregistered)
            parts.append(f"no registered PARS activity ID for {listed} (Bedside's ID written)")
        return "; ".join(parts) + "."


def pars_batch(
    store: LedgerStore,
    records: Iterable[CreditRecord],
    *,
    aggregate_poc: bool = True,
    poc_activity_id: str = POC_ACTIVITY_ID,
    activity_ids: Mapping[str, str] | None = None,
) -> ParsBatch:
    """Build the batch from ledger records (already limited to the reporting period).

    Given `activity_ids` (the provider's registrations, even none), the batch names the
    activities it wrote without a registered ID.
    """
    by_learner: dict[str, list[CreditRecord]] = defaultdict(list)
    for record in records:
        by_learner[record.learner_id].append(record)
    lines, written, no_consent, no_identifier, no_birth_day = ["\t".join(COLUMNS)], 0, 0, 0, 0
    unregistered: set[str] = set()
    for learner_id, own in by_learner.items():
        found = completions(own, aggregate_poc, poc_activity_id, activity_ids or {})
        if not found:
            continue
        identity = store.reporting_identity(learner_id)
        if identity is None:
            no_consent += 1
        elif not (identity.board_id or identity.licence_id):
            no_identifier += 1
        elif not identity.birth_month_day:
            no_birth_day += 1
        else:
            lines.extend(line(identity, completion) for completion in found)
            unregistered.update(c.activity_id for c in found if not c.registered)
            written += 1
    text = "\n".join(lines) + "\n"
    named = tuple(sorted(unregistered)) if activity_ids is not None else ()
    return ParsBatch(text, len(lines) - 1, written, no_consent, no_identifier, no_birth_day, named)


def completions(
    records: list[CreditRecord], aggregate_poc: bool, poc_id: str, activity_ids: Mapping
) -> list[Completion]:
    """Return net completions: one per case or club credit, point-of-care summed or not."""
    standing = shared.standing_credits(records)
    found = [
        completion(r, activity_ids)
        for r in standing
        if r.activity_type != "poc" or not aggregate_poc
    ]
    if aggregate_poc:
        found.extend(aggregated([r for r in standing if r.activity_type == "poc"], poc_id))
    return [c for c in found if c.amount > 0]


def completion(record: CreditRecord, activity_ids: Mapping[str, str]) -> Completion:
    """Describe one credit record as a completion of its registered activity, else its key."""
    registered = registered_id(record, activity_ids)
    return Completion(
        registered or record.activity_key,
        record.earned_at,
        record.credit_type,
        amount(record),
        registered is not None,
    )


def aggregated(records: Iterable[CreditRecord], poc_id: str) -> list[Completion]:
    """Sum point-of-care credit per credit type into one activity dated at the last cycle."""
    totals: dict[str, Decimal] = {}
    latest: dict[str, str] = {}
    for record in records:
        kind = record.credit_type
        totals[kind] = totals.get(kind, Decimal(0)) + amount(record)
        latest[kind] = max(latest.get(kind, ""), record.earned_at)
    registered = poc_id != POC_ACTIVITY_ID
    return [
        Completion(poc_id, latest[kind], kind, totals[kind], registered) for kind in sorted(totals)
    ]


def registered_id(record: CreditRecord, activity_ids: Mapping[str, str]) -> str | None:
    """Return the PARS activity ID the provider registered for a record's activity, if any.

    Looked up by activity key, then by kind and module; a case also by its module id alone. A
    journal club is its own activity: the module it discussed does not lend it its ID.
    """
    names = [record.activity_key]
    if record.module_id and record.activity_type != "journal-club":
        names.append(f"{record.activity_type}:{record.module_id}")
        if record.activity_type == "case":
            names.append(record.module_id)
    return next((activity_ids[name] for name in names if name in activity_ids), None)


def amount(record: CreditRecord) -> Decimal:
    """Return a record's amount."""
    return from_hundredths(record.amount_hundredths)


def line(identity: ReportingIdentity, completion: Completion) -> str:
    """Write one tab-delimited line."""
    year, month, day = completion.completed_at[:10].split("-")
    fields = (
        identity.board_id or "",
        identity.licence_id or "",
        identity.licence_state or "",
        identity.first_name,
        identity.last_name,
        identity.birth_month_day or "",
        completion.activity_id,
        f"{month}/{day}/{year}",
        CREDIT_NAMES.get(completion.credit_type, completion.credit_type),
        shared.amount_text(completion.amount),
        "Y",
    )
    return "\t".join(UNSAFE.sub(" ", field).strip() for field in fields)


def noun(count: int, word: str) -> str:
    """Say 'line' or 'lines'."""
    return word if count == 1 else word + "s"


def learners(count: int) -> str:
    """Say '1 learner' or '3 learners'."""
    return f"{count} {noun(count, 'learner')}"
