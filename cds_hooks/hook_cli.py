"""`bedside hook`: run one hook against any FHIR server through the real engine; print the cards."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from pydantic import ValidationError

from app.config import is_http_url
from app.fhir_json import as_str
from app.json_files import JsonFileProblem, read_json_file
from app.security import is_https_or_loopback
from cds_hooks.engine import CdsEngine, Namespace
from cds_hooks.hook_table import render
from cds_hooks.models import CONTEXT_MODELS, HookRequest
from cds_hooks.prefetch import PrefetchUnavailable
from cds_hooks.services import SERVICES

SERVICES_BY_HOOK = {service.hook: service for service in SERVICES}
ORDER_HOOKS = ("order-select", "order-sign")
ORDER_TYPES = ("MedicationRequest", "ServiceRequest", "DeviceRequest", "NutritionOrder")
TOKEN_CHARS = re.compile(r"[!-~]+")
FHIR_ID = re.compile(r"[A-Za-z0-9.\-]{1,64}")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
AUTHORIZATION = {"token_type": "Bearer", "scope": "patient/*.read", "subject": "bedside-cli"}
DRAFT_FILE = click.Path(dir_okay=False, path_type=Path)


def check_server(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Require an http(s) FHIR base URL; plain http only on loopback."""
    if not is_http_url(value):
        raise click.BadParameter("give the FHIR base URL, e.g. https://fhir.example.org/r4")
    if not is_https_or_loopback(value):
        raise click.BadParameter("must be https (plain http only on 127.0.0.1 or localhost)")
    return value.rstrip("/")


