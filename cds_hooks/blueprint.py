"""The CDS Hooks HTTP surface: discovery, invocation, feedback, CORS, errors."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import ApiError
from app.public_url import public_base_url
from cds_hooks.auth import AuthError, ClientAuthenticator, VerifiedClient
from cds_hooks.engine import (
    CallLimits,
    CdsEngine,
    Namespace,
    TimeBudgetExceeded,
    TooManyResources,
    namespace_of,
)
from cds_hooks.models import CONTEXT_MODELS, FeedbackRequest, HookRequest
from cds_hooks.openapi import openapi_document
from cds_hooks.operation_outcome import register as answer_errors_as_operation_outcome
from cds_hooks.prefetch import PrefetchUnavailable
from cds_hooks.services import SERVICES_BY_ID, CdsService, discovery_document
from cds_hooks.store import JtiClaim

log = logging.getLogger(__name__)
ModelT = TypeVar("ModelT", bound=BaseModel)
bp = Blueprint("cds_hooks", __name__, url_prefix="/cds-services")
floor_bp = Blueprint("cds_floor", __name__, url_prefix="/cds-services/_floor")
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "600",
}


@dataclass(frozen=True)
class CdsRuntime:
    """What the views need: the engine and the authenticator (None when auth is off)."""

    engine: CdsEngine
    authenticator: ClientAuthenticator | None


def runtime() -> CdsRuntime:
    """Return this app's CDS runtime."""
    return current_app.extensions["cds"]


@bp.get("")
def discovery() -> Response:
    """List the services (GET /cds-services)."""
    authenticate()
    return jsonify(discovery_document())


@bp.post("/<service_id>")
def invoke(service_id: str) -> Response:
    """Answer one hook call with cards.

    The JWT id is checked unused now and claimed when the call is recorded, in the same
    transaction as its exposures; a call that fails in any way claims it on the way out.
    Where the store claims ids as it checks them (PostgreSQL), it is claimed now.
    """
    limits = call_limits()  # the time budget counts from the start of the call
    service = known_service(service_id)
    store = runtime().engine.store
    with store.database.one_connection():  # PostgreSQL: one checkout for the call's statements
        client = authenticate(claim=store.claims_as_checked)
        claim = None  # what is left to claim with the cards, or on the way out
        if client and not store.claims_as_checked:
            claim = JtiClaim(client.iss, client.jti, client.expires_at)
        try:
            hook_request = parse_hook_request(service)
            body = answer(service, hook_request, client, claim, limits)
        except Exception:
            burn(claim)  # a token is never good for a second try, whatever the first one did
            raise
    return json_response(body)


def answer(
    service: CdsService,
    hook_request: HookRequest,
    client: VerifiedClient | None,
    claim: JtiClaim | None,
    limits: CallLimits,
) -> dict:
    """The engine's answer; its failures as API errors (401, 412, 413, 503)."""
    try:
        return runtime().engine.answer(
            service,
            hook_request,
            namespace=call_namespace(client, hook_request),
            client=client_of(client),
            languages=preferred_languages(),
            now=datetime.now(UTC),
            launch_url=public_base_url() + "/launch.html",
            claim=claim,
            limits=limits,
        )
    except AuthError as failure:
        raise unauthorized(failure) from None
    except TooManyResources as too_many:
        raise ApiError(
            413,
            "too_many_resources",
            f"The call carries {too_many.count} FHIR resources (prefetch entries and draft "
            f"orders); the limit is {too_many.limit} (BEDSIDE_CDS_MAX_RESOURCES).",
        ) from None
    except TimeBudgetExceeded as spent:
        log.warning("503 for %s: %s", service.id, spent)
        raise ApiError(
            503,
            "time_budget_exceeded",
            "The call could not be answered within its time budget "
            f"({current_app.config['CDS_TIME_BUDGET_SECONDS']} s); no cards.",
        ) from None
    except PrefetchUnavailable as missing:
        log.info("412 for %s: %s", service.id, missing)
        raise ApiError(
            412,
            "prefetch_unavailable",
            f"Required data {missing.key!r} could not be prefetched or fetched: {missing.reason}.",
            f"prefetch.{missing.key}",
        ) from None


def call_namespace(client: VerifiedClient | None, hook_request: HookRequest) -> Namespace:
    """Where the call's ids are unique: the issuer and the FHIR server (else tenant) it names."""
    if client is None:  # authentication off: keyed by the FHIR server alone, as always
        return Namespace(str(hook_request.fhirServer or "unauthenticated"))
    server = str(hook_request.fhirServer) if hook_request.fhirServer is not None else None
    return namespace_of(client.iss, server, client.tenant)


def call_limits() -> CallLimits:
    """This call's limits: resources carried, and a deadline counted from now."""
    config = current_app.config
    return CallLimits(
        max_resources=config["CDS_MAX_RESOURCES"],
        deadline=time.monotonic() + config["CDS_TIME_BUDGET_SECONDS"],
    )


