"""Malformed URLs, settings and JSON config files stop Bedside with one sentence, no traceback."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner
from sqlite_utils.migrations import Migrations

from app import create_app
from app.cli import cli
from app.collaboration.roles import load_role_map
from app.db import SqliteStore, opening
from app.errors import ConfigError
from app.ledger.wiring import policy_from_config
from app.outcomes.outcomes_commands import compute
from app.security import is_https_or_loopback
from app.smart.backend_services import load_backend_clients
from app.smart.clients import load_smart_clients
from cds_hooks.clients import load_trusted_clients

BROKEN_IPV6 = "[::1"  # urllib's urlsplit raises ValueError("Invalid IPv6 URL")
TOO_LONG_NUMBER = "[" + "1" * 5_000 + "]"  # past Python's 4,300-digit limit: ValueError
TOO_DEEP = "[" * 100_000 + "]" * 100_000  # RecursionError in the json decoder


def run(*arguments: str) -> tuple[int, str]:
    """Run `bedside …` in-process; return the exit code and everything it printed."""
    result = CliRunner().invoke(cli, list(arguments), prog_name="bedside")
    return result.exit_code, result.output


def one_sentence(output: str) -> bool:
    """Tell whether a CLI printed exactly one `Error: …` line and no traceback."""
    lines = output.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in output


def start_error(instance_path, **settings: object) -> str:
    """Build the app with these settings; return the ConfigError it stops with."""
    config = {"TESTING": True, "DATABASE": str(instance_path / "bedside.db"), **settings}
    with pytest.raises(ConfigError) as caught:
        create_app(config, instance_path=instance_path)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- database URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [f"postgresql://u@{BROKEN_IPV6}/x", "postgresql://u@h:99999999/x"])
def test_a_database_url_with_a_broken_ipv6_host_or_a_port_out_of_range_is_one_sentence(url):
    code, output = run("db", "check", "--database-url", url)
    assert code == 1
    assert output == (
        "Error: --database-url has a host or port that cannot be read "
        "(write postgresql://user:password@host:5432/bedside).\n"
    )


def test_a_broken_ipv6_database_url_in_the_environment_stops_start_with_one_sentence(
    instance_path,
):
    message = start_error(instance_path, DATABASE_URL=f"postgresql://u@{BROKEN_IPV6}/x")
    assert message.startswith("BEDSIDE_DATABASE_URL has a host or port that cannot be read")


# --- FHIR server URLs -------------------------------------------------------------------------


def test_a_fhir_server_url_with_a_broken_ipv6_host_is_a_usage_error_for_hook():
    arguments = ("--fhir-server", f"http://{BROKEN_IPV6}/fhir", "--patient", "x")
    code, output = run("hook", "patient-view", *arguments)
    assert code == 2
    assert "Error: Invalid value for '--fhir-server': give the FHIR base URL" in output
    assert "Traceback" not in output


def test_a_url_urlsplit_cannot_read_is_neither_https_nor_loopback():
    assert is_https_or_loopback(f"http://{BROKEN_IPV6}/fhir") is False
    assert is_https_or_loopback(f"https://{BROKEN_IPV6}/fhir") is False


def test_outcomes_compute_with_a_broken_ipv6_fhir_server_is_one_sentence():
    arguments = ["--fhir-server", f"http://{BROKEN_IPV6}/fhir", "--token", "x"]
    result = CliRunner().invoke(compute, arguments)
    assert result.exit_code == 1
    assert one_sentence(result.output), result.output
    assert "must be https" in result.output


# --- start-up settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("PUBLIC_BASE_URL", f"http://{BROKEN_IPV6}", "must be an absolute http(s) URL"),
        ("SMTP_URL", f"smtp://{BROKEN_IPV6}", "BEDSIDE_SMTP_URL must look like smtp://"),
        ("RATE_LIMIT_STORAGE", f"redis://{BROKEN_IPV6}", "Flask-Limiter cannot open"),
        ("RATE_LIMIT_STORAGE", "nonsense://", "Flask-Limiter cannot open"),
        ("LEDGER_POC_CREDIT", "ama-pra-category-1:1e400", "'1e400' is not a positive amount"),
    ],
)
def test_a_setting_bedside_cannot_use_stops_start_with_one_sentence(
    instance_path, name, value, said
):
    assert said in start_error(instance_path, **{name: value})


def test_a_rate_limit_store_with_a_password_is_refused_without_showing_it(instance_path):
    message = start_error(instance_path, RATE_LIMIT_STORAGE="nonsense://:s3cret@host")
    assert "s3cret" not in message


def test_an_amount_too_large_to_round_to_cents_is_refused_with_its_setting_name():
    with pytest.raises(ConfigError, match="BEDSIDE_LEDGER_POC_CREDIT: '1e400' is not a posit"):
        policy_from_config({"LEDGER_POC_CREDIT": "ama-pra-category-1:1e400"})


@pytest.mark.parametrize(
    ("kind", "reason"), [("folder", "unable to open"), ("text", "file is not a database")]
)
def test_a_database_setting_naming_a_folder_or_a_text_file_stops_start_with_one_sentence(
    instance_path, tmp_path, kind, reason
):
    path = tmp_path / "not-a-database"
    if kind == "folder":
        path.mkdir()
    else:
        path.write_text("root:x:0:0:root:/root:/bin/bash\n" * 10)
    message = start_error(instance_path, DATABASE=str(path))
    assert message.startswith(f"The database file {path} cannot be opened ({reason}")


def test_a_sqlite_store_on_a_text_file_stops_with_one_sentence(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database, only words\n" * 10)
    with pytest.raises(ConfigError, match=r"notes.txt cannot be opened \(file is not a database"):
        SqliteStore(path, Migrations("bedside.test"))


# --- JSON configuration files -----------------------------------------------------------------

LOADERS = {
    "BEDSIDE_CDS_CLIENTS": load_trusted_clients,
    "BEDSIDE_ROLES": load_role_map,
    "BEDSIDE_SMART_CLIENTS": load_smart_clients,
    "BEDSIDE_BACKEND_CLIENTS": load_backend_clients,
}


@pytest.mark.parametrize("setting", LOADERS)
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (TOO_LONG_NUMBER, "(a number has more than 4,300 digits)"),
        (TOO_DEEP, "(arrays or objects nested too deeply)"),
    ],
    ids=["a-5000-digit-number", "arrays-nested-100000-deep"],
)
def test_a_json_config_file_python_cannot_parse_is_not_valid_json(
    tmp_path, setting, content, reason
):
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        LOADERS[setting](path)
    message = str(caught.value)
    assert setting in message
    assert f"{path} is not valid JSON {reason}" in message
    assert "set_int_max_str_digits" not in message
    assert "\n" not in message


def test_invalid_json_keeps_the_parsers_own_words(tmp_path):
    path = tmp_path / "clients.json"
    path.write_text(json.dumps([{"iss": "x"}]) + ",")
    with pytest.raises(ConfigError, match=r"is not valid JSON \(Extra data: line 1 column 15"):
        load_trusted_clients(path)


def test_an_sqlite_error_python_raises_itself_passes_through_opening_unchanged(tmp_path):
    """A ProgrammingError has no sqlite_errorcode: it was an AttributeError, hiding the error."""
    connection = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.ProgrammingError), opening(tmp_path / "x.db"):
        connection.execute("SELECT ?", (1, 2))
