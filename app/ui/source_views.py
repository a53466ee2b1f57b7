"""A module version's HTI-1 source attributes (45 CFR 170.315(b)(11)(iv)(A)), public, HTML or JSON.

Every card links here, and whoever sees the card in the EHR may open it, so the page needs no
sign-in and shows nothing about a patient or a learner.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext

from app import i18n
from app.errors import ApiError
from app.library.source_attributes import SourceAttributes, source_attributes
from app.ui.page_context import runtime
from app.ui.views import helpers

bp = Blueprint("sources", __name__)
bp.context_processor(helpers)
bp.after_request(i18n.private_page)

# The regulation's words for (A)(5) to (13).
ELEMENT_LABELS = {
    "race": lazy_gettext("Use of race"),
    "ethnicity": lazy_gettext("Use of ethnicity"),
    "language": lazy_gettext("Use of language"),
    "sexual_orientation": lazy_gettext("Use of sexual orientation"),
    "gender_identity": lazy_gettext("Use of gender identity"),
    "sex": lazy_gettext("Use of sex"),
    "date_of_birth": lazy_gettext("Use of date of birth"),
    "social_determinants_of_health": lazy_gettext("Use of social determinants of health data"),
    "health_status_assessments": lazy_gettext("Use of health status assessments data"),
}


@bp.get("/modules/<module_id>/<version>/source-attributes")
def source_attributes_page(module_id: str, version: str) -> Response | str | tuple[str, int]:
    """Show one module version's source attributes (`?format=json` for the JSON form)."""
    as_json = request.args.get("format") == "json"
    attributes = attributes_of(module_id, version)
    if attributes is None:
        if as_json:
            raise ApiError(404, "not_found", "There is no such module version.")
        return not_found_page()
    if as_json:
        return jsonify(attributes.as_json())
    return render_template(
        "ui/source_attributes.html",
        attributes=attributes,
        element_labels=ELEMENT_LABELS,
        hide_nav=True,
    )


def attributes_of(module_id: str, version: str) -> SourceAttributes | None:
    """The attributes of a module version in the loaded library, or None when there is none."""
    library = runtime().library
    module = library.modules.get(module_id)
    if module is None or module.get("version") != version or "source_attributes" not in module:
        return None
    return source_attributes(module, library.value_sets)


def not_found_page() -> tuple[str, int]:
    """The 404 page for a module or version this library does not have."""
    page = render_template(
        "ui/error.html",
        status=404,
        title=gettext("Not found"),
        message=gettext("There is no such module version in this library."),
        hide_nav=True,
    )
    return page, 404
