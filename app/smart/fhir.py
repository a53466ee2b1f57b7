"""Read the EHR's FHIR API within a SMART session, refreshing the access token when needed."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from typing import NoReturn

import requests
from authlib.integrations.base_client import OAuthError
from flask import g

from app.fhir_json import as_str
from app.smart.bounded_reads import open_stream, read_within
from app.smart.oauth import (
    TOKEN_TIMEOUT,
    UNREADABLE_ANSWER,
    check_bearer,
    check_storable,
    expiry_of,
    oauth_session,
)
from app.smart.runtime import SmartRuntime, runtime
from app.smart.sessions import REFRESH_LOCK_SECONDS, SmartSession
from app.smart.smart_errors import FhirRequestError, SmartLaunchError, SmartSessionEnded

log = logging.getLogger(__name__)

TIMEOUT = (3.05, 15)
DEADLINE_SECONDS = 20  # one FHIR read, headers and body, however slowly the server sends
MAX_RESPONSE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class FhirAnswer:
    """What the FHIR server answered: its status, whether it redirected, a success's body."""

    status: int
    redirect: bool = False
    body: bytes = b""


def fhir_get(session: SmartSession, path: str) -> dict:
    """GET a FHIR path (e.g. "Observation?patient=…") from the session's EHR; return the JSON."""
    rt = runtime()
    current = rt.sessions.load_key(session.session_key)
    if current is None:
        raise SmartSessionEnded()
    url = fhir_url(current.issuer, path)
    if needs_refresh(current):
        current = refresh_session(rt, current)
    answer = get(rt, url, current.access_token)
    if answer.status == 401:
        current = refresh_session(rt, current)
        answer = get(rt, url, current.access_token)
        if answer.status == 401:
            end_session(rt, current, "the EHR refused a freshly refreshed token")
    return fhir_json(answer)


def needs_refresh(session: SmartSession) -> bool:
    """Refresh ahead of expiry when a refresh token exists; else use the token to its end."""
    # Without a refresh token an early refresh can only end the session, so a short-lived
    # token (60 s or less) would be dropped before its first use.
    return session.access_expired(leeway=30 if session.refresh_token else 0)


def fhir_url(issuer: str, path: str) -> str:
    """Resolve a path against the FHIR base; absolute URLs must stay under it (token safety)."""
    if path.startswith(("http://", "https://")):
        if not path.startswith(issuer.rstrip("/") + "/"):
            raise ValueError("fhir_get only sends the token to the session's own FHIR server.")
        return path
    return f"{issuer.rstrip('/')}/{path.lstrip('/')}"


def get(rt: SmartRuntime, url: str, access_token: str) -> FhirAnswer:
    """One authorised GET, bounded in time and bytes; a redirect is not followed with the token."""
    headers = {"Accept": "application/fhir+json", "Authorization": f"Bearer {access_token}"}
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        with (
            rt.http_session() as http,
            open_stream(http, url, redirects=0, headers=headers, timeout=TIMEOUT) as response,
        ):
            return answer_of(response, deadline)
    except requests.RequestException as error:
        log.warning("FHIR request failed: %s", type(error).__name__)
        raise FhirRequestError(503, "The EHR's FHIR server could not be reached.") from None
    except ValueError as error:
        log.warning("FHIR response not read: %s", error)
        raise FhirRequestError(
            502, f"The EHR's FHIR server's answer could not be read: {error}."
        ) from None


def answer_of(response: requests.Response, deadline: float) -> FhirAnswer:
    """The answer's status, and its body when it is a success (an error's body is left unread)."""
    if response.is_redirect or response.status_code >= 400:
        return FhirAnswer(response.status_code, redirect=response.is_redirect)
    return FhirAnswer(
        response.status_code, body=read_within(response, deadline, MAX_RESPONSE_BYTES)
    )


def fhir_json(answer: FhirAnswer) -> dict:
    """The JSON body of a successful answer; a FhirRequestError otherwise."""
    if answer.redirect:
        raise FhirRequestError(502, "The EHR's FHIR server answered with a redirect.")
    if answer.status >= 400:
        raise FhirRequestError(answer.status, f"The EHR's FHIR server answered {answer.status}.")
    try:
        body = json.loads(answer.body)
    except (ValueError, RecursionError):
        raise FhirRequestError(502, "The EHR's FHIR server did not answer with JSON.") from None
    if not isinstance(body, dict):
        raise FhirRequestError(502, "The EHR's FHIR server did not answer with a resource.")
    return body


def refresh_session(rt: SmartRuntime, session: SmartSession) -> SmartSession:
    """Get a new access token with the refresh token (which it replaces); end on refusal."""
    if not session.refresh_token:
        end_session(rt, session, "the access token expired and there is no refresh token")
    if not rt.sessions.claim_refresh(session.session_key):
        return wait_for_refresh(rt, session)
    latest = rt.sessions.load_key(session.session_key)
    if latest is None:
        raise SmartSessionEnded()
    if latest.access_token != session.access_token:
        rt.sessions.release_refresh(session.session_key)
        remember(latest)
        return latest
    return refresh_claimed(rt, latest)


def refresh_claimed(rt: SmartRuntime, session: SmartSession) -> SmartSession:
    """Refresh a session whose refresh lock this worker holds; end the session on refusal."""
    client = rt.clients.for_issuer(session.issuer)
    if client is None or client.client_id != session.client_id:
        end_session(rt, session, "the EHR is no longer configured")
    try:
        with oauth_session(rt, client, session.token_endpoint) as oauth:
            token = oauth.refresh_token(
                session.token_endpoint, refresh_token=session.refresh_token, timeout=TOKEN_TIMEOUT
            )
        check_bearer(token)
        check_storable(token, {})
    except requests.RequestException as error:
        rt.sessions.release_refresh(session.session_key)
        log.warning("Token refresh failed to reach the EHR: %s", type(error).__name__)
        raise FhirRequestError(503, "The EHR could not be reached to renew access.") from None
    except (OAuthError, SmartLaunchError, KeyError, *UNREADABLE_ANSWER) as error:
        end_session(rt, session, f"the EHR refused the refresh ({type(error).__name__})")
    refreshed = dataclasses.replace(
        session,
        access_token=token["access_token"],
        refresh_token=as_str(token.get("refresh_token")) or session.refresh_token,
        access_expires_at=expiry_of(token),
        scope=as_str(token.get("scope")) or session.scope,
    )
    rt.sessions.save_tokens(refreshed)
    remember(refreshed)
    return refreshed


def wait_for_refresh(rt: SmartRuntime, session: SmartSession) -> SmartSession:
    """Another worker is refreshing this session: wait for its new token."""
    deadline = time.monotonic() + REFRESH_LOCK_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        latest = rt.sessions.load_key(session.session_key)
        if latest is None:
            raise SmartSessionEnded()
        if latest.access_token != session.access_token:
            remember(latest)
            return latest
    raise FhirRequestError(503, "Renewing access with the EHR is taking too long; try again.")


def end_session(rt: SmartRuntime, session: SmartSession, reason: str) -> NoReturn:
    """Delete the session and raise SmartSessionEnded (the UI asks for a relaunch)."""
    log.info("SMART session ended: %s", reason)
    rt.sessions.delete_key(session.session_key)
    g.pop("smart_session", None)
    raise SmartSessionEnded()


def remember(session: SmartSession) -> None:
    """Keep the request's cached session current after a refresh."""
    cached = g.get("smart_session")
    if cached is not None and cached.session_key == session.session_key:
        g.smart_session = session
