"""Output configuration: the accreditation statements, the provider's name, the PARS activity IDs
and the public base URL.

The defaults are deliberately labelled placeholders, so nobody mistakes the demo for an accredited
provider. An accredited provider sets BEDSIDE_ACCREDITATION_PROVIDER and
BEDSIDE_ACCREDITATION_STATEMENT to the wording its accreditor approved, and
BEDSIDE_ACCREDITATION_DESIGNATIONS to a JSON file of its designation statement per credit type
(`{"aafp-prescribed": "…{amount}…"}`, or one statement per language,
`{"aafp-prescribed": {"en": "…", "es": "…"}}`): only the AMA's is built in, and a credit type with
no statement gets none printed rather than the AMA's. BEDSIDE_PARS_ACTIVITY_IDS names a JSON file of
the activity IDs the provider registered in PARS (`{"sepsis-hour-1-bundle": "202612345"}`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError

from app.errors import ConfigError
from app.json_files import JsonFileProblem, read_json_file
from app.ledger.outputs.records import amount_text, credit_label
from app.ledger.rules import CREDIT_TYPES

DEMO_PROVIDER = "Bedside demo provider (not accredited)"
DEMO_STATEMENT = (
    "DEMONSTRATION ONLY: Bedside demo provider is not accredited by the ACCME or any other "
    "accreditor. This document is not evidence of AMA PRA Category 1 Credit™ or any other credit."
)
AMA_CREDIT = "ama-pra-category-1"
DESIGNATION = (
    "{provider} designates this {format} for a maximum of {amount} {credit}. Physicians should "
    "claim only the credit commensurate with the extent of their participation in the activity."
)
PLACEHOLDERS = ("provider", "format", "amount", "credit")
FORMATS = {
    "case": "enduring material",
    "poc": "internet point-of-care activity",
    "journal-club": "journal club activity",
}
DEFAULTS = {
    "ACCREDITATION_PROVIDER": DEMO_PROVIDER,
    "ACCREDITATION_STATEMENT": DEMO_STATEMENT,
    "PARS_POC_ACTIVITY_ID": "bedside-internet-poc",
}
PARS_ID_LIMIT = 100
AS_WRITTEN = ""  # a statement given as one text: printed as written, its filled-in words English
# A statement's text in each language it is given in (AS_WRITTEN for a single text).
Statements = Mapping[str, str]


class OutputSettingsError(ConfigError, ValueError):
    """An output setting Bedside cannot use; the message is one sentence naming it."""


@dataclass(frozen=True)
class Accreditation:
    """Who provides the credit and the statements printed on every certificate."""

    provider: str = DEMO_PROVIDER
    statement: str = DEMO_STATEMENT
    designations: Mapping[str, Statements] = field(default_factory=dict)  # by credit type

    @property
    def is_demo(self) -> bool:
        """Tell whether the placeholder provider is still configured."""
        return self.provider == DEMO_PROVIDER

    def designation(
        self, activity_type: str, credit_type: str, amount: Decimal, wording: Wording | None = None
    ) -> str | None:
        """Return the designation statement for an activity's credit of one type, or None.

        The provider's own statement prints as configured, in the certificate's language when it
        is given in it (else in English, else in the first language given); without one, AMA PRA
        Category 1 credit gets the AMA's statement in the certificate's language, and any other
        credit type none. The words filled in (activity format, credit name, a demo provider's
        name) and the amount are written in the statement's language.
        """
        wording = wording or Wording()
        own = self.designations.get(credit_type)
        if own is None and credit_type != AMA_CREDIT:
            return None
        language, text = chosen_statement(own, wording.language)
        words = wording.words_in(language)
        return (text if own else words(DESIGNATION)).format(
            provider=words(self.provider) if self.is_demo else self.provider,
            format=words(FORMATS.get(activity_type, "activity")),
            amount=wording.number(language or wording.language, amount),
            credit=words(credit_label(credit_type)),
        )


def chosen_statement(statements: Statements | None, language: str) -> tuple[str, str]:
    """(language, text) of the statement a certificate prints (built-in: its language, no text)."""
    if not statements:
        return language, ""
    for wanted in (language, "en"):
        for given, text in statements.items():
            if given == wanted or base_language(given) == base_language(wanted):
                return given, text
    return next(iter(statements.items()))


def base_language(tag: str) -> str:
    """The language of a locale, without its region or script (es_MX: es)."""
    return tag.replace("-", "_").split("_")[0]


def locale_name(tag: str) -> str | None:
    """A language tag (es, es-MX, pt_BR) as the locale name Babel formats in, or None."""
    try:
        return str(Locale.parse(tag.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def plain_words(language: str, text: str) -> str:
    """Words as written (outside a Flask app, or for a statement given as one text)."""
    return text


def plain_number(language: str, amount: Decimal) -> str:
    """An amount with two decimals, whatever the language (0.50)."""
    return amount_text(amount)


@dataclass(frozen=True)
class Wording:
    """How a certificate writes words and amounts in a language; plain English by default."""

    language: str = "en"
    translate: Callable[[str, str], str] = plain_words  # (language, English text) -> text
    number: Callable[[str, Decimal], str] = plain_number  # (language, amount) -> text

    def words_in(self, language: str) -> Callable[[str], str]:
        """A translator into one language; a statement given as one text fills in English."""
        if language == AS_WRITTEN:
            return str
        return lambda text: self.translate(language, text)


@dataclass(frozen=True)
class OutputSettings:
    """What the exports need from configuration."""

    base_url: str | None
    accreditation: Accreditation
    pars_poc_activity_id: str = DEFAULTS["PARS_POC_ACTIVITY_ID"]
    pars_activity_ids: Mapping[str, str] = field(default_factory=dict)

    def public_url(self) -> str:
        """Return the base URL activities and the badge issuer are named by; refuse without one."""
        if not self.base_url:
            raise ValueError(
                "Exports name activities and the badge issuer by URL: set "
                "BEDSIDE_PUBLIC_BASE_URL or give --base-url."
            )
        return self.base_url


def output_settings(config: Mapping[str, object], base_url: str | None = None) -> OutputSettings:
    """Read the output settings from app config (unregistered ones take their defaults)."""
    setting = {name: config.get(name) or default for name, default in DEFAULTS.items()}
    base = base_url or config.get("PUBLIC_BASE_URL")
    return OutputSettings(
        base_url=str(base).rstrip("/") if base else None,
        accreditation=Accreditation(
            provider=str(setting["ACCREDITATION_PROVIDER"]),
            statement=str(setting["ACCREDITATION_STATEMENT"]),
            designations=designations(config.get("ACCREDITATION_DESIGNATIONS")),
        ),
        pars_poc_activity_id=str(setting["PARS_POC_ACTIVITY_ID"]),
        pars_activity_ids=pars_activity_ids(config.get("PARS_ACTIVITY_IDS")),
    )


def designations(path: object) -> dict[str, dict[str, str]]:
    """Read the designation statements per credit type (one text, or one per language); each
    fills with the known placeholders."""
    name = "ACCREDITATION_DESIGNATIONS"
    found: dict[str, dict[str, str]] = {}
    for credit_type, given in json_object_file(name, path).items():
        if credit_type not in CREDIT_TYPES:
            raise problem(name, path, f"names unknown credit type {credit_type!r}")
        statements = statements_by_language(name, path, credit_type, given)
        for statement in statements.values():
            check_placeholders(name, path, credit_type, statement)
        found[credit_type] = statements
    return found


def statements_by_language(name: str, path: object, credit_type: str, given: object) -> dict:
    """One credit type's statements by language tag ({AS_WRITTEN: text} for a single text)."""
    if isinstance(given, str):
        if not given.strip():
            raise problem(name, path, f"gives {credit_type} an empty statement")
        return {AS_WRITTEN: given.strip()}
    if not isinstance(given, dict) or not given:
        raise problem(name, path, f"gives {credit_type} neither a text nor texts by language")
    statements = {}
    for language, text in given.items():
        locale = locale_name(str(language))
        if locale is None:
            raise problem(
                name,
                path,
                f"gives {credit_type} a statement in {language!r}, which "
                "is not a language tag such as en, es or es-MX",
            )
        if not isinstance(text, str) or not text.strip():
            raise problem(name, path, f"gives {credit_type} an empty {language} statement")
        statements[locale] = text.strip()
    return statements


