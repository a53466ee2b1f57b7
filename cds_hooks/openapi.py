"""OpenAPI 3.1 description of Bedside's JSON endpoints, generated from the wire models."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from cds_hooks.models import CONTEXT_MODELS, Card, FeedbackRequest, HookRequest
from cds_hooks.services import SERVICES, CdsService

REF = "#/components/schemas/{model}"
SEMVER = r"^\d+\.\d+\.\d+$"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid_request"]},
                "message": {"type": "string"},
                "field": {"type": "string", "examples": ["context.patientId"]},
            },
        }
    },
}
DISCOVERY_SCHEMA = {
    "type": "object",
    "required": ["services"],
    "properties": {
        "services": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["hook", "description", "id"],
                "properties": {
                    "hook": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "id": {"type": "string"},
                    "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
                    "version": {"type": "string", "pattern": SEMVER, "examples": ["3.0.0"]},
                    "hookVersion": {"type": "string", "pattern": SEMVER, "examples": ["1.0.0"]},
                },
            },
        }
    },
}
OPERATION_OUTCOME_SCHEMA = {
    "description": "The error as a FHIR OperationOutcome, for `Accept: application/fhir+json`.",
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"const": "error"},
                    "code": {"type": "string", "examples": ["invalid", "login", "processing"]},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
FEEDBACK_RESULT_SCHEMA = {
    "type": "object",
    "properties": {
        name: {"type": "integer"} for name in ("recorded", "alreadyRecorded", "unknownCards")
    },
}


def openapi_document() -> dict:
    """Return the OpenAPI document for the CDS Hooks endpoints and the health check."""
    models: list[tuple[type[BaseModel], str]] = [
        (HookRequest, "validation"),
        (FeedbackRequest, "validation"),
        (Card, "serialization"),
        *((CONTEXT_MODELS[service.hook], "validation") for service in SERVICES),
    ]
    _, definitions = models_json_schema(models, ref_template=REF)
    schemas = {
        **definitions["$defs"],
        "Error": ERROR_SCHEMA,
        "OperationOutcome": OPERATION_OUTCOME_SCHEMA,
        "Discovery": DISCOVERY_SCHEMA,
        "FeedbackResult": FEEDBACK_RESULT_SCHEMA,
        "CdsResponse": {
            "type": "object",
            "required": ["cards"],
            "properties": {"cards": {"type": "array", "items": {"$ref": REF.format(model="Card")}}},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bedside",
            "version": "0.1.0",
            "description": (
                "CDS Hooks services (for 2.0 clients, and 3.0 clients per the 2026 ballot) "
                "that answer with guideline microlearning cards."
            ),
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "cdsClientJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"cdsClientJwt": []}],
        "paths": paths(),
    }


def paths() -> dict:
    """Describe each JSON endpoint."""
    return {
        "/cds-services": {
            "get": {
                "summary": "Discover the CDS services",
                "responses": {"200": json_response("Discovery"), **errors(401)},
            }
        },
        **{path: item for service in SERVICES for path, item in service_paths(service).items()},
        "/healthz": {
            "get": {
                "summary": "Health check",
                "security": [],
                "responses": {"200": {"description": "The service is up"}},
            }
        },
    }


def service_paths(service: CdsService) -> dict:
    """One service's invocation and feedback: its hook and its hook's context, exactly."""
    request = {
        "allOf": [
            {"$ref": REF.format(model="HookRequest")},
            {
                "properties": {
                    "hook": {"const": service.hook},
                    "context": {"$ref": REF.format(model=CONTEXT_MODELS[service.hook].__name__)},
                }
            },
        ]
    }
    return {
        f"/cds-services/{service.id}": {
            "post": {
                "summary": f"Invoke {service.id} ({service.hook})",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": request}},
                },
                "responses": {
                    "200": json_response("CdsResponse"),
                    **errors(400, 401, 412, 413, 429, 503),
                },
            }
        },
        f"/cds-services/{service.id}/feedback": {
            "post": {
                "summary": f"Report what the user did with {service.id}'s cards (idempotent)",
                "requestBody": json_body("FeedbackRequest"),
                "responses": {"200": json_response("FeedbackResult"), **errors(400, 401, 429)},
            }
        },
    }


def json_response(schema: str) -> dict:
    """A 200 response with a JSON body of the named schema."""
    return {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": REF.format(model=schema)}}},
    }


def json_body(schema: str) -> dict:
    """A required JSON request body of the named schema."""
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=schema)}}},
    }


def errors(*statuses: int) -> dict:
    """Error responses in the one JSON error shape, or as an OperationOutcome when asked for."""
    error = {
        "content": {
            "application/json": {"schema": {"$ref": REF.format(model="Error")}},
            "application/fhir+json": {"schema": {"$ref": REF.format(model="OperationOutcome")}},
        }
    }
    return {str(status): {"description": f"HTTP {status}", **error} for status in statuses}
