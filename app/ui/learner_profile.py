"""The learner's profile: specialty (EHR or self-reported), gaps, language, mastery and reviews.

The specialty comes from the EHR's PractitionerRole.specialty for the signed-in fhirUser unless the
learner set one themselves; a self-reported specialty always wins, and clearing it falls back to the
EHR. The EHR is read in the SMART session with its own token, once per request, and never stored.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import quote

from flask import current_app, g

from app import i18n
from app.case_conferences import case_conferences
from app.collaboration import collaboration
from app.fhir_json import as_dict, as_str, dicts_in, strings_in
from app.journal_clubs import journal_clubs
from app.learning.mastery import TopicMastery
from app.learning.recommend import Profile
from app.learning.reviews import DueReview, due_reviews
from app.learning.reviews import due_by_module as count_due
from app.learning.specialties import practitioner_id, roles_in_bundle, specialty_from_roles
from app.ledger.attempts import valid_npi
from app.ledger.chain import CreditRecord, from_hundredths
from app.ledger.models import Attempt, ReportingIdentity
from app.ledger.outputs.records import net_totals
from app.smart import FhirRequestError, fhir_get
from app.ui import labels
from app.ui.learning_flow import learning_store
from app.ui.page_context import learner_id, ledger, runtime, smart_session

log = logging.getLogger(__name__)


class ProfileFormError(ValueError):
    """A profile form value Bedside cannot accept; the message is shown on the page."""


@dataclass(frozen=True)
class LearnerView:
    """Everything the profile and "what next" pages show about the learner."""

    profile: Profile
    mastery: dict[str, TopicMastery]
    due: list[DueReview]
    scheduled: int


def current_profile() -> Profile:
    """The stored profile with the specialty resolved: self-reported, else the EHR's, else none."""
    learner = learner_id()
    stored = learning_store().profile(learner)
    profile = stored[0] if stored else Profile(learner, language=i18n.language())
    if profile.specialty and profile.specialty_source == "self":
        return profile
    from_ehr = ehr_specialty()
    source = "ehr" if from_ehr else "self"
    return dataclasses.replace(profile, specialty=from_ehr, specialty_source=source)


def learner_view(now: datetime | None = None) -> LearnerView:
    """The learner's profile, mastery, reviews due now and how many items are scheduled."""
    learner = learner_id()
    cards = learning_store().cards(learner)
    due = due_reviews(cards, now or datetime.now(UTC))
    return LearnerView(current_profile(), learning_store().mastery(learner), due, len(cards))


def ehr_specialty() -> str | None:
    """The library specialty the EHR's PractitionerRole names for the signed-in user, if any."""
    if "ui_ehr_specialty" not in g:
        g.ui_ehr_specialty = read_ehr_specialty()
    return g.ui_ehr_specialty


def read_ehr_specialty() -> str | None:
    """Search PractitionerRole?practitioner=Practitioner/<id> on the EHR (None on refusal)."""
    session = smart_session()
    practitioner = practitioner_id(session.fhir_user)
    if practitioner is None:
        return None
    # The typed form: servers such as Medplum match a bare id only for patient/subject.
    reference = quote(f"Practitioner/{practitioner}", safe="/")
    try:
        bundle = fhir_get(session, f"PractitionerRole?practitioner={reference}")
    except FhirRequestError as error:
        log.info("The EHR gave no PractitionerRole (%s); the specialty is self-reported", error)
        return None
    return specialty_from_roles(roles_in_bundle(bundle))


@dataclass(frozen=True)
class CertificateName:
    """The name and credentials for certificates: consented (stored) or suggested by the EHR."""

    first_name: str = ""
    last_name: str = ""
    credentials: str = ""
    npi: str = ""
    licence_state: str = ""
    licence_id: str = ""
    board_id: str = ""
    birth_month_day: str = ""
    consented: bool = False
    from_ehr: bool = False

    @property
    def line(self) -> str:
        """The name as a certificate prints it ("Chinwe Okafor, MD")."""
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name}, {self.credentials}" if self.credentials else name


def certificate_name() -> CertificateName:
    """The stored name (the learner consented to print it), else the EHR's, to fill the form."""
    stored = ledger().store.reporting_identity(learner_id())
    if stored is not None:
        values = {f: getattr(stored, f) or "" for f in NAME_FIELDS}
        return CertificateName(**values, consented=True)
    suggested = ehr_practitioner()
    return suggested if suggested is not None else CertificateName()


NAME_FIELDS = (
    "first_name",
    "last_name",
    "credentials",
    "npi",
    "licence_state",
    "licence_id",
    "board_id",
    "birth_month_day",
)
NAME_LIMIT = 100
# A certifying board's learner ID as PARS carries it (ABIM and ABP IDs are digits; some are
# written with the board's letters): one short word, so it cannot break the tab-delimited line.
BOARD_ID = re.compile(r"[A-Za-z0-9-]{1,20}")
MONTH_SLASH_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})")
LEAP_YEAR = 2000  # any leap year: 02/29 is a birthday