def check_placeholders(name: str, path: object, credit_type: str, statement: str) -> None:
    """Refuse a statement with a placeholder other than the known ones."""
    try:
        statement.format(**dict.fromkeys(PLACEHOLDERS, ""))
    except (KeyError, IndexError, ValueError) as error:
        allowed = ", ".join("{" + word + "}" for word in PLACEHOLDERS)
        fault = f"unknown placeholder {error}" if isinstance(error, LookupError) else error
        raise problem(
            name, path, f"has a {credit_type} statement with {fault}; it may use {allowed}"
        ) from None


def pars_activity_ids(path: object) -> dict[str, str]:
    """Read the registered PARS activity IDs: one line's field each, so no tabs or newlines."""
    name = "PARS_ACTIVITY_IDS"
    ids = texts_file(name, path)
    for key, activity_id in ids.items():
        if len(activity_id) > PARS_ID_LIMIT or any(c in activity_id for c in "\t\r\n"):
            fault = f"longer than {PARS_ID_LIMIT} characters or with a tab or line break"
            raise problem(name, path, f"gives {key} an activity ID {fault}")
    return ids


def texts_file(name: str, path: object) -> dict[str, str]:
    """Read a setting's JSON file of non-empty texts by name ({} when the setting is unset)."""
    data = json_object_file(name, path)
    if not all(isinstance(text, str) and text.strip() for text in data.values()):
        raise problem(name, path, "is not a JSON object whose values are non-empty texts")
    return {key: text.strip() for key, text in data.items()}


def json_object_file(name: str, path: object) -> dict[str, object]:
    """Read a setting's JSON file holding one object ({} when the setting is unset)."""
    if not path:
        return {}
    try:
        data = read_json_file(Path(str(path)))
    except JsonFileProblem as error:
        raise problem(name, path, str(error)) from None
    if not isinstance(data, dict):
        raise problem(name, path, "is not a JSON object")
    return {str(key): value for key, value in data.items()}


def problem(name: str, path: object, fault: str) -> OutputSettingsError:
    """Say in one sentence which setting's file is wrong and why."""
    return OutputSettingsError(f"BEDSIDE_{name} ({path}) {fault}.")
