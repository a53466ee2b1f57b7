"""Helpers for driving SMART launches through the test client."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from sqlalchemy import text
from werkzeug.test import TestResponse

from app.database import app_database

ISS = "http://localhost/fhir"
CALLBACK = "http://localhost/smart/callback"


@dataclass
class Flow:
    """The three hops of a launch: Bedside → EHR authorize → Bedside callback."""

    launch: TestResponse
    authorize: TestResponse
    callback: TestResponse

    @property
    def authorize_query(self) -> dict[str, str]:
        """The parameters Bedside sent to the EHR's authorize endpoint."""
        return query_of(self.launch.headers["Location"])

    def responses(self) -> list[TestResponse]:
        """Every response of the flow."""
        return [self.launch, self.authorize, self.callback]


def query_of(url: str) -> dict[str, str]:
    """A URL's query parameters (last value wins)."""
    return {name: values[-1] for name, values in parse_qs(urlsplit(url).query).items()}


def new_launch(server, *, app_context: str | None = None, **context) -> str:
    """Create an EHR launch for the sepsis fixture patient."""
    values = {
        "patient": "sepsis-adult",
        "encounter": "sepsis-adult-ed-visit",
        "practitioner": "dr-ed-okafor",
        "need_patient_banner": True,
        "app_context": app_context,
    }
    return server.create_launch(**{**values, **context})


def ehr_launch(browser, server, *, app_context: str | None = None) -> Flow:
    """Run an EHR launch to the end of the callback."""
    launch_id = new_launch(server, app_context=app_context)
    launch = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    assert launch.status_code == 302, launch.get_data(as_text=True)
    authorize = browser.get(launch.headers["Location"])
    assert authorize.status_code == 302, authorize.get_data(as_text=True)
    callback = browser.get(authorize.headers["Location"])
    return Flow(launch, authorize, callback)


def sessions_rows(app) -> list[dict]:
    """Every stored SMART session row, from whichever database the app uses."""
    with app_database(app).read() as connection:
        rows = connection.execute(text("SELECT * FROM smart_sessions"))
        return [dict(row._mapping) for row in rows]


def execute(app, sql: str) -> None:
    """Run one statement in a write transaction on the app's database (tests' tampering)."""
    with app_database(app).write() as connection:
        connection.execute(text(sql))


def stored_sessions(app) -> list:
    """Every stored SMART session as the app reads it (tokens opened with the instance key)."""
    store = app.extensions["smart"].sessions
    return [store.load_key(row["session_key"]) for row in sessions_rows(app)]


def set_cookies(*responses) -> list[str]:
    """Every Set-Cookie header of the responses."""
    return [header for response in responses for header in response.headers.getlist("Set-Cookie")]


def pkce_pair() -> tuple[str, str]:
    """A code_verifier and its S256 code_challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(challenge: str, **overrides) -> dict[str, str]:
    """A valid EHR-launch authorization request for the public demo client."""
    params = {
        "response_type": "code",
        "client_id": "bedside-demo",
        "redirect_uri": CALLBACK,
        "scope": "launch openid fhirUser offline_access patient/*.rs",
        "state": secrets.token_urlsafe(16),
        "aud": ISS,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "nonce": "n-123",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


class FormReader(HTMLParser):
    """Collect a page's form inputs (hidden fields, first radio of each group)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        """Remember input names and values."""
        attributes = dict(attrs)
        if tag != "input" or "name" not in attributes:
            return
        if attributes.get("type") == "radio":
            self.radios.setdefault(attributes["name"], []).append(attributes.get("value", ""))
        else:
            self.fields[attributes["name"]] = attributes.get("value", "")


def read_form(html: str) -> FormReader:
    """Parse a page's form."""
    reader = FormReader()
    reader.feed(html)
    return reader


def resign_id_token(body: bytes, key, change: dict, *, signer=None) -> bytes:
    """Rewrite a token response's id_token with changed claims, signed by `signer` (or `key`)."""
    token = json.loads(body)
    claims = jwt.decode(token["id_token"], key, algorithms=["RS256"]).claims
    claims.update(change)
    header = {"alg": "RS256", "kid": "demo-smart-rs256"}
    token["id_token"] = jwt.encode(header, claims, signer or key, algorithms=["RS256"])
    return json.dumps(token).encode()


def location_path(location: str) -> str:
    """Where a redirect goes, without its query (an app page's launch id)."""
    return urlsplit(location).path
