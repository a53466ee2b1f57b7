"""xAPI statements from the ledger (1.0.3, or 2.0.0 = IEEE 9274.1.1-2023): one per ledger record.

- actor: an Agent identified only by `account {homePage: <base URL>, name: <opaque learner id>}`
  (never an e-mail, name or mbox).
- object: the activity `<base URL>/activities/<case|poc>/<module>/<version>` (a journal club:
  `<base URL>/activities/journal-club%3A<club>`), one id per activity type, as an Activity id
  must always name the same activity; Open Badges achievements use it too (activity_id).
- A case credit is `passed` (ADL) with `result.score` from the credit's evidence; a
  point-of-care credit is `completed` with the cycle's duration. A reversal is a `voided`
  statement whose object is a StatementRef to the statement of the record it cancels (xAPI's own
  correction mechanism).
- A case with two credit types yields two statements sharing one `context.registration` (the
  attempt); count completions by registration, credit by the `credit` extension.
- Statement ids are UUID v5 of the record hash, so re-exporting gives the same ids (LRSs dedupe).
- Send with the header `X-Experience-API-Version` naming the version (version_header).
- `version` is left out in both versions: a Learning Record Provider SHOULD NOT set it (if set it
  MUST be "1.0.0" in 1.0.3, "2.0.0" in 2.0.0); the LRS fills it. Only the header names the patch.

1.0.3 stays the default for older LRSs. What 2.0.0 changes in the statements Bedside makes:
- Timestamps are RFC 3339 in UTC ("Z") with exactly millisecond precision (so in 1.0.3 too), never
  later than the export. Durations keep at most 0.01 s.
- No property outside the specification's and no empty object (SHOULD*s that became SHALLs);
  Bedside's statements name no instructor or team, so `contextAgents`/`contextGroups` are unused.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from app.ledger.chain import CreditRecord, from_hundredths, parse_timestamp
from app.ledger.outputs import records as shared

XAPI_VERSION = "1.0.3"
XAPI_2 = "2.0.0"
VERSIONS = (XAPI_VERSION, XAPI_2)
VERSION_HEADER = ("X-Experience-API-Version", XAPI_VERSION)
STATEMENT_NAMESPACE = uuid.UUID("5b0f3f0e-2f4c-5b8e-9a35-6d2f1c0b7a11")
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
VERBS = {"case": "passed", "poc": "completed", "journal-club": "completed"}
ACTIVITY_TYPES = {
    "case": "http://adlnet.gov/expapi/activities/assessment",
    "poc": "https://xapi.bedside.example/activity-types/point-of-care-cycle",
    "journal-club": "https://xapi.bedside.example/activity-types/journal-club",
}
EXTENSIONS = "https://xapi.bedside.example/extensions/"
CREDIT_EXTENSION = EXTENSIONS + "credit"
RECORD_EXTENSION = EXTENSIONS + "ledger-record"


def statements(
    records: Iterable[CreditRecord],
    *,
    base_url: str,
    library: Mapping[str, dict] | None = None,
    language: str = "en",
    version: str = XAPI_VERSION,
) -> Iterator[dict]:
    """Yield one xAPI statement per ledger record, in chain order, for an xAPI version."""
    check_version(version)
    for record in records:
        if record.kind == "reversal":
            yield voiding_statement(record, base_url)
        else:
            yield credit_statement(record, base_url, library or {}, language)


def check_version(version: str) -> str:
    """Return a supported xAPI version; ValueError (one sentence) for any other."""
    if version not in VERSIONS:
        choices = " or ".join(VERSIONS)
        raise ValueError(f"xAPI version {version!r} is not supported: choose {choices}.")
    return version


def version_header(version: str = XAPI_VERSION) -> tuple[str, str]:
    """Return the HTTP header to send statements of this version with."""
    return (VERSION_HEADER[0], version)


def statement_id(record_hash: str) -> str:
    """Return the deterministic statement id of a ledger record."""
    return str(uuid.uuid5(STATEMENT_NAMESPACE, record_hash))


def actor(record: CreditRecord, base_url: str) -> dict:
    """Return the opaque account actor of a record's learner."""
    return {"objectType": "Agent", "account": {"homePage": base_url, "name": record.learner_id}}


def verb(name: str) -> dict:
    """Return an ADL verb with its English display."""
    return {"id": ADL_VERBS + name, "display": {"en-US": name}}


