"""SMART scopes of `fhirAuthorization.scope`: does the token let Bedside read what it fetches?

CDS Hooks 2.0 passes SMART App Launch v1 scopes (`patient/Observation.read`), CDS Hooks 3.0 passes
v2 scopes (`user/Observation.rs`, granular `patient/Observation.rs?category=…`). v1 `.read` and
`.*` grant what v2 `.rs` and `.cruds` grant; `.write` grants no read. A v2 suffix is a subset of
`cruds` in that order (anything else grants nothing). A granular scope grants the interaction on
the type: the FHIR server applies its filter to what it returns.
"""

from __future__ import annotations

import re

SCOPE = re.compile(
    r"(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]*)"
    r"\.(?P<permissions>read|write|\*|c?r?u?d?s?)(?:\?.*)?"
)
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]*")


def granted(scope: str, resource_type: str, interaction: str) -> bool:
    """Tell whether a space-separated scope string grants `interaction` (r or s) on a type."""
    for item in scope.split():
        match = SCOPE.fullmatch(item)
        if match is None or match["type"] not in {"*", resource_type}:
            continue
        permissions = V1_PERMISSIONS.get(match["permissions"], match["permissions"])
        if interaction in permissions:
            return True
    return False


def query_refusal(scope: str, query: str) -> str | None:
    """Say why the scope does not allow a relative FHIR query, or None when it does.

    `Type/id` is a read (r); `Type?…` is a search (s), and so are its next pages.
    """
    parts = query.split("?", 1)[0].strip("/").split("/")
    resource_type = parts[0]
    if not RESOURCE_TYPE.fullmatch(resource_type):
        return "the FHIR query names no resource type the scope could grant"
    interaction, verb = ("r", "read") if len(parts) == 2 else ("s", "search")
    if granted(scope, resource_type, interaction):
        return None
    return f"the access token's scope does not grant a {verb} of {resource_type}"