def ehr_practitioner() -> CertificateName | None:
    """The EHR's Practitioner for the signed-in user: name, qualifications and NPI (not stored)."""
    session = smart_session()
    practitioner = practitioner_id(session.fhir_user)
    if practitioner is None:
        return None
    try:
        resource = fhir_get(session, f"Practitioner/{quote(practitioner, safe='')}")
    except FhirRequestError as error:
        log.info("The EHR gave no Practitioner (%s); the learner enters their name", error)
        return None
    return name_from_practitioner(resource)


def name_from_practitioner(resource: dict) -> CertificateName | None:
    """Read a FHIR Practitioner's official name, qualification codes and a valid NPI."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Practitioner":
        return None
    names = dicts_in(resource.get("name"))
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(strings_in(name.get("given")))
    credentials = ", ".join(qualification_codes(resource))
    npi = next(
        (
            as_str(i.get("value")) or ""
            for i in dicts_in(resource.get("identifier"))
            if i.get("system") == NPI_SYSTEM
        ),
        "",
    )
    return CertificateName(
        first_name=given,
        last_name=as_str(name.get("family")) or "",
        credentials=credentials,
        npi=npi if valid_npi(npi) else "",
        from_ehr=True,
    )


NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"


def qualification_codes(resource: dict) -> list[str]:
    """A Practitioner's qualifications as printed after a name (code such as MD, else the text)."""
    found = []
    for qualification in dicts_in(resource.get("qualification")):
        concept = as_dict(qualification.get("code"))
        codings = dicts_in(concept.get("coding"))
        short = next((code for c in codings if (code := as_str(c.get("code")))), "")
        text = short if short and len(short) <= 8 else as_str(concept.get("text")) or short
        if text and text not in found:
            found.append(text)
    return found


def save_certificate_name(form) -> None:
    """Keep the name for certificates with the learner's consent; ProfileFormError if bad."""
    values = {field: " ".join(form.get(field, "").split()) for field in NAME_FIELDS}
    if form.get("consent") != "yes":
        raise ProfileFormError("consent")
    if not values["first_name"] or not values["last_name"]:
        raise ProfileFormError("name")
    if any(len(value) > NAME_LIMIT for value in values.values()):
        raise ProfileFormError("name")
    if values["npi"] and not valid_npi(values["npi"]):
        raise ProfileFormError("npi")
    if values["board_id"] and not BOARD_ID.fullmatch(values["board_id"]):
        raise ProfileFormError("board_id")
    birth_month_day = month_day(values["birth_month_day"])
    store = ledger().store
    identity = ReportingIdentity(
        first_name=values["first_name"],
        last_name=values["last_name"],
        board_id=values["board_id"] or None,
        licence_state=values["licence_state"].upper() or None,
        licence_id=values["licence_id"] or None,
        birth_month_day=birth_month_day,
        credentials=values["credentials"] or None,
        npi=values["npi"] or None,
    )
    try:
        store.set_reporting_identity(learner_id(), identity)
    except ValueError as error:
        raise ProfileFormError("name") from error


def month_day(typed: str) -> str | None:
    """A month and day of birth as MM/DD ("7/22" gives "07/22"), never a year; None if empty."""
    if not typed:
        return None
    match = MONTH_SLASH_DAY.fullmatch(typed)
    if match is None:
        raise ProfileFormError("birth_month_day")
    month, day = (int(part) for part in match.groups())
    try:
        date(LEAP_YEAR, month, day)
    except ValueError as error:
        raise ProfileFormError("birth_month_day") from error
    return f"{month:02d}/{day:02d}"


def remove_certificate_name() -> None:
    """Withdraw consent: the name and identifiers are erased (credit records never held them)."""
    ledger().store.withdraw_reporting_consent(learner_id())


def profile_from_form(form, current: Profile) -> Profile:
    """The learner's corrections (specialty, gaps, language), checked; ProfileFormError if bad."""
    specialty = form.get("specialty", "").strip()
    if specialty and specialty not in labels.SPECIALTIES:
        raise ProfileFormError("specialty")
    gaps = tuple(dict.fromkeys(form.getlist("gaps")))
    if any(gap not in runtime().library.modules for gap in gaps):
        raise ProfileFormError("gaps")
    language = form.get("language", "")
    if language not in i18n.LANGUAGES:
        raise ProfileFormError("language")
    return Profile(current.learner_id, specialty or None, "self", gaps, language)


def save_profile(profile: Profile) -> None:
    """Keep the learner's profile (consent flags stay as they were)."""
    stored = learning_store().profile(profile.learner_id)
    learning_store().save_profile(profile, stored[1] if stored else {})


