"""Output configuration: the accreditation statement, the provider's name and the public base URL.

The defaults are deliberately labelled placeholders, so nobody mistakes the demo for an accredited
provider. An accredited provider sets BEDSIDE_ACCREDITATION_PROVIDER and
BEDSIDE_ACCREDITATION_STATEMENT to the wording its accreditor approved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.ledger.outputs.records import amount_text, credit_label

DEMO_PROVIDER = "Bedside demo provider (not accredited)"
DEMO_STATEMENT = (
    "DEMONSTRATION ONLY: Bedside demo provider is not accredited by the ACCME or any other "
    "accreditor. This document is not evidence of AMA PRA Category 1 Credit™ or any other credit."
)
DESIGNATION = (
    "{provider} designates this {format} for a maximum of {amount} {credit}. Physicians should "
    "claim only the credit commensurate with the extent of their participation in the activity."
)
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


@dataclass(frozen=True)
class Accreditation:
    """Who provides the credit and the statements printed on every certificate."""

    provider: str = DEMO_PROVIDER
    statement: str = DEMO_STATEMENT
    designation_template: str = DESIGNATION

    @property
    def is_demo(self) -> bool:
        """Tell whether the placeholder provider is still configured."""
        return self.provider == DEMO_PROVIDER

    def designation(
        self,
        activity_type: str,
        credit_type: str,
        amount: Decimal,
        translate: Callable[[str], str] = str,
        number: Callable[[Decimal], str] = amount_text,
    ) -> str:
        """Return the designation statement for an activity's credit of one type.

        `translate` (a gettext) puts the wording in the certificate's language; the provider's
        own name stays as configured; `number` writes the amount the local way.
        """
        return translate(self.designation_template).format(
            provider=translate(self.provider) if self.is_demo else self.provider,
            format=translate(FORMATS.get(activity_type, "activity")),
            amount=number(amount),
            credit=translate(credit_label(credit_type)),
        )


@dataclass(frozen=True)
class OutputSettings:
    """What the exports need from configuration."""

    base_url: str | None
    accreditation: Accreditation
    pars_poc_activity_id: str = DEFAULTS["PARS_POC_ACTIVITY_ID"]

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
        ),
        pars_poc_activity_id=str(setting["PARS_POC_ACTIVITY_ID"]),
    )
