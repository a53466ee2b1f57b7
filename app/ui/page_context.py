"""What every app page needs: the SMART session, the learner, the library and the patient banner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask import abort, current_app, g

from app.fhir_json import age_in_years as years_since_birth
from app.fhir_json import as_str, dicts_in, strings_in
from app.ledger.privacy import NO_TERMS, IdentifyingTerms, identifying_terms
from app.ledger.wiring import Ledger
from app.library.loader import Library
from app.library.search import GuidelineSearch
from app.smart import (
    FhirRequestError,
    SmartSession,
    SmartSessionEnded,
    current_smart_session,
    fhir_get,
)


@dataclass(frozen=True)
class UiRuntime:
    """Built once per app: the content library and its guideline search."""

    library: Library
    search: GuidelineSearch


@dataclass(frozen=True)
class Banner:
    """The patient banner: who the launched patient is (shown, never stored)."""

    name: str | None
    gender: str | None
    birth_date: str | None
    age: int | None
    available: bool = True


def runtime() -> UiRuntime:
    """Return this app's UI runtime."""
    return current_app.extensions["ui"]


def ledger() -> Ledger:
    """Return this app's ledger (store and credit policy)."""
    return current_app.extensions["ledger"]


def smart_session() -> SmartSession:
    """The launched SMART session (the blueprint already refused requests without one)."""
    session = current_smart_session()
    if session is None:
        abort(401)
    return session


def learner_id() -> str:
    """The ledger's opaque learner id for the signed-in clinician (created on first use)."""
    if "ui_learner_id" not in g:
        session = smart_session()
        user = session.user
        if not user:
            abort(403, "The EHR did not say who you are (fhirUser); Bedside cannot keep credit.")
        g.ui_learner_id = ledger().store.ensure_learner(session.issuer, str(user))
    return g.ui_learner_id


def module_or_404(module_id: str) -> dict:
    """Return a library module, or answer 404."""
    module = runtime().library.modules.get(module_id)
    if module is None:
        abort(404)
    return module


def context_module_id(session: SmartSession) -> str | None:
    """The module named by the launch's appContext, if it is in the library."""
    try:
        context = json.loads(session.app_context) if session.app_context else None
    except ValueError:
        return None
    module = context.get("module") if isinstance(context, dict) else None
    if isinstance(module, str) and module in runtime().library.modules:
        return module
    return None


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, for the header (the name from the EHR, None when it gives none)."""

    name: str | None


def signed_in() -> SignedIn | None:
    """The signed-in clinician of this page's launch, read once per request; None if none."""
    session = current_smart_session()
    if session is None:
        return None
    if "ui_signed_in" not in g:
        g.ui_signed_in = SignedIn(clinician_name(session))
    return g.ui_signed_in


def clinician_name(session: SmartSession) -> str | None:
    """The fhirUser's name (Practitioner, PractitionerRole…) from the EHR; None if unreadable."""
    user = session.fhir_user or ""
    path = user if "://" in user else user.lstrip("/")
    if not path.count("/"):
        return None
    try:
        resource = fhir_get(session, path)
    except (FhirRequestError, SmartSessionEnded, ValueError):
        return None  # the header never breaks a page: the sign-out button still shows
    return patient_name(resource)


def patient_banner() -> Banner | None:
    """The banner for the launched patient when the EHR asked for one, else None."""
    session = smart_session()
    if not session.need_patient_banner or not session.patient:
        return None
    if "ui_banner" not in g:
        g.ui_banner = read_banner(session)
    return g.ui_banner


def launched_patient_terms() -> IdentifyingTerms:
    """What would identify the launched patient in free text (read from the EHR, never kept)."""
    session = smart_session()
    if not session.patient:
        return NO_TERMS
    patient = launched_patient(session)
    if patient is None:  # no name or birth date can be checked: fail closed, "try again" page
        raise FhirRequestError(502, "The launched patient could not be read to check free text.")
    return identifying_terms({**patient, "id": session.patient})


def launched_patient(session: SmartSession) -> dict | None:
    """The launched patient's Patient resource, read once per request (None if the EHR fails)."""
    if "ui_patient" not in g:
        try:
            resource = fhir_get(session, f"Patient/{session.patient}")
        except FhirRequestError:
            resource = None
        g.ui_patient = resource if resource and resource.get("resourceType") == "Patient" else None
    return g.ui_patient


def read_banner(session: SmartSession) -> Banner:
    """Read the Patient resource for the banner; a readable placeholder if the EHR fails."""
    patient = launched_patient(session)
    if patient is None:
        return Banner(None, None, None, None, available=False)
    birth = as_str(patient.get("birthDate"))
    gender = as_str(patient.get("gender"))
    return Banner(patient_name(patient), gender, birth, age_in_years(birth))


def patient_name(patient: dict) -> str | None:
    """A Patient's (or Practitioner's) name: the official (else first), given names then family."""
    names = dicts_in(patient.get("name"))
    official = [name for name in names if name.get("use") == "official"]
    name = (official or names or [{}])[0]
    if as_str(name.get("text")):
        return name["text"]
    parts = [*strings_in(name.get("given")), as_str(name.get("family")) or ""]
    return " ".join(part for part in parts if part) or None


def age_in_years(birth_date: str | None, today: date | None = None) -> int | None:
    """Whole years since a FHIR birthDate (YYYY, YYYY-MM or YYYY-MM-DD); None if unknown."""
    on = datetime.combine(today, time(), UTC) if today else datetime.now(UTC)
    years = years_since_birth(birth_date, on)
    return int(years) if years is not None and years >= 0 else None  # none for a future date
