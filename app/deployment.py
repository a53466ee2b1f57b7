"""What a deployment does beyond Bedside itself: the production answers, which demo mode overrides.

The composition root (`create_app`) installs one `Deployment`. Demo mode installs
`app.devtools.demo.DemoDeployment`, so production code asks this object instead of testing the
`DEMO` setting, and never imports the demo code.
"""

from __future__ import annotations

from flask import current_app

EXTENSION = "bedside_deployment"


class Deployment:
    """A production deployment: no demonstration labels, no built-in EHR."""

    demo = False

    def home_issuer(self) -> str | None:
        """The EHR a standalone launch without `iss` signs in to (none in production)."""
        return None

    def built_in_client_id(self, issuer: str) -> str | None:
        """Bedside's client id at an EHR the deployment itself provides (none in production)."""
        return None


def deployment() -> Deployment:
    """The current app's deployment."""
    return current_app.extensions[EXTENSION]