def activity_id(record: CreditRecord, base_url: str) -> str:
    """Return the activity IRI: {base}/activities/{case|poc}/{module}/{version}.

    The activity type is part of it: a case and a point-of-care cycle on one module version are
    two activities. Records without a module version (journal clubs) use their activity key.
    """
    if record.module_id and record.module_version:
        module, version = quote(record.module_id), quote(record.module_version)
        return f"{base_url}/activities/{quote(record.activity_type)}/{module}/{version}"
    return f"{base_url}/activities/{quote(record.activity_key, safe='')}"


def credit_statement(
    record: CreditRecord, base_url: str, modules: Mapping[str, dict], language: str
) -> dict:
    """Describe a credit record: the learner passed a case or completed a point-of-care cycle."""
    return {
        "id": statement_id(record.record_hash),
        "actor": actor(record, base_url),
        "verb": verb(VERBS[record.activity_type]),
        "object": {
            "objectType": "Activity",
            "id": activity_id(record, base_url),
            "definition": {
                "name": shared.titles(modules, record),
                "type": ACTIVITY_TYPES[record.activity_type],
            },
        },
        "result": result(record),
        "context": context(record, language),
        "timestamp": instant(parse_timestamp(record.earned_at)),
    }


def voiding_statement(record: CreditRecord, base_url: str) -> dict:
    """Describe a reversal: void the statement of the credit record it cancels."""
    reversed_hash = json.loads(record.evidence)["reverses_hash"]
    return {
        "id": statement_id(record.record_hash),
        "actor": actor(record, base_url),
        "verb": verb("voided"),
        "object": {"objectType": "StatementRef", "id": statement_id(reversed_hash)},
        "context": {"extensions": {RECORD_EXTENSION: record_extension(record)}},
        "timestamp": instant(parse_timestamp(record.recorded_at)),
    }


def result(record: CreditRecord) -> dict:
    """Return the result: the case score, or the point-of-care cycle's completion and duration."""
    evidence = json.loads(record.evidence)
    if record.activity_type == "case":
        correct, total = int(evidence.get("correct", 0)), int(evidence.get("total", 0))
        outcome: dict = {"success": True, "completion": True}
        if total > 0:
            scaled = round(correct / total, 4)
            outcome["score"] = {"scaled": scaled, "raw": correct, "min": 0, "max": total}
        return outcome
    outcome = {"completion": True}
    if "started_at" in evidence:
        started = parse_timestamp(evidence["started_at"])
        outcome["duration"] = duration(parse_timestamp(record.earned_at) - started)
    return outcome


def context(record: CreditRecord, language: str) -> dict:
    """Return the context: the attempt as registration, the language, credit and record."""
    return {
        "registration": registration(record),
        "language": shared.pick_language(language),
        "platform": "Bedside",
        "extensions": {
            CREDIT_EXTENSION: {
                "type": record.credit_type,
                "amount": float(from_hundredths(record.amount_hundredths)),
                "designated": float(from_hundredths(record.designated_hundredths)),
            },
            RECORD_EXTENSION: record_extension(record),
        },
    }


def record_extension(record: CreditRecord) -> dict:
    """Return where the statement's record sits in the hash chain."""
    return {"sequence": record.sequence, "hash": record.record_hash}


def registration(record: CreditRecord) -> str:
    """Return the attempt id (a UUID), or a UUID derived from the activity and completion time."""
    if record.attempt_id:
        return str(uuid.UUID(record.attempt_id))
    return str(uuid.uuid5(STATEMENT_NAMESPACE, f"{record.activity_key}|{record.earned_at}"))


def instant(moment: datetime) -> str:
    """Format a moment as RFC 3339 in UTC with milliseconds and Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def duration(span: timedelta) -> str:
    """Format a timedelta as an ISO 8601 duration (PT#H#M#S, seconds to 0.01)."""
    centiseconds = max(round(span.total_seconds() * 100), 0)
    hours, rest = divmod(centiseconds, 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds = f"{rest // 100}.{rest % 100:02d}".rstrip("0").rstrip(".")
    return f"PT{hours}H{minutes}M{seconds}S"


def to_json(items: Iterable[dict]) -> str:
    """Write statements as one JSON array (what POST /statements accepts)."""
    return json.dumps(list(items), ensure_ascii=False, indent=2) + "\n"


def to_ndjson(items: Iterable[dict]) -> Iterator[str]:
    """Yield statements as newline-delimited JSON, one per line."""
    for item in items:
        yield json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
