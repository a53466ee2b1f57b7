"""Nothing vouches for a record that fails its hash or chain link, nor badges a reversed credit."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import text

from app.ledger.chain import compute_hash
from app.ledger.ledger_commands import export_command
from app.ledger.outputs.exporting import FORMATS

AMOUNT_RAISED = "UPDATE ledger_credits SET amount_hundredths = 2500 WHERE sequence = :sequence"
RESEALED = (
    "UPDATE ledger_credits SET amount_hundredths = :amount, record_hash = :record_hash "
    "WHERE sequence = :sequence"
)


def tamper(store, statement: str, **values) -> None:
    """Edit a credit record in the database, lifting the append-only guard as an owner could."""
    lift = (
        "ALTER TABLE ledger_credits DISABLE TRIGGER USER"
        if store.database.dialect == "postgresql"
        else "DROP TRIGGER IF EXISTS ledger_credits_no_update"
    )
    with store.database.write() as owner:
        owner.execute(text(lift))
        owner.execute(text(statement), values)


def reseal(store, sequence: int) -> None:
    """Raise a record's amount and store the hash of its new fields (the next link then breaks)."""
    record = next(store.iter_chain(after=sequence - 1))
    edited = replace(record, amount_hundredths=2500)
    record_hash = compute_hash(edited.prev_hash, edited.hashed_fields())
    tamper(store, RESEALED, amount=2500, record_hash=record_hash, sequence=sequence)


def export(app, *args: str):
    """Run `bedside ledger export` on the app's ledger."""
    env = {"BEDSIDE_DATABASE": str(app.config["DATABASE"])}
    if app.config.get("DATABASE_URL"):
        env["BEDSIDE_DATABASE_URL"] = app.config["DATABASE_URL"]
    obj = ScriptInfo(create_app=lambda: app)
    return CliRunner().invoke(export_command, ["--format", *args], obj=obj, env=env)


def badge_path(record) -> str:
    """The public URL path of a record's badge."""
    return f"/ledger/badges/credits/{record.sequence}-{record.record_hash}.jwt"


def record_at(store, sequence: int):
    """The stored record with this number."""
    return next(store.iter_chain(after=sequence - 1))


@pytest.mark.parametrize("format_", FORMATS)
def test_every_export_refuses_a_record_whose_hash_fails_and_names_it(
    outputs_app, store, world, tmp_path, format_
):
    altered = world.sequences["alice-poc"][0]
    tamper(store, AMOUNT_RAISED, sequence=altered)
    target = tmp_path / "export.out"

    result = export(outputs_app, format_, "-o", str(target))

    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith(
        f"Error: Nothing was exported because record #{altered} fails: hash mismatch"
    )
    assert not target.exists() and "Traceback" not in result.output


def test_an_export_refuses_a_resealed_record_whose_next_record_no_longer_links_to_it(
    outputs_app, store, world
):
    """Alice's last record, re-hashed after the edit: Bob's next record names the break."""
    last_of_alice = world.sequences["alice-reversal"][0]
    reseal(store, last_of_alice)

    result = export(outputs_app, "csv", "--learner", world.learners["alice"])

    assert result.exit_code == 1
    assert f"record #{last_of_alice + 1} fails: link mismatch" in result.output


def test_a_damaged_record_of_another_learner_leaves_an_export_alone(outputs_app, store, world):
    tamper(store, AMOUNT_RAISED, sequence=world.sequences["dave-poc"][0])

    result = export(outputs_app, "pars", "--learner", world.learners["alice"])

    assert result.exit_code == 0, result.output
    assert "Alice" in result.stdout


def test_the_badge_url_refuses_a_record_whose_hash_fails(outputs_app, store, world):
    record = record_at(store, world.sequences["alice-af"][0])
    tamper(store, AMOUNT_RAISED, sequence=record.sequence)
    client = outputs_app.test_client()

    api = client.get(badge_path(record), headers={"Accept": "application/json"})
    page = client.get(badge_path(record))

    assert api.status_code == 409 and api.mimetype == "application/json"
    assert "fails the ledger's verification" in api.json["error"]["message"]
    assert page.status_code == 409 and page.mimetype == "text/html"


def test_the_badge_url_refuses_a_record_whose_next_record_no_longer_links_to_it(
    outputs_app, store, world
):
    sequence = world.sequences["alice-af"][0]
    reseal(store, sequence)
    resealed = record_at(store, sequence)  # its URL now carries the re-computed hash

    response = outputs_app.test_client().get(badge_path(resealed))

    assert response.status_code == 409


def test_the_badge_url_of_a_reversed_credit_is_gone(outputs_app, store, world):
    reversed_credit = record_at(store, world.sequences["alice-sepsis"][0])
    standing = record_at(store, world.sequences["alice-af"][0])
    client = outputs_app.test_client()

    gone = client.get(badge_path(reversed_credit), headers={"Accept": "application/json"})

    assert gone.status_code == 410 and gone.json["error"]["message"]
    assert client.get(badge_path(standing)).status_code == 200
