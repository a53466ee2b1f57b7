"""Units as clinicians read them: one table from UCUM codes to display text, with a safe fallback.

FHIR quantities carry UCUM codes (`Cel`, `mm[Hg]`, `10*3/uL`), which are exact but not what a chart
prints. A code missing from the table falls back to the quantity's own `unit` text, then to the code
itself: a unit is never dropped or guessed.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.fhir_json import as_dict, as_str, dicts_in, is_number

UCUM_DISPLAY = {
    "Cel": "°C",
    "[degF]": "°F",
    "mm[Hg]": "mmHg",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "10*3/uL": "\N{MULTIPLICATION SIGN}10³/µL",
    "10*6/uL": "\N{MULTIPLICATION SIGN}10⁶/µL",
    "10*9/L": "\N{MULTIPLICATION SIGN}10⁹/L",
    "10*12/L": "\N{MULTIPLICATION SIGN}10¹²/L",
    "/min": "/min",
    "{beats}/min": "beats/min",
    "{breaths}/min": "breaths/min",
    "%": "%",
    "kg/m2": "kg/m²",
    "m2": "m²",
    "ug": "µg",
    "ug/L": "µg/L",
    "ug/mL": "µg/mL",
    "ng/mL": "ng/mL",
    "uL": "µL",
    "umol/L": "µmol/L",
    "meq/L": "mEq/L",
    "mEq/L": "mEq/L",
    "[iU]/L": "IU/L",
    "U/L": "U/L",
    "[in_i]": "in",
    "[lb_av]": "lb",
    "h": "h",
}
NO_SPACE_BEFORE = frozenset({"%"})
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
LOINC = "http://loinc.org"


def unit_text(quantity: Mapping) -> str:
    """A quantity's unit for display: the table's text for its UCUM code, else its own text."""
    code = as_str(quantity.get("code")) or ""
    unit = as_str(quantity.get("unit")) or ""
    return UCUM_DISPLAY.get(code) or UCUM_DISPLAY.get(unit) or unit or code


def with_unit(number: str, quantity: Mapping) -> str:
    """A formatted number followed by its display unit ("38.9 °C", "93%")."""
    unit = unit_text(quantity)
    if not unit:
        return number
    return f"{number}{unit}" if unit in NO_SPACE_BEFORE else f"{number} {unit}"


def blood_pressure_parts(observation: Mapping) -> tuple[Mapping, Mapping] | None:
    """The systolic and diastolic quantities of a blood-pressure panel, when both are there."""
    found: dict[str, Mapping] = {}
    for component in dicts_in(observation.get("component")):
        quantity = component.get("valueQuantity")
        if not isinstance(quantity, Mapping) or not is_number(quantity.get("value")):
            continue
        for coding in dicts_in(as_dict(component.get("code")).get("coding")):
            code = coding.get("code")
            if coding.get("system") == LOINC and code in (SYSTOLIC, DIASTOLIC):
                found[code] = quantity
    if SYSTOLIC in found and DIASTOLIC in found:
        return found[SYSTOLIC], found[DIASTOLIC]
    return None
