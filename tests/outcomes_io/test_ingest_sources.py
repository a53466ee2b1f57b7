"""Loaders: Medication references, next links on the base origin only, no fallback duplicates."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from app.devtools.fhir_server import FixtureFhirServer
from app.devtools.synthetic import codes, fhir
from app.outcomes import ingest_fhir, ingest_ndjson
from app.outcomes.ingest_fhir import FhirIngestError, FhirSource, RefusedSearch
from app.outcomes.measures import evaluate_patients
from tests.outcomes.charts import AMOXICILLIN, URI, Chart, at, hours, measures
from tests.outcomes_io.helpers import TOKEN, distinct_chart, write_resources

START = at("2026-03-02T10:00")
AMOXICILLIN_MEDICATION = {
    "resourceType": "Medication",
    "id": "amox-500",
    "code": fhir.concept(AMOXICILLIN),
}


def uri_with_referenced_antibiotic(patient_id: str, reference: str) -> Chart:
    """A URI visit with an amoxicillin order that names its medicine only by reference."""
    chart = distinct_chart(patient_id)
    visit = chart.visit(START)
    chart.condition(codes.URI[0], visit, onset=START.date().isoformat())
    order = chart.order(AMOXICILLIN, START + hours(1), visit)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": reference}
    return chart


def charts() -> list[Chart]:
    """A relative, an absolute and a versioned reference, and one to an unknown Medication."""
    return [
        uri_with_referenced_antibiotic("p1", "Medication/amox-500"),
        uri_with_referenced_antibiotic("p2", "https://ehr.example/fhir/Medication/amox-500"),
        uri_with_referenced_antibiotic("p3", "Medication/amox-500/_history/2"),
        uri_with_referenced_antibiotic("p4", "Medication/unknown"),
    ]


def uri_verdicts(groups) -> dict[str, bool]:
    """Patient id -> whether the URI visit counted as appropriate (no antibiotic)."""
    cases = evaluate_patients([measures()[URI]], groups, as_of=START + hours(100))
    return {case.patient_key: case.in_numerator for case in cases}


EXPECTED = {"p1": False, "p2": False, "p3": False, "p4": True}


def write_bundle(directory: Path, name: str, resources: list[dict]) -> None:
    """Write one collection Bundle for the fixture FHIR server."""
    directory.mkdir(parents=True, exist_ok=True)
    bundle = {"resourceType": "Bundle", "type": "collection"}
    bundle["entry"] = [{"resource": resource} for resource in resources]
    (directory / f"{name}.json").write_text(json.dumps(bundle), encoding="utf-8")


def test_ndjson_resolves_medications_of_their_own_file(tmp_path):
    """Medication.ndjson (no patient) is kept by id and resolves `medicationReference`."""
    resources = [AMOXICILLIN_MEDICATION] + [r for c in charts() for r in c.resources]
    lookup: dict[str, dict] = {}
    export = write_resources(tmp_path, resources)
    groups = list(ingest_ndjson.patient_groups(export, medications=lookup))
    assert set(lookup) == {"amox-500"}
    assert uri_verdicts(groups) == EXPECTED
    assert [sum(r["resourceType"] == "Medication" for r in g) for g in groups] == [1, 1, 1, 0]


def test_contained_medication_resolves_without_a_loader():
    """A contained Medication referenced as `#id` is read from the resource itself."""
    chart = uri_with_referenced_antibiotic("p5", "#med")
    order = chart.resources[-1]
    order["contained"] = [AMOXICILLIN_MEDICATION | {"id": "med"}]
    assert uri_verdicts([chart.resources]) == {"p5": False}


def test_fhir_search_reads_referenced_medications_once(tmp_path):
    """The FHIR loader reads referenced Medications with `_id` (once each) and attaches them."""
    directory = tmp_path / "fhir"
    write_bundle(directory, "medications", [AMOXICILLIN_MEDICATION])
    for chart in charts():
        write_bundle(directory, chart.patient_id, chart.resources)
    with (
        FixtureFhirServer(directory, token=TOKEN) as server,
        FhirSource(server.base_url, TOKEN) as source,
    ):
        assert uri_verdicts(list(source.patient_groups())) == EXPECTED
        assert set(source.medications) == {"amox-500"}
    medication_reads = [path for _, path, _ in server.requests_seen if "/Medication?" in path]
    assert len(medication_reads) == 2  # amox-500 once, then the unknown id once


class PagedSource(FhirSource):
    """A FhirSource over canned pages: records every URL it would GET with the token."""

    def __init__(self, base_url: str, pages: dict[str, dict]):
        super().__init__(base_url, "secret-token")
        self.pages, self.fetched = pages, []

    def get_json(self, url: str) -> dict:
        """Answer from the canned pages."""
        self.fetched.append(url)
        return self.pages[url]


def page(patient_id: str, next_url: str | None = None) -> dict:
    """A searchset page with one Patient and an optional next link."""
    bundle = {"resourceType": "Bundle", "type": "searchset"}
    bundle["entry"] = [{"resource": {"resourceType": "Patient", "id": patient_id}}]
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


BASE = "https://fhir.example.org/r4"
FIRST = f"{BASE}/Patient?_count=100"


@pytest.mark.parametrize(
    "next_url",
    [
        "http://fhir.example.org/r4/Patient?page=2",
        "https://fhir.example.org:8443/r4/Patient?page=2",
        "https://other.example.org/r4/Patient?page=2",
        "/r4/Patient?page=2",
    ],
    ids=["plain-http", "other-port", "other-host", "relative"],
)
def test_next_link_off_the_base_origin_is_not_followed(next_url):
    """A next link on another scheme, port or host is refused before the token is sent."""
    source = PagedSource(BASE, {FIRST: page("a", next_url), next_url: page("b")})
    with pytest.raises(FhirIngestError, match="scheme, host or port"):
        list(source.search("Patient", {"_count": 100}))
    assert source.fetched == [FIRST]


def test_next_link_on_the_base_origin_is_followed():
    """The same origin, even with the default port written out, is followed."""
    second = "https://FHIR.example.org:443/r4/Patient?page=2"
    source = PagedSource(BASE, {FIRST: page("a", second), second: page("b")})
    assert [r["id"] for r, _ in source.search("Patient", {"_count": 100})] == ["a", "b"]


@pytest.mark.parametrize(
    "oddity",
    [
        {"entry": 5},
        {"entry": [5, {"resource": 5}, {"resource": {"resourceType": "Patient", "id": 7}}]},
        {"link": 5},
        {"link": [5, {"relation": "next", "url": 5}]},
        {"total": "many"},
        {"total": True},
    ],
    ids=["entry-number", "odd-entries", "link-number", "odd-links", "total-text", "total-true"],
)
def test_a_search_page_of_odd_shape_yields_what_is_usable_and_raises_nothing(oddity):
    """Odd entries and links are skipped, and an odd total is no total: one patient, no error."""
    first = page("a") | oddity
    if "entry" in oddity and oddity["entry"] != 5:
        first["entry"] = [*oddity["entry"], *page("a")["entry"]]
    source = PagedSource(BASE, {FIRST: first})
    patients = list(source._patients())
    expected = [] if oddity.get("entry") == 5 else [({"resourceType": "Patient", "id": "a"}, None)]
    assert patients == expected


class LaterPageRefused(FhirSource):
    """A FhirSource whose server refuses the second page of per-patient Observation searches."""

    def get_json(self, url: str) -> dict:
        """Answer 400 for a later page of `Observation?patient=`."""
        if "/Observation?" in url and "patient=" in url and "_getpagesoffset" in url:
            raise RefusedSearch("FHIR server refused the search /Observation")
        return super().get_json(url)


def test_fallback_after_a_later_page_fails_yields_nothing_twice(tmp_path, monkeypatch):
    """Page 1 read, page 2 refused: the type-level fallback gives each resource exactly once."""
    monkeypatch.setattr(ingest_fhir, "PAGE_SIZE", 2)
    directory = tmp_path / "fhir"
    for patient_id in ("p1", "p2"):
        chart = distinct_chart(patient_id)
        for minute in range(5):
            chart.observation(codes.LACTATE_PLASMA, START + hours(minute), quantity=(1.0, "mmol/L"))
        write_bundle(directory, patient_id, chart.resources)
    with (
        FixtureFhirServer(directory) as server,
        LaterPageRefused(server.base_url, types=("Observation",)) as source,
    ):
        groups = list(source.patient_groups())
        assert source.fallback_types == {"Observation"}
    for group in groups:
        ids = Counter(r["id"] for r in group)
        assert len(group) == 6 and max(ids.values()) == 1, ids
