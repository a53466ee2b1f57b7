"""The demo EHR (a simulator): patients, chart, and order entry that calls the CDS services."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, render_template, request
from markupsafe import Markup

from app.devtools.demo_cds_client import (
    catalogue,
    draft_order,
    hook_body,
    post_signed,
    prefetch_from_store,
)
from app.devtools.demo_keys import DEMO_EHR_ISS
from app.devtools.demo_origin import demo_origin
from app.errors import ApiError
from app.fhir_json import age_in_years, parse_time
from app.library.markdown import render_markdown
from app.ui.facts import observation_value
from cds_hooks.cards import OVERRIDE_REASON_SYSTEM
from cds_hooks.engine import namespace_of

bp = Blueprint("demo_ehr", __name__, url_prefix="/demo-ehr")
SERVICES = {
    "patient-view": "bedside-patient-view",
    "order-select": "bedside-order-select",
    "order-sign": "bedside-order-sign",
}


@bp.get("/")
def patients():
    """List the synthetic patients."""
    return render_template("demo/ehr_patients.html", patients=patient_summaries())


@bp.get("/patients/<patient_id>")
def chart(patient_id: str):
    """Show one patient's chart and the order-entry screen."""
    record = patient_record(patient_id)
    return render_template(
        "demo/ehr_chart.html",
        record=record,
        orders=catalogue().values(),
        observation_value=observation_value,
    )


@bp.post("/api/patients/<patient_id>/hooks/<hook>")
def run_hook(patient_id: str, hook: str):
    """Call the CDS service for a hook with the current draft orders, as an EHR does."""
    if hook not in SERVICES:
        raise ApiError(404, "unknown_hook", f"The demo EHR does not fire {hook!r}.")
    record = patient_record(patient_id)
    drafts = drafts_from(request.get_json(silent=True), record)
    body = hook_body(
        hook,
        patient_id=patient_id,
        encounter_id=record["encounter_id"],
        practitioner_id=record["practitioner_id"],
        drafts=drafts,
        prefetch=prefetch_from_store(store(), patient_id),
        fhir_server=f"{public_base()}/fhir",
    )
    reply = post_signed(current_app.instance_path, service_url(SERVICES[hook]), body)
    if reply.status != 200:
        return jsonify(reply.body), reply.status
    cards = [with_html_detail(card) for card in reply.body.get("cards", [])]
    return jsonify({"service": SERVICES[hook], "cards": cards})


@bp.post("/api/feedback")
def feedback():
    """Send the clinician's accept/dismiss on a card to the CDS service's feedback endpoint."""
    data = request.get_json(silent=True) or {}
    service = data.get("service")
    if service not in SERVICES.values() or not data.get("card"):
        raise ApiError(400, "invalid_request", "feedback needs a service and a card.")
    if data.get("outcome") == "overridden" and not data.get("reason"):
        # A clinician dismissing a Bedside card says why (every Bedside card offers reasons):
        # a dismissal without one would record a reason nobody picked, or none at all.
        raise ApiError(400, "reason_required", "Choose a reason before you dismiss this card.")
    entry = {"card": data["card"], "outcome": data.get("outcome"), "outcomeTimestamp": now_iso()}
    if data.get("outcome") == "accepted" and data.get("suggestion"):
        entry["acceptedSuggestions"] = [{"id": data["suggestion"]}]
    if data.get("outcome") == "overridden" and data.get("reason"):
        system = data.get("system")
        entry["overrideReason"] = {
            "reason": {
                "system": system if isinstance(system, str) else OVERRIDE_REASON_SYSTEM,
                "code": data["reason"],
            }
        }
    reply = post_signed(
        current_app.instance_path, service_url(service) + "/feedback", {"feedback": [entry]}
    )
    return jsonify(reply.body), reply.status


