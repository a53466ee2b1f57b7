"""Text no database stores: a NUL character in a request's path, query or form is refused.

PostgreSQL's text columns cannot hold U+0000 (SQLite can), so a NUL in a name, a post or an id
would fail deep inside a view with a 500, sometimes after part of the work was saved. No field
Bedside reads from a path, a query or a form means anything with one, so the request is refused
with a 400 before any view runs (after the rate limits), on every database alike. (Werkzeug
parses a form only for the form content types, and within the request size limit; API bodies
are JSON, which their views check.)
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from app.errors import API_PATH_PREFIXES

NUL = "\x00"


def init_app(app: Flask) -> None:
    """Check every request before its view."""
    app.before_request(refuse_nul_characters)


def refuse_nul_characters() -> None:
    """400 when the path, or a query or form key or value, holds a NUL character."""
    if NUL in request.path or holds_nul(request.args) or holds_nul(page_form()):
        raise BadRequest("The request holds a NUL character, which no text field can store.")


def page_form() -> MultiDict[str, str]:
    """The form a page was sent; none for an API, whose views read the raw body.

    Parsing a form consumes the body: a CDS client posting its JSON as a form (curl -d) would
    leave the hook nothing to read.
    """
    return MultiDict() if request.path.startswith(API_PATH_PREFIXES) else request.form


def holds_nul(fields: MultiDict[str, str]) -> bool:
    """Whether any key or value of a query or form holds a NUL character."""
    return any(NUL in key or NUL in value for key, value in fields.items(multi=True))
