"""One JSON error shape for APIs, HTML error pages for people, and the named exceptions."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import OperationalError as DatabaseUnavailable
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)

API_PATH_PREFIXES = ("/cds-services", "/api/", "/openapi.json", "/healthz")
DRAIN_CHUNK_BYTES = 64 * 1024
ERROR_RENDERERS = "bedside_error_renderers"
# Renders (status, code, message, field) in another shape for the current request, or None.
ErrorRenderer = Callable[[int, str, str, str | None], Response | None]


class ConfigError(Exception):
    """Configuration that stops Bedside from starting; the message is one clear sentence."""


class ApiError(Exception):
    """A client error on a JSON API, rendered in the one error shape."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def error_body(code: str, message: str, field: str | None = None) -> dict:
    """Build the one JSON error shape: {"error": {"code", "message", "field"?}}."""
    error = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def add_error_renderer(app: Flask, renderer: ErrorRenderer) -> None:
    """Let a part of the app answer API errors in another shape when its clients ask for it."""
    app.extensions.setdefault(ERROR_RENDERERS, []).append(renderer)


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    """An API error: the first renderer that takes the request, else the one JSON error shape."""
    for renderer in current_app.extensions.get(ERROR_RENDERERS, ()):
        response = renderer(status, code, message, field)
        if response is not None:
            return response
    return jsonify(error_body(code, message, field))


def register_error_handlers(app: Flask) -> None:
    """Render every error as JSON on API paths and as an HTML page elsewhere."""
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DatabaseUnavailable, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
    app.after_request(drain_unread_body)


def handle_api_error(error: ApiError) -> tuple[Response, int]:
    """Render a named API error."""
    return error_response(error.status, error.code, error.message, error.field), error.status


def handle_http_exception(error: HTTPException) -> Response | tuple[Response | str, int]:
    """Render an HTTP error (404, 405, 413…) for the kind of client that asked."""
    status = error.code or 500
    if wants_json():
        response = error_response(status, code_for(error), error.description or error.name)
    else:
        page = render_template(
            "error.html", status=status, title=error.name, message=error.description
        )
        response = current_app.make_response(page)
    for name, value in error.get_headers():  # Retry-After, Allow, WWW-Authenticate…
        if name.lower() not in {"content-type", "content-length"}:
            response.headers[name] = value
    return response, status


def handle_database_unavailable(error: DatabaseUnavailable) -> tuple[Response | str, int]:
    """The database stayed locked or out of reach: a 503, its transaction rolled back."""
    reason = type(error.orig).__name__ if error.orig is not None else "no answer"
    log.warning("Database unavailable on %s %s (%s)", request.method, request.path, reason)
    retry = ServiceUnavailable(
        "The database did not answer in time; nothing was changed. Try again in a moment.",
        retry_after=5,
    )
    return handle_http_exception(retry)


def handle_unexpected(error: Exception) -> tuple[Response | str, int]:
    """Log an unexpected failure server-side; the client sees no trace."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError("Something went wrong on our side."))


def drain_unread_body(response: Response) -> Response:
    """Read, within the size limit, any body an early answer (401, 404…) left unread.

    A client that reuses its connection (EHR connection pools) would otherwise find the
    unread bytes where the server expects its next request, and lose that call. The server
    (gunicorn) ignores a `Connection: close` from the app, so reading is the dependable way.
    """
    try:
        while request.stream.read(DRAIN_CHUNK_BYTES):
            pass
    except (HTTPException, OSError):  # over the limit (413) or cut off: the server closes it
        pass
    return response


def wants_json() -> bool:
    """Tell whether the current request is an API call (JSON errors) or a page view."""
    if request.path.startswith(API_PATH_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def code_for(error: HTTPException) -> str:
    """Derive a stable snake_case error code from the HTTP error's name."""
    if error.code == 500:
        return "internal_error"
    return error.name.lower().replace(" ", "_").replace("'", "")
