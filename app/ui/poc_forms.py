"""Read and check the point-of-care forms; free text must not look like patient data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from app.ledger.privacy import NO_TERMS, IdentifyingTerms
from app.ui import labels

QUESTION_MAX = 300
NOTES_MAX = 1000


@dataclass
class FormResult:
    """What a form said (cleaned values) and what is wrong with it (field → message)."""

    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Tell whether the form can be recorded."""
        return not self.errors


def patient_data_error(text: str, known: IdentifyingTerms) -> str | None:
    """A clear message when free text looks like it holds a patient identifier."""
    kind = labels.patient_data_kind(text, known)
    if kind is None:
        return None
    return gettext(
        "This text looks like it contains a patient identifier (%(kind)s). Bedside never "
        "records patient data: please rewrite it without names, numbers or references "
        "that identify the patient.",
        kind=kind,
    )


def read_question(form: Mapping[str, str], known: IdentifyingTerms = NO_TERMS) -> FormResult:
    """Check the clinical question and the reason for asking it (known: the patient's terms)."""
    text = " ".join(str(form.get("question", "")).split())
    reason = str(form.get("reason", ""))
    result = FormResult(values={"question": text, "reason": reason})
    if len(text) < 5:
        result.errors["question"] = gettext("Write your clinical question (a few words at least).")
    elif len(text) > QUESTION_MAX:
        result.errors["question"] = gettext(
            "Keep the question under %(count)d characters.", count=QUESTION_MAX
        )
    elif refused := patient_data_error(text, known):
        result.errors["question"] = refused
    if reason not in labels.QUESTION_REASONS:
        result.errors["reason"] = gettext("Choose why you are asking.")
    return result


def read_application(form: MultiDict, known: IdentifyingTerms = NO_TERMS) -> FormResult:
    """Check the reflection on how the answer applied to the patient (known: their terms)."""
    impacts = [value for value in form.getlist("impact") if value in labels.IMPACTS]
    notes = str(form.get("notes", "")).strip()
    result = FormResult(
        values={
            "answered": form.get("answered", ""),
            "impact": impacts,
            "rating": form.get("rating", ""),
            "commercial_bias": form.get("commercial_bias", ""),
            "notes": notes,
        }
    )
    check_choices(result)
    if len(notes) > NOTES_MAX:
        result.errors["notes"] = gettext(
            "Keep the notes under %(count)d characters.", count=NOTES_MAX
        )
    elif refused := patient_data_error(notes, known):
        result.errors["notes"] = refused
    return result


def check_choices(result: FormResult) -> None:
    """Check the application form's choices."""
    values = result.values
    if values["answered"] not in labels.ANSWERED:
        result.errors["answered"] = gettext("Say whether your question was answered.")
    if not values["impact"]:
        result.errors["impact"] = gettext("Choose at least one impact, or “No change”.")
    elif "no-change" in values["impact"] and len(values["impact"]) > 1:
        result.errors["impact"] = gettext("“No change” cannot be combined with a change.")
    if values["rating"] not in labels.RATINGS:
        result.errors["rating"] = gettext("Rate how useful the content was, from 1 to 5.")
    if values["commercial_bias"] not in labels.BIAS:
        result.errors["commercial_bias"] = gettext("Say whether you noticed commercial bias.")


def application_response(values: dict) -> dict:
    """The application step as the ledger stores it (choices and the learner's own notes)."""
    return {
        "answered": values["answered"],
        "impact": list(values["impact"]),
        "rating": int(values["rating"]),
        "commercial_bias": values["commercial_bias"],
        "notes": values["notes"],
    }
