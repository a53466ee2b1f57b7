"""The credential outcomes commands present to a FHIR server: a pasted token or a system token.

A pasted token (--token or $BEDSIDE_HOOK_TOKEN) is used as given. Otherwise, when the
BEDSIDE_BACKEND_CLIENTS file registers the server, Bedside gets its own SMART Backend Services
token, asking only for read/search on the resource types the measures read.
"""

from __future__ import annotations

import os
from pathlib import Path

from app import config
from app.errors import ConfigError
from app.outcomes.ingest_fhir import MEASURE_TYPES, Credential
from app.settings import ENV_PREFIX, REPO_ROOT, SETTINGS_BY_NAME
from app.smart.backend_services import BackendToken, load_backend_clients, registration_for

MEASURE_SCOPE = " ".join(f"system/{resource_type}.rs" for resource_type in MEASURE_TYPES)


def credential_for(fhir_server: str, pasted: str | None) -> Credential:
    """The pasted token, else a renewing system token for a registered server, else None.

    A configured registration file that does not list the server is an error (ConfigError):
    the user asked for backend services and would otherwise get an anonymous request.
    """
    if pasted:
        return pasted
    path = backend_clients_file()
    if path is None:
        return None
    client = registration_for(load_backend_clients(path), fhir_server)
    if client is None:
        raise ConfigError(
            f"The {ENV_PREFIX}BACKEND_CLIENTS file {path} has no registration for {fhir_server}; "
            "add one or pass --token."
        )
    return BackendToken(client, MEASURE_SCOPE)


def backend_clients_file() -> Path | None:
    """The BACKEND_CLIENTS setting: the environment, else the instance file, else None."""
    setting = SETTINGS_BY_NAME["BACKEND_CLIENTS"]
    variable = ENV_PREFIX + setting.name
    value = os.environ.get(variable)
    if not value:
        instance = config.read_instance_file(REPO_ROOT / "instance" / config.INSTANCE_FILE)
        value = instance.get(setting.name)
    return config.coerce(setting, value) if value else None
