"""`bedside ledger export --database COPY` on a machine with no instance: it creates nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.ledger import ledger_commands
from app.ledger.models import ClaimRequest
from app.ledger.outputs.badges import KEY_FILE, issuer_key, verify_badge
from app.ledger.store import SqlLedgerStore, ledger_database
from app.library.loader import load_library
from app.settings import REPO_ROOT
from tests.ledger.helpers import ISSUER, KEY, T0, award

MODULE = "sepsis-hour-1-bundle"


@pytest.fixture
def instance(tmp_path, monkeypatch) -> Path:
    """Where the app's instance folder would be; nothing is there."""
    folder = tmp_path / "instance"
    monkeypatch.setattr(ledger_commands, "INSTANCE_FOLDER", folder, raising=False)
    return folder


@pytest.fixture
def copy(tmp_path) -> Path:
    """A copied ledger holding one credit for a module of the content library."""
    path = tmp_path / "copy.db"
    store = SqlLedgerStore(ledger_database(path), KEY)
    try:
        learner = store.ensure_learner(ISSUER, "Practitioner/1")
        claim = ClaimRequest(
            learner_id=learner,
            activity_type="case",
            activity_key=f"case:{MODULE}@1.0.0",
            earned_at=T0,
            module_id=MODULE,
            module_version="1.0.0",
            attempt_id="00000000-0000-0000-0000-000000000001",
            evidence={"correct": 3, "total": 4, "pass_mark_percent": 75},
        )
        store.append_credit(claim, [award("0.50")], "key-1")
    finally:
        store.close()
    return path


def export(copy: Path, instance: Path, *args: str):
    """Run `bedside ledger export --database COPY …`; the app's database would be in instance/."""
    return CliRunner().invoke(
        cli,
        ["ledger", "export", "--database", str(copy), *args],
        env={"BEDSIDE_DATABASE": str(instance / "bedside.db")},
    )


def test_a_csv_export_of_a_copy_creates_no_instance_and_still_names_the_activity(copy, instance):
    result = export(copy, instance, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    library = load_library(REPO_ROOT / "content").modules
    assert [row["activity"] for row in rows] == [library[MODULE]["title"]["en"]]
    assert not instance.exists()


def test_a_badge_export_with_no_issuer_key_says_so_and_makes_none(copy, instance, tmp_path):
    result = export(copy, instance, "--format", "badge", "--base-url", "https://x.test")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output == (
        f"Error: Badges are signed with the instance's issuer key and there is none at "
        f"{instance / KEY_FILE}: export badges where Bedside runs (this command makes no key).\n"
    )
    assert not instance.exists()


def test_a_badge_export_signs_with_the_key_already_in_the_instance(copy, instance, tmp_path):
    instance.mkdir()
    issuer_key(instance)  # made as the running app makes it
    before = sorted(instance.iterdir())
    target = tmp_path / "out" / "badges.jwt"
    target.parent.mkdir()
    result = export(
        copy, instance, "--format", "badge", "--base-url", "https://x.test", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    keys = json.loads((target.parent / "issuer-jwks.json").read_text())
    assert verify_badge(target.read_text().strip(), keys).ok
    assert sorted(instance.iterdir()) == before