@bp.post("/api/patients/<patient_id>/launch")
def launch(patient_id: str):
    """Open a card's SMART link the way an EHR does: mint a launch, add iss and launch."""
    record = patient_record(patient_id)
    data = request.get_json(silent=True) or {}
    server = current_app.extensions.get("demo_auth")
    if server is None:
        raise ApiError(
            503, "smart_unavailable", "The demo SMART authorization server is not running."
        )
    launch_id = server.create_launch(
        patient=patient_id,
        encounter=record["encounter_id"],
        practitioner=record["practitioner_id"],
        need_patient_banner=True,
        app_context=data.get("appContext"),
    )
    target = data.get("url") or f"{public_base()}/launch.html"
    separator = "&" if "?" in target else "?"
    return jsonify({"url": f"{target}{separator}iss={public_base()}/fhir&launch={launch_id}"})


@bp.post("/api/patients/<patient_id>/reset")
def reset(patient_id: str):
    """Forget which cards this demo clinician saw or dismissed, so the demo can run again."""
    record = patient_record(patient_id)
    engine = current_app.extensions["cds"].engine
    user = f"Practitioner/{record['practitioner_id']}"
    namespace = namespace_of(DEMO_EHR_ISS, f"{public_base()}/fhir", None)
    for keyed_in in (namespace, namespace.legacy):  # the legacy key: cards shown before it counted
        engine.store.forget_user(engine.identity_key("user", keyed_in, user))
    return jsonify({"reset": True})


def store():
    """Return the demo EHR's records (the fixture store)."""
    return current_app.extensions["demo_fhir_store"]


def patient_summaries() -> list[dict]:
    """Summarise every fixture patient for the list page."""
    found = store().search("Patient", [])
    return [patient_record(patient["id"]) for patient in sorted(found, key=lambda p: p["id"])]


def patient_record(patient_id: str) -> dict:
    """Collect what the chart shows about one patient (404 when unknown)."""
    patient = store().read("Patient", patient_id)
    if patient is None:
        raise ApiError(
            404, "unknown_patient", f"There is no patient {patient_id!r} in the demo EHR."
        )
    encounters = store().search("Encounter", [("patient", patient_id)])
    encounter = encounters[0] if encounters else {}
    participants = encounter.get("participant") or [{}]
    practitioner = participants[0].get("individual", {}).get("reference", "Practitioner/demo")
    query = [("patient", patient_id)]
    return {
        "id": patient_id,
        "name": display_name(patient),
        "gender": patient.get("gender", "unknown"),
        "age": age_in_years(patient.get("birthDate"), parse_time(now_iso())),
        "encounter_id": encounter.get("id"),
        "encounter_class": encounter.get("class", {}).get("display", ""),
        "practitioner_id": practitioner.split("/", 1)[-1],
        "conditions": store().search("Condition", [*query, ("clinical-status", "active")]),
        "medications": store().search("MedicationRequest", [*query, ("status", "active")]),
        "observations": store().search("Observation", [*query, ("_sort", "-date")])[:12],
    }


def drafts_from(data: object, record: dict) -> list[dict]:
    """Build draft orders from the catalogue ids the page sends."""
    items = data.get("drafts", []) if isinstance(data, dict) else []
    if not isinstance(items, list) or any(item not in catalogue() for item in items):
        raise ApiError(400, "invalid_request", "drafts must list catalogue order ids.", "drafts")
    return [
        draft_order(item, number, record["id"], record["encounter_id"])
        for number, item in enumerate(items, 1)
    ]


def with_html_detail(card: dict) -> dict:
    """Add the card's Markdown detail rendered to sanitised HTML, as an EHR renders it."""
    return {**card, "detail_html": str(Markup(render_markdown(card.get("detail", ""))))}


def display_name(patient: dict) -> str:
    """Return 'Given Family' for a Patient."""
    name = (patient.get("name") or [{}])[0]
    return " ".join([*name.get("given", []), name.get("family", "")]).strip() or patient["id"]


def service_url(service_id: str) -> str:
    """Return the public URL of a CDS service on this server."""
    return f"{public_base()}/cds-services/{service_id}"


def public_base() -> str:
    """Return this server's base URL, never taken from a caller's Host header alone."""
    return demo_origin()


def now_iso() -> str:
    """Return the current UTC time as an ISO 8601 instant."""
    return datetime.now(UTC).isoformat(timespec="seconds")
