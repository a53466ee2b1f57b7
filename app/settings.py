"""The settings Bedside understands: names, defaults, kinds and help, in one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "BEDSIDE_"


@dataclass(frozen=True)
class Setting:
    """One configuration key: its default, its kind and the help shown in the README."""

    name: str
    default: object
    kind: str  # bool | int | str | url | path | file | choice
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DEMO", False, "bool", "Demo mode: fixture FHIR server at `/fhir`, demo EHR, demo keys."
    ),
    Setting(
        "SECRET_KEY",
        None,
        "str",
        "Session signing key. If unset, one is generated once into `instance/secret_key`.",
    ),
    Setting(
        "DATABASE", "instance/bedside.db", "path", "SQLite ledger file (relative to the repo)."
    ),
    Setting(
        "DATABASE_URL",
        None,
        "str",
        "The shared stores' database: `sqlite:///path` or `postgresql://user@host:5432/db`.",
    ),
    Setting(
        "CDS_CLIENTS",
        None,
        "file",
        'JSON file of trusted CDS clients: `[{"iss": …, "jku": …, "jwks": {…}}]`.',
    ),
    Setting(
        "CDS_AUTH",
        "on",
        "choice",
        "CDS client JWT authentication; `off` only for local experiments (logged loudly).",
        choices=("on", "off"),
    ),
    Setting(
        "PUBLIC_BASE_URL",
        None,
        "url",
        "Public URL of this service when behind a proxy (JWT `aud` and card links use it).",
    ),
    Setting("CONTENT_DIR", "content", "path", "Content library folder (modules and value sets)."),
    Setting(
        "FHIR_FIXTURES_DIR", "fhir_fixtures", "path", "Synthetic FHIR fixtures for demo/tests."
    ),
    Setting("CDS_MAX_CARDS", 2, "int", "Most cards returned by one CDS Hooks call.", minimum=0),
    Setting(
        "CDS_MAX_RESOURCES",
        5000,
        "int",
        "Most FHIR resources one CDS Hooks call may carry (prefetched entries plus draft "
        "orders); beyond it the call gets 413.",
        minimum=1,
    ),
    Setting(
        "CDS_TIME_BUDGET_SECONDS",
        5,
        "int",
        "Seconds one CDS Hooks call may compute (FHIR fetches included); past it the call "
        "stops and gets 503 with no cards.",
        minimum=1,
    ),
    Setting(
        "MAX_REQUEST_BYTES",
        5 * 1024 * 1024,
        "int",
        "Largest request body accepted, in bytes, chunked or not; larger bodies get 413 "
        "before they are read.",
        minimum=1024,
    ),
    Setting(
        "CDS_SNOOZE_DAYS",
        7,
        "int",
        "Days a module stays hidden from a user who overrode it.",
        minimum=0,
    ),
    Setting(
        "CDS_REPEAT_MINUTES",
        60,
        "int",
        "Minutes before a card shown to a user about a patient may be shown again, for modules "
        "that declare no `frequency` when the call names no encounter; 0 turns every frequency "
        "rule off (demos, tests).",
        minimum=0,
    ),
    Setting(
        "CDS_MASTERED_QUIET_DAYS",
        7,
        "int",
        "Days a card on a topic the user has mastered stays quiet after it was shown (0: never).",
        minimum=0,
    ),
    Setting(
        "CDS_CORS_ORIGINS",
        "*",
        "str",
        "Browser origins allowed to call the CDS services: `*` or a space-separated list.",
    ),
    Setting(
        "CDS_FHIR_MAX_RESPONSE_BYTES",
        4 * 1024 * 1024,
        "int",
        "Largest FHIR response read when fetching missing prefetch; a larger one fails the fetch.",
        minimum=1024,
    ),
    Setting(
        "CDS_FHIR_MAX_CALL_BYTES",
        8 * 1024 * 1024,
        "int",
        "Most bytes one hook call reads from its FHIR server, all fetches and pages together.",
        minimum=1024,
    ),
    Setting(
        "FHIR_INSECURE_HOSTS",
        None,
        "str",
        "Hosts whose FHIR server may be plain http (space-separated `host` or `host:port`); "
        "every other fhirServer must be https.",
    ),
    Setting(
        "CDS_FLOOR_ENDPOINT",
        False,
        "bool",
        "Expose `POST /cds-services/_floor/{id}` (parse only) as the benchmark's baseline.",
    ),
    Setting(
        "ROLES",
        None,
        "file",
        "JSON file of discussion and editorial roles: "
        '`{"fhir_users": {absolute fhirUser: [role…]}, '
        '"ehr_roles": {issuer: {value: [role…]}}, "role_claim"?: …}` '
        "(moderator, editor, facilitator, admin).",
    ),
    Setting(
        "SMART_CLIENTS",
        None,
        "file",
        'JSON file of EHR registrations for the SMART app: `[{"iss": …, "client_id": …, '
        '"scope"?: …, "client_secret"? or "private_key"?: {JWK, RS384/ES384}}]`.',
    ),
    Setting(
        "SMART_SESSION_SECONDS",
        28800,
        "int",
        "How long a launched SMART session lasts, in seconds.",
        minimum=60,
    ),
    Setting(
        "SMART_OFFLINE_ACCESS",
        False,
        "bool",
        "Ask EHRs for `offline_access` (refresh tokens that outlive the EHR session).",
    ),
    Setting(
        "BACKEND_CLIENTS",
        None,
        "file",
        "JSON file of SMART Backend Services registrations for `bedside outcomes`: "
        '`[{"iss": FHIR base, "client_id": …, "private_key": {JWK, RS384/ES384}, '
        '"scope"?: …, "token_url"?: …}]`.',
    ),
    Setting(
        "SMART_TOKEN_KEY",
        None,
        "str",
        "Key that encrypts SMART tokens at rest (AES-GCM). If unset, made once into "
        "`instance/smart_token_key`.",
    ),
    Setting(
        "SMTP_URL",
        None,
        "str",
        "Mail server for review questions by e-mail: `smtp://user:pass@host:587?starttls=1`, "
        "`smtps://user:pass@host:465` or `smtp://relay:25` (docs/email.md).",
    ),
    Setting(
        "MAIL_FROM",
        "Bedside <bedside@localhost>",
        "str",
        "The From address of Bedside's e-mails.",
    ),
    Setting(
        "CDS_IDENTITY_KEY",
        None,
        "str",
        "Key of the keyed hashes that stand for CDS users and patients (snoozes, repeat "
        "suppression). If unset, made once into `instance/cds_identity_key`. Upgrading from a "
        "version that hashed them with the secret key: set it to that old secret key to keep "
        "today's snoozes.",
    ),
    Setting(
        "LEDGER_IDENTITY_KEY",
        None,
        "str",
        "Key for learner ids and idempotency hashes. If unset, made once into "
        "`instance/ledger_identity_key`. Never change it: learner ids would split.",
    ),
    Setting(
        "LEDGER_POC_CREDIT",
        "ama-pra-category-1:0.50",
        "str",
        "Credit per completed point-of-care cycle: space-separated `type:amount`.",
    ),
    Setting(
        "LEDGER_POC_WINDOW_HOURS",
        72,
        "int",
        "Hours after a point-of-care cycle starts within which its application may be recorded.",
        minimum=1,
    ),
    Setting(
        "LEDGER_JOURNAL_CLUB_CREDIT",
        "ama-pra-category-1:1.00",
        "str",
        "Credit a journal-club member earns once per club for a reflection posted in its "
        "discussion window: space-separated `type:amount`.",
    ),
    Setting(
        "LEDGER_ANNUAL_CAP",
        "ama-pra-category-1:20",
        "str",
        "Yearly cap per credit type (UTC calendar year), `type:amount`; empty means no cap.",
    ),
    Setting(
        "LEDGER_CREDIT_TYPES",
        "ama-pra-category-1 aafp-prescribed ancc-contact-hours acpe-contact-hours aapa-category-1",
        "str",
        "Credit types this provider may award (space-separated).",
    ),
    Setting(
        "ACCREDITATION_PROVIDER",
        "Bedside demo provider (not accredited)",
        "str",
        "CME provider named on certificates and as the badge issuer (default: a placeholder).",
    ),
    Setting(
        "ACCREDITATION_STATEMENT",
        "DEMONSTRATION ONLY: Bedside demo provider is not accredited by the ACCME or any "
        "other accreditor. This document is not evidence of AMA PRA Category 1 Credit™ or "
        "any other credit.",
        "str",
        "Accreditation statement printed on certificates (the wording your accreditor approved).",
    ),
    Setting(
        "ACCREDITATION_DESIGNATIONS",
        None,
        "file",
        "JSON file of each credit type's designation statement as its accreditor words it, e.g. "
        '`{"aafp-prescribed": "… {amount} …"}`, or one per language, `{"aafp-prescribed": '
        '{"en": "…", "es": "…"}}` (placeholders {provider}, {format}, {amount}, {credit}, '
        "filled in the statement's language); only the AMA's is built in, and other types "
        "print none without one.",
    ),
    Setting(
        "BADGE_STATUS_MAX_AGE",
        300,
        "int",
        "Seconds verifiers may cache the badge revocation list (its `ttl` and Cache-Control).",
        minimum=0,
    ),
    Setting(
        "PARS_POC_ACTIVITY_ID",
        "bedside-internet-poc",
        "str",
        "PARS activity ID of the aggregated internet point-of-care activity.",
    ),
    Setting(
        "PARS_ACTIVITY_IDS",
        None,
        "file",
        "JSON file of the activity IDs registered in PARS, e.g. "
        '`{"sepsis-hour-1-bundle": "202612345", "poc:sepsis-hour-1-bundle": "…"}` (a module id '
        "for its case, `case:`/`poc:` and a module id, or an activity key).",
    ),
    Setting(
        "PRACTICE_ISSUER",
        None,
        "url",
        "The EHR (its SMART `iss`) whose Practitioner ids the saved practice data use; needed "
        "only when several EHRs are trusted (with one, it is that one).",
    ),
    Setting(
        "DEMO_PRACTICE_CLINICIAN",
        "C03",
        "str",
        "Demo mode only: the synthetic clinician whose practice data the /app/next page shows.",
    ),
    Setting(
        "FRAME_ANCESTORS",
        "'self'",
        "str",
        "CSP frame-ancestors: origins allowed to embed the app (EHRs that frame SMART apps).",
    ),
    Setting(
        "COOKIE_SAMESITE",
        "Lax",
        "choice",
        "SameSite of Bedside's cookies. `None` (Secure and Partitioned; needs an https "
        "`BEDSIDE_PUBLIC_BASE_URL`) for EHRs that show the app in a cross-site iframe.",
        choices=("Lax", "Strict", "None"),
    ),
    Setting(
        "CDS_RATE_LIMIT",
        "600 per minute",
        "str",
        "Calls one CDS client may make from one address (its JWT's `iss` and the caller's "
        "address), e.g. `600 per minute` or `20/second`; beyond it a 429 with `Retry-After`.",
    ),
    Setting(
        "APP_RATE_LIMIT",
        "300 per minute",
        "str",
        "Requests one live learner session (else one address) may make to the app pages; beyond "
        "it a 429 with `Retry-After`. The launch endpoints allow each address as many.",
    ),
    Setting(
        "RATE_LIMIT_STORAGE",
        "memory://",
        "str",
        "Where the rate-limit counters live: `memory://` counts in each worker (N workers allow "
        "up to N times the limit); a shared store URI (e.g. `redis://host:6379`, with the "
        "`limits[redis]` extra installed) counts across workers and hosts.",
    ),
    Setting(
        "PROXY_HOPS",
        0,
        "int",
        "Reverse proxies in front of Bedside whose `X-Forwarded-For` and `X-Forwarded-Proto` "
        "are trusted (0: none, the headers are ignored; behind one nginx: 1). Rate limits and "
        "logs then see the caller's address instead of the proxy's.",
        minimum=0,
    ),
    Setting(
        "LOG_LEVEL",
        "INFO",
        "choice",
        "Log level. DEBUG adds diagnostic records but never outbound request lines (FHIR paths "
        "and queries name the patient) or token exchanges: urllib3, requests and Authlib stay "
        "at INFO. Tokens and Authorization headers are always redacted.",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
)

SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}
# Variables read by single CLI commands, never by the app (and never kept in its config).
CLI_ONLY_VARIABLES = frozenset({"HOOK_TOKEN"})


def defaults() -> dict[str, object]:
    """Return the built-in default for every setting."""
    return {setting.name: setting.default for setting in SETTINGS}