def check_patient(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Accept a FHIR Patient id, with or without the `Patient/` prefix."""
    patient = value.removeprefix("Patient/")
    if not FHIR_ID.fullmatch(patient):
        raise click.BadParameter("must be a FHIR id: letters, digits, '-' and '.', at most 64")
    return patient


def check_token(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Require a bearer token of printable ASCII (never echoing it back)."""
    if value and not TOKEN_CHARS.fullmatch(value):
        raise click.BadParameter("the token must be printable ASCII without spaces")
    return value or None


HELP = {
    "fhir-server": "FHIR base URL to read the patient's data from (https; http only on loopback).",
    "patient": "Patient id on that server.",
    "token": "Bearer token for the FHIR server: sent only there, never printed. Prefer the "
    "BEDSIDE_HOOK_TOKEN variable, which keeps the token out of shell history.",
    "user": "userId of the hook context (Practitioner/ID).",
    "encounter": "encounterId of the hook context.",
    "draft-order": "JSON file: a draft MedicationRequest/ServiceRequest, or a Bundle of them "
    "(repeatable; required for order-select and order-sign).",
    "lang": "Card language.",
    "json": "Print the raw CDS Hooks response body instead of the table.",
    "max-cards": "Card cap for this run (default: the configured BEDSIDE_CDS_MAX_CARDS).",
}


def option(name: str, *decls: str, **kwargs: object) -> Callable:
    """Declare a click option whose help text comes from HELP."""
    return click.option(name, *decls, help=HELP[name.lstrip("-")], show_default=True, **kwargs)


@click.command("hook")
@click.argument("hook", type=click.Choice(list(SERVICES_BY_HOOK)))
@option("--fhir-server", metavar="URL", required=True, callback=check_server)
@option("--patient", metavar="ID", required=True, callback=check_patient)
@option("--token", metavar="T", envvar="BEDSIDE_HOOK_TOKEN", show_envvar=True, callback=check_token)
@option("--user", metavar="REF", default="Practitioner/bedside-cli")
@option("--encounter", metavar="ID")
@option("--draft-order", "draft_orders", metavar="FILE", multiple=True, type=DRAFT_FILE)
@option("--lang", type=click.Choice(["en", "es", "fr"]), default="en")
@option("--json", "as_json", is_flag=True)
@option("--max-cards", metavar="N", type=click.IntRange(min=0))
@with_appcontext
def hook_command(
    hook: str,
    fhir_server: str,
    patient: str,
    token: str | None,
    user: str,
    encounter: str | None,
    draft_orders: tuple[Path, ...],
    lang: str,
    as_json: bool,
    max_cards: int | None,
) -> None:
    """Run HOOK for a patient on any FHIR server and print the cards.

    Uses Bedside's own engine in-process, exactly as POST /cds-services does (same FHIR
    fetch, matching and cards), but without fatigue rules and without storing anything,
    so you can run it as often as you like.

    \b
    Examples:
      bedside hook patient-view --fhir-server http://127.0.0.1:8000/fhir --patient hfref-adult
          (the fixture FHIR server of `BEDSIDE_DEMO=1 bedside serve`)
      bedside hook order-select --fhir-server http://127.0.0.1:8000/fhir --patient sepsis-adult \\
          --draft-order fhir_fixtures/draft_orders/ceftriaxone.json
      BEDSIDE_HOOK_TOKEN=... bedside hook patient-view \\
          --fhir-server https://launch.smarthealthit.org/v/r4/fhir --patient <id>
      bedside hook order-sign ... --draft-order orders.json --json --lang es
    """
    orders = load_draft_orders(hook, draft_orders, patient)
    context = hook_context(hook, user, patient, encounter, orders)
    request = build_request(hook, fhir_server, token, context)
    try:
        body, matched, cap = run_engine(request, lang, max_cards)
    except PrefetchUnavailable as missing:
        message = explain(missing, fhir_server, patient, token)
        raise click.ClickException(scrub(message, token)) from None
    header = f"Hook {hook} | patient {patient} | FHIR server {fhir_server}"
    text = render(header, body["cards"], matched, cap)
    click.echo(scrub(json.dumps(body, indent=2, ensure_ascii=False) if as_json else text, token))


def load_draft_orders(hook: str, paths: tuple[Path, ...], patient: str) -> list[dict]:
    """Read every --draft-order file; complete each order's status, id and subject."""
    if hook in ORDER_HOOKS and not paths:
        raise click.UsageError(f"{hook} needs at least one --draft-order FILE (see --help).")
    if hook not in ORDER_HOOKS and paths:
        raise click.UsageError(f"--draft-order applies to {' and '.join(ORDER_HOOKS)}, not {hook}.")
    orders = [order for path in paths for order in orders_in(path)]
    for number, order in enumerate(orders, 1):
        order.setdefault("status", "draft")
        order.setdefault("id", f"draft-{number}")
        order.setdefault("subject", {"reference": f"Patient/{patient}"})
    return orders


def orders_in(path: Path) -> list[dict]:
    """Return the draft orders one file holds (one resource, or a Bundle's entries)."""
    resource = read_json(path)
    found = [resource]
    if resource["resourceType"] == "Bundle":
        entries = resource.get("entry")
        listed = entries if isinstance(entries, list) else []
        found = [entry.get("resource") if isinstance(entry, dict) else None for entry in listed]
    kinds = {as_str(item.get("resourceType")) if isinstance(item, dict) else None for item in found}
    if not found or not kinds <= set(ORDER_TYPES):
        raise click.ClickException(
            f"Draft order file {path} holds {resource['resourceType']}, not draft orders: "
            f"give a {', '.join(ORDER_TYPES)}, or a Bundle of them."
        )
    return found


def read_json(path: Path) -> dict:
    """Read a JSON file holding a FHIR resource, or fail with one readable line."""
    try:
        data = read_json_file(path)
    except JsonFileProblem as problem:
        raise click.ClickException(f"Draft order file {path} {problem}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise click.ClickException(f"Draft order file {path} is not a FHIR resource.")
    return data


def hook_context(hook: str, user: str, patient: str, encounter: str | None, orders: list) -> dict:
    """Build the hook's context as an EHR would send it."""
    context: dict = {"userId": user, "patientId": patient}
    if encounter:
        context["encounterId"] = encounter
    if hook in ORDER_HOOKS:
        entries = [{"resource": order} for order in orders]
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    if hook == "order-select":
        context["selections"] = [f"{order['resourceType']}/{order['id']}" for order in orders]
    return context


def build_request(hook: str, server: str, token: str | None, context: dict) -> HookRequest:
    """Assemble and validate the hook request, with no prefetch (so everything is fetched)."""
    body: dict = {"hook": hook, "hookInstance": str(uuid.uuid4()), "fhirServer": server}
    body["context"] = context
    if token:
        body["fhirAuthorization"] = {**AUTHORIZATION, "access_token": token}
    try:
        CONTEXT_MODELS[hook].model_validate(context)
        return HookRequest.model_validate(body)
    except ValidationError as invalid:
        error = invalid.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in error["loc"]) or "request"
        message = f"The hook request is not valid: {field}: {error['msg']}."
        raise click.ClickException(message) from None


def run_engine(request: HookRequest, lang: str, max_cards: int | None) -> tuple[dict, int, int]:
    """Answer through the configured engine (remember=False); return body, matches and cap."""
    engine: CdsEngine = current_app.extensions["cds"].engine
    cap = engine.settings.max_cards if max_cards is None else max_cards
    # Same library and index; uncapped so we can say how many modules matched, then cap as usual.
    uncapped = replace(engine.settings, max_cards=len(engine.library.modules))
    one_run = CdsEngine(engine.library, engine.index, engine.store, uncapped, cache=engine.cache)
    body = one_run.answer(
        SERVICES_BY_HOOK[request.hook],
        request,
        namespace=Namespace("bedside-cli"),
        languages=[lang],
        now=datetime.now(UTC),
        launch_url=launch_url(),
        remember=False,
    )
    return {**body, "cards": body["cards"][:cap]}, len(body["cards"]), cap


def launch_url() -> str:
    """Return the SMART launch URL the card links point to."""
    base = current_app.config["PUBLIC_BASE_URL"] or DEFAULT_BASE_URL
    return str(base).rstrip("/") + "/launch.html"


def explain(missing: PrefetchUnavailable, server: str, patient: str, token: str | None) -> str:
    """Turn a failed fetch into one sentence an informatics analyst can act on."""
    reason, where = missing.reason, f"The FHIR server at {server}"
    if "refused the token" in reason:
        status = reason.rsplit("(", 1)[-1].rstrip(")")
        if token is None:
            return f"{where} requires a token ({status}): pass --token or set BEDSIDE_HOOK_TOKEN."
        return f"{where} refused the token ({status}): check --token or BEDSIDE_HOOK_TOKEN."
    if missing.key == "patient" and reason.endswith("answered 404"):
        return f"{where} has no Patient {patient!r} (404): check the patient id and the base URL."
    if "unreachable" in reason:
        return f"{where} cannot be reached: {reason}."
    return f"{where} did not give {missing.key!r}: {reason}."


def scrub(text: str, token: str | None) -> str:
    """Make sure the token never reaches the terminal."""
    return text.replace(token, "[token]") if token else text
