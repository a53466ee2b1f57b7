"""`bedside editorial sync`: CDS overrides that critique the content become queue items, once."""

from __future__ import annotations

from click.testing import CliRunner

from app.cli import cli
from app.config import INSTANCE_KEYS
from app.database import Database, parse_database_url
from cds_hooks.store import CdsStore
from tests.collaboration.test_store import exposure, feedback


def run(*arguments: str) -> tuple[int, str]:
    """Run `bedside …` in-process; return the exit code and everything it printed."""
    result = CliRunner().invoke(cli, list(arguments), prog_name="bedside")
    return result.exit_code, result.output


def test_sync_files_each_critiquing_override_once(monkeypatch, tmp_path):
    for name in INSTANCE_KEYS:  # given, so reading the configuration writes no key files
        monkeypatch.setenv(f"BEDSIDE_{name}", "k" * 64)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("BEDSIDE_DATABASE_URL", url)
    monkeypatch.setenv("BEDSIDE_DATABASE", str(tmp_path / "ledger.db"))
    database = Database(parse_database_url(url))
    cds = CdsStore(database)
    for card, reason in (("c1", "recipient-disagrees-evidence"), ("c2", "cds-not-applicable")):
        cds.record_call([exposure(card)])
        cds.record_feedback(feedback(card, reason))
    database.dispose()

    code, output = run("editorial", "sync")
    assert code == 0, output
    assert "Filed 1 new item(s) from CDS overrides; resolved 0 item(s)." in output
    assert run("editorial", "sync")[1].startswith("Filed 0 new item(s)")