# Every table that keys on the learner id, and where its rows are in the export (a test walks the
# registered stores, so a new table cannot be left out unnoticed).
EXPORTED_TABLES = {
    "learning_profiles": "learning.profile",
    "learning_mastery": "learning.mastery",
    "learning_cards": "learning.reviews",
    "learning_applied": "ledger.attempts (answers already counted in mastery and reviews)",
    "ledger_learners": "ledger.learner",
    "ledger_reporting_identities": "ledger.reporting_identity",
    "ledger_attempts": "ledger.attempts",
    "ledger_credits": "ledger.credits",
    "delivery_subscriptions": "delivery.subscription",
    "delivery_messages": "delivery.messages",
    "delivery_tokens": "delivery.messages (answer links: opaque ids, not exported)",
    "delivery_confirmations": "delivery.subscription (confirmation mail times: not exported)",
    "delivery_notice_claims": "delivery.messages (the notices each digest carried: ids only)",
    "collab_names": "collaboration.display_name",
    "collab_role_holders": "collaboration (editor, moderator roles seen for notices: not exported)",
    "collab_key_links": "collaboration.items (the items filed under the CDS keys seen as theirs)",
    "club_members": "journal_clubs.memberships",
    "club_reflections": "journal_clubs.reflections (keyed on author_id)",
    "club_clubs": "journal_clubs.facilitated (keyed on facilitator_id)",
    "conf_cases": "teaching_cases (keyed on author_id)",
}


def export_data() -> dict:
    """Everything Bedside stores under the learner's id: learning data and ledger records.

    Point-of-care questions, sources and reflections and case answers are ledger answers, so they
    come with their attempts. Still no patient data: the ledger refuses it on the way in.
    """
    learner = learner_id()
    data = learning_store().export(learner)
    data["delivery"] = current_app.extensions["delivery"].export(learner)
    data["collaboration"] = collaboration().store.export(learner)
    data["journal_clubs"] = journal_clubs().export(learner)
    data["teaching_cases"] = case_conferences().export(learner)
    data["ledger"] = ledger_data(learner)
    data["ledger_credits"] = credit_summary(learner)
    data["exported_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return data


def ledger_data(learner: str) -> dict:
    """The learner's ledger rows: profile, reporting identity, attempts with answers, credits."""
    store = ledger().store
    found = store.learner(learner)
    identity = store.reporting_identity(learner)
    return {
        "learner": dataclasses.asdict(found) if found else None,
        "reporting_identity": dataclasses.asdict(identity) if identity else None,
        "attempts": [attempt_data(attempt) for attempt in store.attempts_of(learner)],
        "credits": [credit_data(record) for record in store.credits_for(learner)],
    }


def attempt_data(attempt: Attempt) -> dict:
    """One attempt (a case or a point-of-care cycle) with every answer or step it holds."""
    answers = ledger().store.answers(attempt.attempt_id)
    return {
        **json_values(dataclasses.asdict(attempt)),
        "answers": [json_values(dataclasses.asdict(answer)) for answer in answers],
    }


def credit_data(record: CreditRecord) -> dict:
    """One credit or reversal record as stored (amounts as decimal strings)."""
    data = dataclasses.asdict(record)
    data["amount"] = str(from_hundredths(data.pop("amount_hundredths")))
    data["designated"] = str(from_hundredths(data.pop("designated_hundredths")))
    data["evidence"] = json.loads(data["evidence"])
    data.pop("idempotency_hash", None)
    return data


def json_values(data: dict) -> dict:
    """Datetimes as ISO text, mappings as plain dicts (for JSON)."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in ((k, dict(v) if isinstance(v, Mapping) else v) for k, v in data.items())
    }


def credit_summary(learner: str) -> dict:
    """Net credit per type and how many ledger records back it (amounts as decimal strings)."""
    records = ledger().store.credits_for(learner)
    totals: dict[str, Decimal] = net_totals(records)
    return {
        "records": len(records),
        "net_totals": {kind: str(amount) for kind, amount in totals.items()},
        "note": "Credit records stay in the CME ledger: they are an audit record.",
    }


def mastery_rows(mastery: dict[str, TopicMastery], modules: dict) -> list[dict]:
    """One row per answered topic: module, score in percent, answers, mastered (by title)."""
    rows = [
        {
            "module": modules.get(topic),
            "topic": topic,
            "percent": round(value.score * 100),
            "answers": value.answers,
            "mastered": value.mastered,
        }
        for topic, value in mastery.items()
        if value.answers
    ]
    return sorted(rows, key=lambda row: row_title(row).lower())


def due_by_module(due: list[DueReview], modules: dict) -> list[dict]:
    """Reviews due now, counted per module (modules no longer in the library are kept by id)."""
    rows = [
        {"module": modules.get(topic), "topic": topic, "count": count}
        for topic, count in count_due(due).items()
    ]
    return sorted(rows, key=lambda row: row_title(row).lower())


def row_title(row: dict) -> str:
    """A row's module title in the UI language, or its topic id when the module is gone."""
    return i18n.localized(row["module"]["title"]) if row["module"] else row["topic"]
