"""xAPI statements (1.0.3 and 2.0.0): valid against the schema of what we emit, opaque actors."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from app.ledger.chain import CreditRecord
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
    assert statement["object"]["id"] == f"{BASE_URL}/activities/case/sepsis-hour-1-bundle/2.0.0"
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


# xAPI 2.0.0 (IEEE 9274.1.1-2023) beside 1.0.3
MILLISECOND_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DURATION = re.compile(r"^PT\d+H\d+M\d+(\.\d{1,2})?S$")
# A hand-made record and the 1.0.3 statement Bedside makes of it (the same values in 2.0.0).
RECORD = CreditRecord(
    7, "credit", "learner-7", "case:af-anticoagulation:1.2.0", "case", "af-anticoagulation",
    "1.2.0", "0b7e5a4e-5d8e-4c1e-9a51-3f7b2d7c9a10", "ama-pra-category-1", 25, 25,
    "2026-03-10T14:12:00.123456Z", '{"correct":3,"total":4}', None, None, "i" * 64,
    "2026-03-10T14:12:01.000000Z", "p" * 64, "r" * 64,
)  # fmt: skip
STATEMENT_1_0_3 = {
    "id": "b4584948-a173-5956-88e9-398848783712",
    "actor": {"objectType": "Agent", "account": {"homePage": BASE_URL, "name": "learner-7"}},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed"}},
    "object": {
        "objectType": "Activity",
        "id": f"{BASE_URL}/activities/case/af-anticoagulation/1.2.0",
        "definition": {
            "name": {"en": "case:af-anticoagulation:1.2.0"},
            "type": "http://adlnet.gov/expapi/activities/assessment",
        },
    },
    "result": {
        "success": True,
        "completion": True,
        "score": {"scaled": 0.75, "raw": 3, "min": 0, "max": 4},
    },
    "context": {
        "registration": "0b7e5a4e-5d8e-4c1e-9a51-3f7b2d7c9a10",
        "language": "en",
        "platform": "Bedside",
        "extensions": {
            "https://xapi.bedside.example/extensions/credit": {
                "type": "ama-pra-category-1",
                "amount": 0.25,
                "designated": 0.25,
            },
            "https://xapi.bedside.example/extensions/ledger-record": {
                "sequence": 7,
                "hash": "r" * 64,
            },
        },
    },
    "timestamp": "2026-03-10T14:12:00.123Z",
}


@cache
def validator_2() -> jsonschema.Draft202012Validator:
    """The statement schema with 2.0.0's version rule: none set, or exactly 2.0.0."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    schema["required"] = [name for name in schema["required"] if name != "version"]
    schema["properties"]["version"] = {"const": "2.0.0"}
    return jsonschema.Draft202012Validator(schema)


def statements_2(store) -> list[dict]:
    """Every record of the ledger as xAPI 2.0.0 statements."""
    return list(
        xapi.statements(store.iter_chain(), base_url=BASE_URL, library=modules(), version="2.0.0")
    )


def empty_objects(value, path="$") -> list[str]:
    """Return the paths of every empty JSON object inside a value."""
    if isinstance(value, dict):
        found = [path] if not value else []
        for key, item in value.items():
            found += empty_objects(item, f"{path}.{key}")
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in empty_objects(item, f"{path}[{i}]")]
    return []


def test_2_0_statements_leave_version_to_the_lrs(store, world):
    made = statements_2(store)
    assert len(made) == store.referenced_head()
    assert all("version" not in statement for statement in made)


def test_2_0_timestamps_are_utc_with_milliseconds_and_not_in_the_future(store, world):
    now = datetime.now(UTC)
    for statement in statements_2(store):
        assert MILLISECOND_UTC.match(statement["timestamp"]), statement["timestamp"]
        assert datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00")) <= now


def test_2_0_durations_keep_at_most_hundredths(store, world):
    durations = [
        s["result"]["duration"] for s in statements_2(store) if "duration" in s.get("result", {})
    ]
    assert durations and all(DURATION.match(text) for text in durations)


def test_2_0_statements_add_no_property_and_no_empty_object(store, world):
    for statement in statements_2(store):
        errors = sorted(validator_2().iter_errors(statement), key=str)
        assert not errors, (statement, errors[0].message)
        assert empty_objects(statement) == []
    extra = {**statements_2(store)[0], "stored": "2026-03-10T14:00:00.000Z"}
    assert not validator_2().is_valid(extra)


def test_1_0_3_statements_leave_version_to_the_lrs(store, world):
    made = all_statements(store)
    assert made and all("version" not in statement for statement in made)
    assert xapi.version_header() == ("X-Experience-API-Version", "1.0.3")


def test_2_0_and_1_0_3_statements_are_the_same_and_match_the_reference_statement(store, world):
    assert all_statements(store) == statements_2(store)
    (made,) = xapi.statements([RECORD], base_url=BASE_URL)
    assert xapi.to_json([made]) == xapi.to_json([STATEMENT_1_0_3])  # same values, same order


def test_an_unknown_version_is_refused_in_one_sentence(store, world):
    with pytest.raises(
        ValueError, match=r"^xAPI version '1\.0' is not supported: choose 1\.0\.3 or 2\.0\.0\.$"
    ):
        list(xapi.statements(store.iter_chain(), base_url=BASE_URL, version="1.0"))
    assert xapi.version_header("2.0.0") == ("X-Experience-API-Version", "2.0.0")
