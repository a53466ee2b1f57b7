"""Demo mode runs the whole path: demo registration, export from the demo EHR, compute."""

from __future__ import annotations

import json

from click.testing import CliRunner

from app import create_app
from app.db import close_stores
from app.devtools.demo_commands import backend_client
from app.outcomes.export_command import export
from app.outcomes.outcomes_commands import compute
from tests.smart.loopback import serve


def test_demo_backend_client_exports_what_the_demo_fhir_server_serves(tmp_path):
    """`demo backend-client` + `outcomes export` + `compute --ndjson` = compute on the server."""
    instance = tmp_path / "instance"
    settings = {"TESTING": True, "DEMO": True, "DATABASE": str(instance / "bedside.db")}
    app = create_app(settings, instance_path=instance)
    registration = tmp_path / "backend-clients.json"
    try:
        with serve(app) as origin:
            fhir = f"{origin}/fhir"
            wrote = app.test_cli_runner().invoke(
                backend_client, ["--out", str(registration), "--fhir-server", fhir]
            )
            env = {"BEDSIDE_BACKEND_CLIENTS": str(registration), "BEDSIDE_HOOK_TOKEN": ""}
            runner = CliRunner()
            exported = runner.invoke(
                export, ["--fhir-server", fhir, "--out", str(tmp_path / "x")], env=env
            )
            searched = runner.invoke(compute, ["--fhir-server", fhir, "--format", "json"], env=env)
        from_files = runner.invoke(compute, ["--ndjson", str(tmp_path / "x"), "--format", "json"])
    finally:
        close_stores(app)
    assert wrote.exit_code == 0, wrote.output
    assert registration.stat().st_mode & 0o777 == 0o600
    assert exported.exit_code == 0, exported.output
    assert searched.exit_code == 0, searched.output
    assert from_files.exit_code == 0, from_files.output
    assert json.loads(from_files.output) == json.loads(searched.output)
    patients = (tmp_path / "x" / "Patient-1.ndjson").read_text().splitlines()
    assert len(patients) == 3
