"""SMART App Launch 2.2 client: EHR and standalone launch, server-side sessions, FHIR reads."""

from __future__ import annotations

from flask import Flask

from app.smart.fhir import fhir_get
from app.smart.runtime import SmartRuntime
from app.smart.sessions import SmartSession, current_smart_session
from app.smart.smart_errors import FhirRequestError, SmartLaunchError, SmartSessionEnded

__all__ = [
    "FhirRequestError",
    "SmartLaunchError",
    "SmartSession",
    "SmartSessionEnded",
    "current_smart_session",
    "fhir_get",
    "init_smart",
]


def init_smart(app: Flask) -> SmartRuntime:
    """Load SMART client registrations, mount /smart/* and the session-ended handlers."""
    if "smart" in app.extensions:
        return app.extensions["smart"]
    from app.smart import routes

    smart = SmartRuntime.from_app(app)
    app.extensions["smart"] = smart
    app.register_blueprint(routes.bp)
    app.register_error_handler(SmartSessionEnded, routes.session_ended)
    app.register_error_handler(FhirRequestError, routes.fhir_failed)
    return smart
