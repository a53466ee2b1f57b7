"""A read-only FHIR R4 HTTP facade over FixtureStore: blueprint, standalone app, loopback server."""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial, update_wrapper
from pathlib import Path

from flask import Blueprint, Flask, Response, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, make_server

from app.devtools.backend_auth import BackendAuthority
from app.devtools.fhir_bulk_export import ExportJobs, add_export_routes
from app.devtools.fhir_documents import (
    OFFSET_PARAM,
    capability_statement,
    operation_outcome,
    searchset,
)
from app.devtools.fhir_store import FixtureStore, SearchError

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
DEFAULT_COUNT = 50
MAX_COUNT = 200
_GP = ["GET", "POST"]
_ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class FhirError(Exception):
    """A request the server answers with an OperationOutcome."""

    def __init__(self, status: int, code: str, diagnostics: str):
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics


def create_fhir_blueprint(
    store: FixtureStore,
    *,
    token_check: Callable[[str], bool] | None = None,
    name: str = "fhir",
    exports: ExportJobs | None = None,
) -> Blueprint:
    """Build the read-only FHIR blueprint (metadata, read, search; `$export` given jobs)."""
    bp = Blueprint(name, __name__)
    if token_check is not None:
        bp.before_request(lambda: _require_token(token_check))
    if exports is not None:
        exports.requires_token = token_check is not None
        add_export_routes(bp, exports)
    bp.add_url_rule("/metadata", "metadata", bound(_metadata, store, token_check))
    bp.add_url_rule("/<resource_type>", "search", bound(_search, store))
    bp.add_url_rule("/<resource_type>/_search", "search_post", bound(_search, store), methods=_GP)
    bp.add_url_rule("/<resource_type>/<resource_id>", "read", bound(_read, store))
    bp.add_url_rule("/", "unknown_root", _unknown_path, methods=_ANY_METHOD, strict_slashes=False)
    bp.add_url_rule("/<path:rest>", "unknown", _unknown_path, methods=_ANY_METHOD)
    bp.register_error_handler(FhirError, _fhir_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected_error)
    return bp