def burn(claim: JtiClaim | None) -> None:
    """Claim the JWT id of a call that failed, so it cannot be replayed (401 if it was)."""
    if claim is not None and not runtime().engine.store.claim_jti(*claim):
        raise unauthorized(AuthError("replayed jti"))


@bp.post("/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    """Record what the clinician did with our cards (idempotent)."""
    known_service(service_id)
    client = authenticate()
    parsed = validate(FeedbackRequest, json_body(), prefix="")
    return jsonify(runtime().engine.record_feedback(parsed.feedback, client_of(client)))


@floor_bp.post("/<service_id>")
def floor(service_id: str) -> Response:
    """Parse a hook call exactly as invoke does, then answer no cards (benchmark baseline)."""
    parse_hook_request(known_service(service_id))
    return json_response({"cards": []})


@bp.after_request
def add_cors_headers(response: Response) -> Response:
    """Allow browser CDS clients (e.g. the sandbox); never with credentials."""
    allowed = current_app.config["CDS_CORS_ORIGINS"].split()
    origin = request.headers.get("Origin")
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    response.headers.update(CORS_HEADERS)
    return response


def client_of(client: VerifiedClient | None) -> str:
    """The issuer exposures and feedback are bound to ('' when authentication is off)."""
    return client.iss if client else ""


def known_service(service_id: str) -> CdsService:
    """Return the service or answer 404."""
    service = SERVICES_BY_ID.get(service_id)
    if service is None:
        raise ApiError(404, "unknown_service", f"There is no CDS service {service_id!r}.")
    return service


def authenticate(*, claim: bool = True) -> VerifiedClient | None:
    """Verify the caller's JWT for the exact URL invoked; any failure is a bare 401."""
    authenticator = runtime().authenticator
    if authenticator is None:
        return None
    try:
        return authenticator.verify(
            request.headers.get("Authorization"), audience_url(), claim=claim
        )
    except AuthError as failure:
        raise unauthorized(failure) from None


def unauthorized(failure: AuthError) -> ApiError:
    """The bare 401 every authentication failure gets (the reason goes to the log only)."""
    log.info("CDS client authentication failed on %s: %s", request.path, failure)
    return ApiError(401, "unauthorized", "Authentication failed.")


def audience_url() -> str:
    """Return the public URL of this request, as the JWT `aud` must name it."""
    return public_base_url() + request.path


def parse_hook_request(service: CdsService) -> HookRequest:
    """Validate the body and its hook-specific context; 400 names the field at fault."""
    hook_request = validate(HookRequest, json_body(), prefix="")
    if hook_request.hook != service.hook:
        raise ApiError(
            400,
            "unsupported_hook",
            f"hook: service {service.id!r} serves {service.hook!r}, not {hook_request.hook!r}.",
            "hook",
        )
    validate(CONTEXT_MODELS[service.hook], hook_request.context, prefix="context.")
    return hook_request


def validate(model: type[ModelT], data: object, *, prefix: str) -> ModelT:
    """Validate data against a model, translating the first error into the JSON error shape."""
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        error = invalid.errors(include_url=False)[0]
        field = prefix + ".".join(str(part) for part in error["loc"])
        raise ApiError(
            400, "invalid_request", f"{field or 'body'}: {error['msg']}.", field
        ) from None


def json_body() -> dict:
    """Return the JSON object body; 413 past the size limit, 400 when it is not a JSON object."""
    limit = current_app.config["MAX_REQUEST_BYTES"]
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        data = None
    # werkzeug stops a chunked body at the limit without saying so: reaching it means cut off
    if data is None or (request.content_length is None and len(data) >= limit):
        raise ApiError(
            413,
            "request_too_large",
            f"The request body exceeds the limit of {limit} bytes (BEDSIDE_MAX_REQUEST_BYTES).",
        )
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:  # the parser's stack ran out on deeply nested arrays or objects
        raise ApiError(400, "invalid_json", "The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return body


def json_response(body: dict) -> Response:
    """A hook response: compact UTF-8 JSON, cards' keys in their natural order (not sorted)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(text, mimetype="application/json")


def preferred_languages() -> list[str]:
    """Return the caller's preferred languages (Accept-Language), base codes only."""
    return [language.split("-")[0].lower() for language, _ in request.accept_languages]


def register(app: Flask, runtime_: CdsRuntime) -> None:
    """Mount the CDS blueprints and keep the runtime on the app."""
    app.extensions["cds"] = runtime_
    app.register_blueprint(bp)
    answer_errors_as_operation_outcome(app)
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(openapi_document()))
    if app.config["CDS_FLOOR_ENDPOINT"]:
        app.register_blueprint(floor_bp)
