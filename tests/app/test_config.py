"""Configuration: defaults → instance file → BEDSIDE_* environment → test config, validated."""

from __future__ import annotations

import json

import pytest

from app import create_app
from app.errors import ConfigError
from app.settings import REPO_ROOT


def build(instance_path, test_config=None):
    """Create an app rooted in the given instance folder."""
    return create_app(test_config, instance_path=instance_path)


def test_defaults_apply_when_nothing_is_set(instance_path):
    app = build(instance_path)
    assert app.config["DEMO"] is False
    assert app.config["CDS_MAX_CARDS"] == 2
    assert app.config["CDS_AUTH"] == "on"
    assert app.config["CONTENT_DIR"] == REPO_ROOT / "content"


def test_instance_file_overrides_defaults(instance_path):
    (instance_path / "bedside.toml").write_text("CDS_MAX_CARDS = 3\nDEMO = true\n")
    app = build(instance_path)
    assert app.config["CDS_MAX_CARDS"] == 3
    assert app.config["DEMO"] is True


def test_environment_overrides_instance_file(instance_path, monkeypatch):
    (instance_path / "bedside.toml").write_text("CDS_MAX_CARDS = 3\n")
    monkeypatch.setenv("BEDSIDE_CDS_MAX_CARDS", "4")
    assert build(instance_path).config["CDS_MAX_CARDS"] == 4


def test_test_config_overrides_environment(instance_path, monkeypatch):
    monkeypatch.setenv("BEDSIDE_CDS_MAX_CARDS", "4")
    assert build(instance_path, {"CDS_MAX_CARDS": 1}).config["CDS_MAX_CARDS"] == 1


@pytest.mark.parametrize(
    "word,expected", [("1", True), ("on", True), ("false", False), ("0", False)]
)
def test_boolean_words_are_understood(instance_path, monkeypatch, word, expected):
    monkeypatch.setenv("BEDSIDE_DEMO", word)
    assert build(instance_path).config["DEMO"] is expected


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("BEDSIDE_DEMOO", "1", "Unknown setting BEDSIDE_DEMOO in the environment"),
        ("BEDSIDE_DEMO", "maybe", "BEDSIDE_DEMO must be true or false, not 'maybe'."),
        ("BEDSIDE_CDS_MAX_CARDS", "many", "BEDSIDE_CDS_MAX_CARDS must be a whole number"),
        ("BEDSIDE_CDS_MAX_CARDS", "-1", "BEDSIDE_CDS_MAX_CARDS must be at least 0."),
        ("BEDSIDE_CDS_AUTH", "sometimes", "BEDSIDE_CDS_AUTH must be one of on, off"),
        ("BEDSIDE_PUBLIC_BASE_URL", "bedside.example", "must be an absolute http(s) URL"),
        ("BEDSIDE_CDS_CLIENTS", "/no/such/clients.json", "/no/such/clients.json, which does not"),
    ],
)
def test_invalid_environment_stops_start_with_one_sentence(
    instance_path, monkeypatch, name, value, message
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        build(instance_path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_malformed_instance_file_is_named(instance_path):
    (instance_path / "bedside.toml").write_text("CDS_MAX_CARDS = = 3\n")
    with pytest.raises(ConfigError, match=r"bedside.toml is not valid TOML"):
        build(instance_path)


def test_unknown_key_in_instance_file_is_named(instance_path):
    (instance_path / "bedside.toml").write_text("MAX_CARDS = 3\n")
    with pytest.raises(ConfigError, match=r"Unknown setting MAX_CARDS in .*bedside.toml"):
        build(instance_path)


def test_public_base_url_loses_its_trailing_slash(instance_path, monkeypatch):
    monkeypatch.setenv("BEDSIDE_PUBLIC_BASE_URL", "https://cds.example.org/bedside/")
    assert build(instance_path).config["PUBLIC_BASE_URL"] == "https://cds.example.org/bedside"


def test_secret_key_is_generated_once_and_reused(instance_path):
    first = build(instance_path).config["SECRET_KEY"]
    second = build(instance_path).config["SECRET_KEY"]
    assert len(first) == 64
    assert first == second
    assert (instance_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_secret_key_from_environment_wins(instance_path, monkeypatch):
    monkeypatch.setenv("BEDSIDE_SECRET_KEY", "from-the-vault")
    assert build(instance_path).config["SECRET_KEY"] == "from-the-vault"
    assert not (instance_path / "secret_key").exists()


def test_cds_clients_file_is_loaded(instance_path, tmp_path, monkeypatch):
    clients = tmp_path / "clients.json"
    clients.write_text(
        json.dumps([{"iss": "https://ehr.example", "jku": "https://ehr.example/jwks"}])
    )
    monkeypatch.setenv("BEDSIDE_CDS_CLIENTS", str(clients))
    app = build(instance_path)
    assert [client.iss for client in app.extensions["cds_clients"]] == ["https://ehr.example"]


def test_cli_only_variables_are_accepted_but_kept_out_of_the_config(instance_path, monkeypatch):
    monkeypatch.setenv("BEDSIDE_HOOK_TOKEN", "secret-fhir-token")
    app = build(instance_path)
    assert "HOOK_TOKEN" not in app.config
    assert "secret-fhir-token" not in repr(dict(app.config))
