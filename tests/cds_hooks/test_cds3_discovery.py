"""Discovery advertises CDS Hooks 3.0's `version` and each service's `hookVersion`, 2.0-safe."""

from __future__ import annotations

import re

import jsonschema

from cds_hooks.services import PREFETCH

SEMVER = re.compile(r"\d+\.\d+\.\d+")
# The latest version in each hook definition's change log (HL7/cds-hooks-library).
PUBLISHED_HOOK_VERSIONS = {"order-select": "1.0.2", "order-sign": "1.1.0", "patient-view": "1.0.0"}
# CDS Hooks 2.0's description of a discovery entry (cds-hooks/api openapi.yaml, CdsService):
# three required fields and an open object, so fields added by 3.0 keep a 2.0 client's check green.
CDS_HOOKS_2_DISCOVERY = {
    "type": "object",
    "required": ["services"],
    "properties": {
        "services": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "hook", "description"],
                "properties": {
                    "id": {"type": "string"},
                    "hook": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        }
    },
}


def test_each_service_names_the_spec_version_and_its_hook_version(cds):
    services = cds.get("/cds-services").json["services"]
    assert len(services) == 3
    for service in services:
        assert service["version"] == "3.0.0"
        assert SEMVER.fullmatch(service["hookVersion"])
        assert service["hookVersion"] == PUBLISHED_HOOK_VERSIONS[service["hook"]]


def test_the_discovery_document_still_validates_as_cds_hooks_2(cds):
    document = cds.get("/cds-services").json
    jsonschema.validate(document, CDS_HOOKS_2_DISCOVERY)
    for service in document["services"]:
        assert service["prefetch"] == PREFETCH  # what a 2.0 client reads is unchanged


def test_the_openapi_document_describes_the_version_fields(cds):
    openapi = cds.client.get("/openapi.json").json
    discovery_schema = openapi["components"]["schemas"]["Discovery"]
    entry = discovery_schema["properties"]["services"]["items"]["properties"]
    assert {"version", "hookVersion"} <= set(entry)
    jsonschema.validate(cds.get("/cds-services").json, discovery_schema)
    for name in ("version", "hookVersion"):
        bad = {"services": [{"hook": "patient-view", "description": "d", "id": "x", name: "1.0"}]}
        assert not jsonschema.Draft202012Validator(discovery_schema).is_valid(bad)
