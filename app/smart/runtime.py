"""The SMART client's per-app state: registrations, discovery cache, stores and HTTP sessions."""

from __future__ import annotations

from pathlib import Path

import requests
from flask import Flask, current_app
from requests.adapters import BaseAdapter

from app.database import Database, app_database
from app.deployment import EXTENSION as DEPLOYMENT
from app.smart.clients import ClientRegistry, load_smart_clients
from app.smart.discovery import Discovery
from app.smart.pending import PendingStore
from app.smart.sessions import SESSION_SECONDS, SmartSessionStore
from app.smart.token_cipher import TokenCipher


class SmartRuntime:
    """Everything the SMART blueprint and fhir_get share, kept in app.extensions["smart"]."""

    def __init__(
        self,
        clients: ClientRegistry,
        database: Database,
        *,
        session_seconds: float,
        token_key: str,
        offline_access: bool = False,
    ):
        self.clients = clients
        self.offline_access = offline_access
        cipher = TokenCipher(token_key)
        self.sessions = SmartSessionStore(database, cipher, lifetime=session_seconds)
        self.pending = PendingStore(database, cipher)
        # Extra transports by URL prefix (tests route http://localhost/ into the app itself).
        self.transport_adapters: dict[str, BaseAdapter] = {}
        self.discovery = Discovery(self.http_session)

    @classmethod
    def from_app(cls, app: Flask) -> SmartRuntime:
        """Build the runtime from configuration; a bad SMART_CLIENTS file raises ConfigError."""
        path = app.config.get("SMART_CLIENTS")
        clients = load_smart_clients(Path(path)) if path else []
        registry = ClientRegistry(clients, app.extensions[DEPLOYMENT])
        seconds = float(app.config.get("SMART_SESSION_SECONDS", SESSION_SECONDS))
        return cls(
            registry,
            app_database(app),
            session_seconds=seconds,
            token_key=app.config["SMART_TOKEN_KEY"],
            offline_access=bool(app.config.get("SMART_OFFLINE_ACCESS")),
        )

    def http_session(self) -> requests.Session:
        """A fresh requests session for one outbound exchange (close it after use)."""
        session = requests.Session()
        self.mount(session)
        return session

    def mount(self, session: requests.Session) -> None:
        """Mount the extra transports on a session (Authlib's OAuth2Session included)."""
        for prefix, adapter in self.transport_adapters.items():
            session.mount(prefix, adapter)


def runtime() -> SmartRuntime:
    """The current app's SMART runtime."""
    return current_app.extensions["smart"]