def create_fhir_app(
    fixtures_dir: Path,
    *,
    token_check: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> Flask:
    """Build a standalone Flask app serving the fixtures at /fhir."""
    app = Flask(__name__)
    store = FixtureStore.from_directory(fixtures_dir, now=now)
    app.register_blueprint(
        create_fhir_blueprint(store, token_check=token_check), url_prefix="/fhir"
    )
    return app


class FixtureFhirServer:
    """A real loopback HTTP server (127.0.0.1, free port) over fixtures; a context manager.

    It serves `$export` (jobs in `exports`); with `backend_clients` (client id -> public JWKS)
    it also runs a Backend Services token endpoint at /auth/token, announced in
    /fhir/.well-known/smart-configuration, whose tokens the FHIR routes then require.
    """

    def __init__(
        self,
        fixtures_dir: Path,
        *,
        token: str | None = None,
        now: datetime | None = None,
        backend_clients: dict[str, dict] | None = None,
        pending_polls: int = 1,
        retry_after: int = 1,
    ):
        self.fixtures_dir = Path(fixtures_dir)
        self.token = token
        self.now = now
        self.requests_seen: list[tuple[str, str, bool]] = []
        store = FixtureStore.from_directory(self.fixtures_dir, now=now)
        self.exports = ExportJobs(store, pending_polls=pending_polls, retry_after=retry_after)
        self.authority = (
            BackendAuthority(backend_clients, self.token_url)
            if backend_clients is not None
            else None
        )
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The FHIR base URL, e.g. http://127.0.0.1:54321/fhir."""
        if self._server is None:
            raise RuntimeError("FixtureFhirServer is not running; use it as a context manager.")
        return f"http://127.0.0.1:{self._server.server_port}/fhir"

    def token_url(self) -> str:
        """The Backend Services token endpoint URL."""
        return self.base_url.removesuffix("/fhir") + "/auth/token"

    def __enter__(self) -> FixtureFhirServer:
        """Start serving in a daemon thread."""
        secured = self.token is not None or self.authority is not None
        check = self._token_matches if secured else None
        app = Flask(__name__)
        app.register_blueprint(
            create_fhir_blueprint(self.exports.store, token_check=check, exports=self.exports),
            url_prefix="/fhir",
        )
        if self.authority is not None:
            app.add_url_rule("/auth/token", "token", self.authority.token_view, methods=["POST"])
            app.add_url_rule(
                "/fhir/.well-known/smart-configuration", "smart_configuration", self._smart_config
            )
        app.before_request(self._record)
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the server, join its thread and close its socket."""
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server.server_close()
            self._server = None

    def _token_matches(self, token: str) -> bool:
        """The configured token (constant-time compare) or a live backend-services token."""
        expected = (self.token or "").encode()
        if self.token is not None and hmac.compare_digest(token.encode(), expected):
            return True
        return self.authority is not None and self.authority.token_valid(token)

    def _smart_config(self) -> Response:
        """The SMART configuration a backend-services client reads to find the token URL."""
        return Response(
            json.dumps(backend_smart_configuration(self.token_url())), mimetype="application/json"
        )

    def _record(self) -> None:
        """Remember (method, path+query, had_valid_token) for every request."""
        query = request.query_string.decode("latin-1")
        token = _bearer_token()
        valid = token is not None and self._token_matches(token)
        self.requests_seen.append(
            (request.method, request.path + ("?" + query if query else ""), valid)
        )


def backend_smart_configuration(token_url: str) -> dict:
    """A minimal smart-configuration for a server that offers only Backend Services."""
    return {
        "token_endpoint": token_url,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "scopes_supported": ["system/*.rs"],
        "capabilities": ["client-confidential-asymmetric", "permission-v2"],
    }


def _fhir_response(body: dict, status: int = 200) -> Response:
    """Serialise a FHIR resource as application/fhir+json."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=FHIR_JSON)


def _require_token(token_check: Callable[[str], bool]) -> None:
    """Refuse every request but metadata without a valid bearer token."""
    if (request.endpoint or "").rsplit(".", 1)[-1] == "metadata":
        return
    token = _bearer_token()
    if token is None:
        raise FhirError(401, "login", "This FHIR server requires an Authorization: Bearer token.")
    if not token_check(token):
        raise FhirError(401, "login", "The bearer token is not valid for this FHIR server.")


def _bearer_token() -> str | None:
    """The bearer token of the current request, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _metadata(store: FixtureStore, token_check: Callable[[str], bool] | None) -> Response:
    """Answer GET [base]/metadata (never needs a token)."""
    body = capability_statement(store, secured=token_check is not None, base=_base_url())
    return _fhir_response(body)


def _read(store: FixtureStore, resource_type: str, resource_id: str) -> Response:
    """Answer GET [base]/Type/id."""
    _check_type(store, resource_type)
    resource = store.read(resource_type, resource_id)
    if resource is None:
        raise FhirError(404, "not-found", f"Resource {resource_type}/{resource_id} is not known.")
    return _fhir_response(resource)


def _search(store: FixtureStore, resource_type: str) -> Response:
    """Answer a type-level search with one page of a searchset Bundle."""
    _check_type(store, resource_type)
    params = list(request.args.items(multi=True)) + list(request.form.items(multi=True))
    count, offset = _paging(params)
    try:
        matches = store.search(resource_type, params)
    except SearchError as exc:
        raise FhirError(400, "invalid", str(exc)) from exc
    return _fhir_response(searchset(_base_url(), resource_type, matches, params, count, offset))


def _check_type(store: FixtureStore, resource_type: str) -> None:
    """404 for a resource type this server does not serve."""
    if resource_type not in store.supported_types():
        raise FhirError(404, "not-found", f"Resource type '{resource_type}' is not supported.")


def _paging(params: list[tuple[str, str]]) -> tuple[int, int]:
    """Read `_count` (clamped to MAX_COUNT) and the page offset from the parameters."""
    values = dict(params)
    count = _non_negative(values, "_count", DEFAULT_COUNT)
    return min(count, MAX_COUNT), _non_negative(values, OFFSET_PARAM, 0)


def _non_negative(values: dict[str, str], name: str, default: int) -> int:
    """Parse a non-negative integer parameter, or 400."""
    raw = values.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit():
        raise FhirError(400, "invalid", f"'{name}' must be a non-negative integer, not '{raw}'.")
    return int(raw)


def _base_url() -> str:
    """The absolute FHIR base URL of the current request's blueprint mount point."""
    return url_for(".metadata", _external=True).removesuffix("/metadata")


def _unknown_path(rest: str = "") -> Response:
    """Answer any other path under the FHIR base with an OperationOutcome."""
    if request.method not in ("GET", "HEAD"):
        raise FhirError(405, "not-supported", "This fixture FHIR server is read-only.")
    raise FhirError(404, "not-found", f"There is nothing at '{request.path}' on this FHIR server.")


def _fhir_error(error: FhirError) -> Response:
    """Render a FhirError as an OperationOutcome (401s carry WWW-Authenticate)."""
    response = _fhir_response(operation_outcome(error.code, error.diagnostics), error.status)
    if error.status == 401:
        invalid = ', error="invalid_token"' if _bearer_token() else ""
        response.headers["WWW-Authenticate"] = f'Bearer realm="fhir"{invalid}'
    return response


def _http_error(error: HTTPException) -> Response:
    """Render a werkzeug HTTP error (e.g. 405) as an OperationOutcome."""
    code = {404: "not-found", 405: "not-supported"}.get(error.code or 500, "invalid")
    return _fhir_response(
        operation_outcome(code, error.description or error.name), error.code or 500
    )


def _unexpected_error(error: Exception) -> Response:
    """Log an unexpected failure server-side; the client sees only an OperationOutcome."""
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("Fixture FHIR server failed on %s %s", request.method, request.path)
    return _fhir_response(
        operation_outcome("exception", "Internal error in the fixture server."), 500
    )


class _QuietRequestHandler(WSGIRequestHandler):
    """Skip per-request access logging (tests read requests_seen instead); errors still log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing for a served request."""


def bound(view: Callable, *args: object) -> Callable:
    """A view with its first arguments bound, keeping its name (Flask-Limiter and logs read it)."""
    return update_wrapper(partial(view, *args), view)
