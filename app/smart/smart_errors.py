"""Named SMART failures, each rendered once as a clear page by the blueprint."""

from __future__ import annotations


class SmartLaunchError(Exception):
    """A launch or sign-in that cannot go on; the message is shown to the clinician."""

    def __init__(self, title: str, message: str, status: int = 400):
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status


class SmartSessionEnded(Exception):
    """The SMART session is gone (expired, refused refresh, logged out): relaunch from the EHR."""


class FhirRequestError(Exception):
    """The EHR's FHIR server answered with an error or could not be reached."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
