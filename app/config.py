"""Layered configuration: defaults → instance file → BEDSIDE_* environment → test overrides."""

from __future__ import annotations

import os
import secrets
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from flask import Flask

from app.errors import ConfigError
from app.settings import (
    CLI_ONLY_VARIABLES,
    ENV_PREFIX,
    REPO_ROOT,
    SETTINGS_BY_NAME,
    Setting,
    defaults,
)

INSTANCE_FILE = "bedside.toml"
# Keys made once per instance when not configured; the ledger's must never change. Each has one
# job, so rotating the session key neither splits learner ids nor resets CDS snoozes.
INSTANCE_KEYS = {
    "SECRET_KEY": "secret_key",
    "LEDGER_IDENTITY_KEY": "ledger_identity_key",
    "CDS_IDENTITY_KEY": "cds_identity_key",
    "SMART_TOKEN_KEY": "smart_token_key",  # seals SMART tokens at rest (app/smart/token_cipher.py)
}
NEW_INSTANCE_KEYS = "bedside_new_instance_keys"  # names of the keys made at this start
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def load_config(app: Flask, test_config: Mapping[str, object] | None) -> None:
    """Fill app.config from every layer, then validate and normalise it."""
    app.config.from_mapping(defaults())
    instance_values = read_instance_file(Path(app.instance_path) / INSTANCE_FILE)
    reject_unknown(instance_values, f"{app.instance_path}/{INSTANCE_FILE}", prefix="")
    app.config.update(instance_values)
    reject_unknown(environment_settings(), "the environment", prefix=ENV_PREFIX)
    app.config.from_prefixed_env(ENV_PREFIX.rstrip("_"))
    for name in CLI_ONLY_VARIABLES:
        app.config.pop(name, None)  # e.g. a FHIR token for `bedside hook`: not app config
    if test_config:
        app.config.update(test_config)
    for setting in SETTINGS_BY_NAME.values():
        app.config[setting.name] = coerce(setting, app.config[setting.name])
    made = app.extensions.setdefault(NEW_INSTANCE_KEYS, set())
    for name, file_name in INSTANCE_KEYS.items():
        if not app.config[name]:
            if not (Path(app.instance_path) / file_name).exists():
                made.add(name)
            app.config[name] = instance_secret_key(Path(app.instance_path), file_name)
    check_cookie_policy(app.config)
    # Flask's own session cookie (it holds the CSRF token) follows app.security.cookie_policy's
    # rule as far as it can without a request: Secure when the public URL is https.
    app.config["SESSION_COOKIE_SECURE"] = bool(
        app.config.get("SESSION_COOKIE_SECURE") or https_public_url(app.config)
    )


def https_public_url(config: Mapping[str, object]) -> bool:
    """Tell whether the public URL is https (then every cookie is Secure)."""
    return str(config.get("PUBLIC_BASE_URL") or "").startswith("https://")


def check_cookie_policy(config: Mapping[str, object]) -> None:
    """SameSite=None cookies must be Secure, so the public URL must be https."""
    if config["COOKIE_SAMESITE"] == "None" and not https_public_url(config):
        raise ConfigError(
            f"{ENV_PREFIX}COOKIE_SAMESITE=None needs Secure cookies: set "
            f"{ENV_PREFIX}PUBLIC_BASE_URL to the https URL the EHR opens Bedside at."
        )


def read_instance_file(path: Path) -> dict[str, object]:
    """Read the optional TOML file in the instance folder."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"Configuration file {path} is not valid TOML: {error}.") from None


def environment_settings() -> dict[str, str]:
    """Return BEDSIDE_* environment variables with the prefix removed."""
    return {
        key[len(ENV_PREFIX) :]: value
        for key, value in os.environ.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :] not in CLI_ONLY_VARIABLES
    }


def reject_unknown(values: Mapping[str, object], source: str, *, prefix: str) -> None:
    """Fail on a setting name Bedside does not know (usually a typo)."""
    for name in values:
        if name not in SETTINGS_BY_NAME:
            known = ", ".join(prefix + known for known in SETTINGS_BY_NAME)
            raise ConfigError(f"Unknown setting {prefix}{name} in {source}; known: {known}.")


def coerce(setting: Setting, value: object) -> object:
    """Return the value converted to the setting's kind, or raise ConfigError."""
    if value is None or value == "":
        if setting.kind == "bool":
            return False
        return None if setting.default is None else coerce(setting, setting.default)
    converter = CONVERTERS[setting.kind]
    return converter(setting, value)


def to_bool(setting: Setting, value: object) -> bool:
    """Accept true/false, 1/0, yes/no, on/off."""
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{ENV_PREFIX}{setting.name} must be true or false, not {value!r}.")


def to_int(setting: Setting, value: object) -> int:
    """Accept an integer no smaller than the setting's minimum."""
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigError(
            f"{ENV_PREFIX}{setting.name} must be a whole number, not {value!r}."
        ) from None
    if setting.minimum is not None and number < setting.minimum:
        raise ConfigError(f"{ENV_PREFIX}{setting.name} must be at least {setting.minimum}.")
    return number


def to_choice(setting: Setting, value: object) -> str:
    """Accept one of the listed words (case-insensitive)."""
    word = str(value).strip()
    for choice in setting.choices:
        if word.lower() == choice.lower():
            return choice
    options = ", ".join(setting.choices)
    raise ConfigError(f"{ENV_PREFIX}{setting.name} must be one of {options}, not {value!r}.")


def to_url(setting: Setting, value: object) -> str:
    """Accept an absolute http(s) URL, without a trailing slash."""
    url = str(value).strip().rstrip("/")
    parts = split_url(url)
    if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(
            f"{ENV_PREFIX}{setting.name} must be an absolute http(s) URL, not {url!r}."
        )
    return url


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL whose host (and port, if any) urllib can read."""
    parts = split_url(url)
    return parts is not None and parts.scheme in {"http", "https"} and bool(parts.hostname)


def split_url(url: str) -> SplitResult | None:
    """Split a URL; None when its host or port cannot be read (http://[::1, a port of 99999)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # reading it checks the port is a number from 0 to 65535
    except ValueError:
        return None
    return parts


def to_path(setting: Setting, value: object) -> Path:
    """Resolve a path relative to the repository root."""
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def to_existing_file(setting: Setting, value: object) -> Path:
    """Resolve a path and require a readable file there."""
    path = to_path(setting, value)
    if not path.is_file():
        raise ConfigError(f"{ENV_PREFIX}{setting.name} names {path}, which does not exist.")
    return path


CONVERTERS = {
    "bool": to_bool,
    "int": to_int,
    "str": lambda setting, value: str(value),
    "choice": to_choice,
    "url": to_url,
    "path": to_path,
    "file": to_existing_file,
}


def instance_secret_key(instance_path: Path, file_name: str) -> str:
    """Read a key from the instance folder, creating it once (race-safe across workers)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / file_name
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_written_key(key_file)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        key = secrets.token_hex(32)
        handle.write(key)
    return key


def read_written_key(key_file: Path) -> str:
    """Read a key file another worker may still be writing."""
    for _ in range(50):
        key = key_file.read_text(encoding="ascii").strip()
        if key:
            return key
        time.sleep(0.02)
    raise ConfigError(f"Secret key file {key_file} is empty; delete it or set BEDSIDE_SECRET_KEY.")
