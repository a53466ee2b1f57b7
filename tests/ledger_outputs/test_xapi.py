"""xAPI 1.0.3 statements: valid against the schema of what we emit, opaque actors, voiding."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from app.ledger.outputs import xapi
from tests.ledger_outputs.world import BASE_URL, modules

SCHEMA = Path(__file__).with_name("xapi_statement.schema.json")


@cache
def validator() -> jsonschema.Draft202012Validator:
    """The schema of the statements Bedside emits."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def all_statements(store) -> list[dict]:
    """Every record of the ledger as statements."""
    return list(xapi.statements(store.iter_chain(), base_url=BASE_URL, library=modules()))


def test_every_statement_validates(store, world):
    made = all_statements(store)
    assert len(made) == store.referenced_head()
    for statement in made:
        errors = sorted(validator().iter_errors(statement), key=str)
        assert not errors, (statement, errors[0].message)


def test_the_schema_rejects_an_email_actor_and_a_bad_duration(store, world):
    statement = all_statements(store)[0]
    leaky = {**statement, "actor": {"objectType": "Agent", "mbox": "mailto:a@example.org"}}
    assert not validator().is_valid(leaky)
    bad = {**statement, "result": {"completion": True, "duration": "5 minutes"}}
    assert not validator().is_valid(bad)


def test_actors_are_opaque_accounts(store, world):
    learners = set(world.learners.values())
    for statement in all_statements(store):
        assert set(statement["actor"]) == {"objectType", "account"}
        assert statement["actor"]["account"]["homePage"] == BASE_URL
        assert statement["actor"]["account"]["name"] in learners


def test_a_case_is_passed_with_its_score(store, world):
    alice = world.learners["alice"]
    sepsis = world.sequences["alice-sepsis"][0]
    record = next(r for r in store.credits_for(alice) if r.sequence == sepsis)
    (statement,) = xapi.statements([record], base_url=BASE_URL, library=modules())
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert statement["object"]["id"] == f"{BASE_URL}/activities/sepsis-hour-1-bundle/1.0.0"
    assert statement["object"]["definition"]["name"]["es"]
    assert statement["result"]["score"] == {"scaled": 0.75, "raw": 3, "min": 0, "max": 4}
    assert statement["context"]["registration"] == record.attempt_id
    credit = statement["context"]["extensions"][xapi.CREDIT_EXTENSION]
    assert credit == {"type": "ama-pra-category-1", "amount": 0.25, "designated": 0.25}
    assert statement["timestamp"] == record.earned_at[:23] + "Z"


def test_a_point_of_care_cycle_is_completed_with_its_duration(store, world):
    sequence = world.sequences["alice-poc"][0]
    record = next(r for r in store.iter_chain() if r.sequence == sequence)
    (statement,) = xapi.statements([record], base_url=BASE_URL, library=modules())
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert statement["result"] == {"completion": True, "duration": "PT0H12M0S"}


def test_a_reversal_voids_the_statement_of_the_credit(store, world):
    made = {
        s["context"]["extensions"][xapi.RECORD_EXTENSION]["sequence"]: s
        for s in all_statements(store)
    }
    voiding = made[world.sequences["alice-reversal"][0]]
    assert voiding["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert voiding["object"] == {
        "objectType": "StatementRef",
        "id": made[world.sequences["alice-sepsis"][0]]["id"],
    }


def test_statement_ids_are_stable_and_unique(store, world):
    first, second = all_statements(store), all_statements(store)
    assert [s["id"] for s in first] == [s["id"] for s in second]
    assert len({s["id"] for s in first}) == len(first)


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(0), "PT0H0M0S"),
        (timedelta(minutes=12), "PT0H12M0S"),
        (timedelta(hours=30, seconds=5.5), "PT30H0M5.5S"),
        (timedelta(seconds=59.999), "PT0H1M0S"),
    ],
)
def test_durations_are_iso_8601(span, text):
    assert xapi.duration(span) == text


def test_json_array_and_ndjson(store, world):
    made = all_statements(store)
    assert json.loads(xapi.to_json(made)) == made
    lines = list(xapi.to_ndjson(made))
    assert len(lines) == len(made) and json.loads(lines[0]) == made[0]
    assert xapi.VERSION_HEADER == ("X-Experience-API-Version", "1.0.3")
