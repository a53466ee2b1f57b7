"""Collaborative learning: discussions on module versions, the editorial queue, roles.

Wire with `init_collaboration(app)` after the CDS services and before the /app pages that use
it. Above the CDS services and below the pages in the package layers: it listens to the CDS
engine's feedback, and nothing below knows of it. Queue writes happen where their cause happens,
never on a page view: a critiquing override files its item in the feedback request itself, and
items a loaded module version cites are resolved when the app starts with that library (a
release is a restart). `bedside editorial sync` does both again, for overrides stored while
filing failed (the EHR's redelivery of that feedback files it too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from app.collaboration.roles import NO_GRANTS, RoleMap, fhir_user_names, load_role_map
from app.collaboration.store import CDS_REPORTER, CdsOverride, CollaborationStore
from app.database import app_database
from app.identity import normalise_issuer
from cds_hooks.engine import namespace_of
from cds_hooks.store import Exposure, FeedbackRecord

EXTENSION = "collaboration"

__all__ = ["Collaboration", "collaboration", "init_collaboration"]


@dataclass(frozen=True)
class CdsCaller:
    """A CDS client as collaboration sees it: its issuer and the SMART issuers of its EHR."""

    iss: str
    smart_issuers: tuple[str, ...]  # normalised


@dataclass(frozen=True)
class Collaboration:
    """The app's discussions and queue store, its role grants and the CDS user keying."""

    store: CollaborationStore
    role_map: RoleMap
    cds_callers: tuple[CdsCaller, ...]  # the CDS clients ("" when CDS auth is off)
    # (caller, FHIR server or None, userId) → the CDS keyed user hash
    cds_user_key: Callable[[str, str | None, str], str] | None

    def reporter_keys(self, learner_id: str, issuer: str, fhir_user: str | None) -> set[str]:
        """Every key items and notices may name this clinician by: learner id and CDS keys."""
        keys = {learner_id}
        if self.cds_user_key is None or not fhir_user:
            return keys
        for caller in self.callers_of(issuer):
            for user in fhir_user_names(issuer, fhir_user):
                for server in (normalise_issuer(issuer), None):  # None: keys from before origins
                    keys.add(CDS_REPORTER + self.cds_user_key(caller, server, user))
        return keys

    def callers_of(self, issuer: str) -> list[str]:
        """The CDS callers whose users are this SMART issuer's clinicians.

        A hook's userId is relative (`Practitioner/123`), so the same id at two EHRs is two
        people: a caller counts only when its entry names this issuer in `smart_issuers`, or
        when it is the only caller (one EHR).
        """
        mapped = [c.iss for c in self.cds_callers if normalise_issuer(issuer) in c.smart_issuers]
        if mapped or len(self.cds_callers) != 1:
            return mapped
        return [self.cds_callers[0].iss]

    def file_override(self, record: FeedbackRecord, exposure: Exposure) -> None:
        """File a queue item for feedback that overrides a card with a critique, as it arrives."""
        if record.outcome != "overridden":
            return
        self.store.file_cds_override(
            CdsOverride(
                record.feedback_key,
                exposure.module_id,
                exposure.module_version,
                record.user_key,
                record.override_reason,
                record.override_reason_system,
            )
        )

    def sync(self, modules: Mapping[str, Mapping[str, Any]]) -> tuple[int, list[str]]:
        """File items for new critiquing CDS overrides; resolve items the modules publish."""
        return self.store.import_cds_feedback(), self.store.resolve_published(modules)


def init_collaboration(app: Flask) -> Collaboration:
    """Open the store, read the roles file, listen to CDS feedback and resolve released items."""
    if EXTENSION in app.extensions:
        return app.extensions[EXTENSION]
    path = app.config.get("ROLES")
    cds = app.extensions.get("cds")
    callers = [
        CdsCaller(client.iss, tuple(map(normalise_issuer, client.smart_issuers)))
        for client in app.extensions.get("cds_clients", [])
    ]
    if app.config.get("CDS_AUTH") == "off":
        callers.append(CdsCaller("", ()))
    runtime = Collaboration(
        store=CollaborationStore(app_database(app)),
        role_map=load_role_map(path) if path else NO_GRANTS,
        cds_callers=tuple(callers),
        cds_user_key=(
            lambda caller, server, user: cds.engine.identity_key(
                "user", namespace_of(caller, server, None), user
            )
        )
        if cds
        else None,
    )
    app.extensions[EXTENSION] = runtime
    if cds:
        cds.engine.feedback_listeners.append(runtime.file_override)
        runtime.store.resolve_published(cds.engine.library.modules)
    return runtime


def collaboration() -> Collaboration:
    """This app's collaboration runtime."""
    return current_app.extensions[EXTENSION]
