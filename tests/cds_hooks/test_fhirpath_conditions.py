"""FHIRPath trigger conditions through the real service: linear in the data, never a 5xx."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fhirpathpy.engine.evaluators import evaluators

from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

INFANT = "febrile-infant-8-60-days"
SELECT = "bedside-order-select"
SEPSIS = "sepsis-adult"
ODD_VALUES = ("38.5", 20261207, 7, None, [], {})
EVERY_PART = (("prefetch",), ("context", "draftOrders"))


def iso(moment: datetime) -> str:
    """A FHIR dateTime in UTC."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def temperature(number: int, now: datetime) -> dict:
    """A final body temperature of 38.5 Cel, taken in the last day."""
    return {
        "resourceType": "Observation",
        "id": f"temp-{number}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "valueQuantity": {"value": 38.5, "unit": "Cel", "code": "Cel"},
        "effectiveDateTime": iso(now - timedelta(minutes=30 + number % 600)),
    }


def febrile_infant(temperatures: int) -> dict:
    """An order-select for a 30-day-old with this many fevers, ceftriaxone drafted."""
    now = datetime.now(UTC)
    patient = "infant-1"
    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    prefetch = {
        **{key: empty for key in ("conditions", "medications", "allergies", "service_requests")},
        "patient": {
            "resourceType": "Patient",
            "id": patient,
            "birthDate": (now - timedelta(days=30)).date().isoformat(),
            "gender": "female",
        },
        "observations": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": temperature(n, now)} for n in range(temperatures)],
        },
    }
    body = hook_request(
        "order-select", patient, prefetch=prefetch, draft_orders=[draft_medication(patient)]
    )
    body["context"]["selections"] = ["MedicationRequest/draft-1"]
    return body


@pytest.fixture
def cds_config(cds_config):
    """Every call may show its cards again, and many calls may be made quickly."""
    return {**cds_config, "CDS_REPEAT_MINUTES": 0, "CDS_RATE_LIMIT": "100000 per minute"}


@pytest.fixture
def member_reads(monkeypatch) -> Iterator[list[int]]:
    """Count every FHIRPath member access (`.entry`, `.resource`, …) the engine evaluates."""
    counter = [0]
    read_member = evaluators["MemberInvocation"]

    def counted(ctx, parent_data, node):
        counter[0] += 1
        return read_member(ctx, parent_data, node)

    monkeypatch.setitem(evaluators, "MemberInvocation", counted)
    yield counter


def test_the_febrile_infant_card_fires(cds):
    response = cds.hook(SELECT, febrile_infant(1))
    assert any(INFANT in card["links"][0]["appContext"] for card in response.json["cards"])


def test_fhirpath_reads_grow_linearly_with_the_observations(cds, member_reads):
    reads = {}
    for temperatures in (100, 400):
        member_reads[0] = 0
        response = cds.hook(SELECT, febrile_infant(temperatures))
        assert any(INFANT in c["links"][0]["appContext"] for c in response.json["cards"])
        reads[temperatures] = member_reads[0]
    assert reads[400] <= 5 * reads[100], reads  # quadratic would be 16 times


def test_a_febrile_infant_call_past_its_budget_is_stopped_while_matching(cds, cds_app):
    cds_app.config["CDS_TIME_BUDGET_SECONDS"] = 1
    cds_app.config["CDS_MAX_RESOURCES"] = 10_000
    started = time.monotonic()
    response = cds.hook(SELECT, febrile_infant(5000))
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.json
    assert response.json["error"]["code"] == "time_budget_exceeded"
    assert "cards" not in response.json
    assert elapsed < 20  # checked only after matching, this call took minutes


def leaf_paths(value, path: tuple = ()) -> Iterator[tuple]:
    """Every path to a value inside nested dicts and lists, the containers' included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))
    if path:
        yield path


def with_value_at(body: dict, path: tuple, value) -> dict:
    """A copy of the body with the value at path replaced."""
    changed = copy.deepcopy(body)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return changed


def mutants(body: dict, roots: tuple[tuple, ...] = EVERY_PART) -> Iterator[dict]:
    """The body with each value under the roots in turn replaced by each odd value.

    Only the first item of each list is changed: the others are read the same way.
    """
    for root in roots:
        start = body
        for step in root:
            start = start[step]
        for path in leaf_paths(start):
            if any(isinstance(step, int) and step > 0 for step in path):
                continue
            for odd in ODD_VALUES:
                mutant = with_value_at(body, (*root, *path), odd)
                mutant["hookInstance"] = str(uuid.uuid4())
                yield mutant


def server_errors(
    cds, service: str, body: dict, roots: tuple[tuple, ...] = EVERY_PART
) -> list[tuple[int, dict]]:
    """Call the service with every mutant of a body that gets cards; return the 5xx answers."""
    assert cds.hook(service, body).json["cards"], "the unchanged body must get a card"
    answers = (cds.hook(service, mutant) for mutant in mutants(body, roots))
    return [(answer.status_code, answer.json) for answer in answers if answer.status_code >= 500]


def test_malformed_values_in_a_febrile_infant_never_get_a_server_error(cds):
    assert not server_errors(cds, SELECT, febrile_infant(2))


def test_malformed_values_in_a_sepsis_order_never_get_a_server_error(cds, fixture_store):
    body = hook_request(
        "order-sign",
        SEPSIS,
        prefetch=prefetch_for(fixture_store, SEPSIS),
        draft_orders=[draft_medication(SEPSIS)],
    )
    roots = (("prefetch", "patient"), ("prefetch", "observations"), ("context", "draftOrders"))
    assert not server_errors(cds, "bedside-order-sign", body, roots)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("observations", "entry", 1, "resource", "valueQuantity", "value"), "38.5"),
        (("observations", "entry", 1, "resource", "effectiveDateTime"), 20261207),
    ],
)
def test_a_malformed_value_means_the_condition_is_not_met(cds, caplog, path, value):
    body = with_value_at(febrile_infant(2), ("prefetch", *path), value)
    response = cds.hook(SELECT, body)
    assert response.status_code == 200, response.json
    assert "infant-1" not in caplog.text and "38.5" not in caplog.text


@pytest.mark.parametrize("key", ["patient", "conditions"])
def test_a_prefetched_resource_type_that_is_not_a_string_is_a_400_naming_the_key(cds, key):
    body = with_value_at(febrile_infant(2), ("prefetch", key, "resourceType"), 7)
    response = cds.hook(SELECT, body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == f"prefetch.{key}.resourceType"
