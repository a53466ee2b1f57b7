"""How often a module's card may be shown: its frequency rule, and whether past showings forbid it.

Pure logic over plain data (no Flask, no SQL). The counting follows CDS products' lockouts (Epic
BPA lockout, Cerner suppression): per patient and per encounter, whichever hook showed the card.
Bedside counts per clinician (the user a card was shown to): a colleague who has not seen a card
has not yet had the chance to act on it, and an override rate means one decision per exposure.

- `once_per: encounter` — once per user, patient and encounter. A call that names no encounter
  falls back to a window: the card stays away if it was shown within `every_days` (else the
  deployment's repeat window, CDS_REPEAT_MINUTES). A showing that named no encounter counts in
  every encounter while it lies within that window.
- `once_per: patient` with `every_days: N` — once per user and patient every N days, whatever the
  encounter.
- No `frequency` — as `once_per: encounter` with the deployment's repeat window as fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

SECONDS_PER_DAY = 86_400
ENCOUNTER, PATIENT = "encounter", "patient"


@dataclass(frozen=True)
class FrequencyRule:
    """At most one showing per encounter (ENCOUNTER) or per window (PATIENT)."""

    once_per: str
    window_seconds: float  # PATIENT: the window; ENCOUNTER: the fallback without an encounter


class Showing(NamedTuple):
    """The latest time a module's card was shown to this user about this patient in one place."""

    module_id: str
    service_id: str
    encounter_key: str  # '' when the call named no encounter
    shown_at: float


def frequency_rule(module: Mapping[str, Any], default_window_seconds: float) -> FrequencyRule:
    """The module's declared rule (card.frequency), or the documented default."""
    declared = module["card"].get("frequency") or {}
    once_per = declared.get("once_per", ENCOUNTER)
    days = declared.get("every_days")
    window = days * SECONDS_PER_DAY if days is not None else default_window_seconds
    return FrequencyRule(once_per, window)


def shown_too_often(
    rule: FrequencyRule, showings: Iterable[Showing], encounter_key: str, now: float
) -> bool:
    """Tell whether one more showing now would break the rule, given this module's past showings."""
    since = now - rule.window_seconds
    for showing in showings:
        if showing.shown_at >= since and (
            rule.once_per == PATIENT or not encounter_key or not showing.encounter_key
        ):
            return True  # within the window, and the window applies
        if rule.once_per == ENCOUNTER and encounter_key and showing.encounter_key == encounter_key:
            return True  # already shown in this encounter
    return False
