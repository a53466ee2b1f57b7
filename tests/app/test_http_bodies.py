"""A huge response costs Bedside's HTTP clients a bounded read and one readable sentence."""

from __future__ import annotations

import pytest
import requests
from flask import Flask, Response

from app.http_bodies import BodyTooLarge, bounded_body
from app.outcomes import bulk_client, ingest_fhir
from app.outcomes.bulk_client import BulkExportClient, BulkExportError, ExportResult
from app.outcomes.ingest_fhir import FhirIngestError, FhirSource
from app.smart.backend_services import BackendClient, BackendServicesError, BackendToken
from tests.outcomes_io.test_bulk_export import CLIENT_ID, backend_key
from tests.support.live_server import LiveServer

HALF = 512  # chunks: a bounded read stops far below half the body, an unbounded one reads all
CHUNK = b'{"resourceType": "Bundle", "padding": "' + b"x" * 65_000


def huge_body_server() -> tuple[Flask, list[int]]:
    """An app answering every request with a 64 MB JSON body; counts the 64 KB chunks it sent."""
    app = Flask(__name__)
    sent = [0]

    def body():
        for _ in range(1024):
            sent[0] += 1
            yield CHUNK

    @app.route("/<path:anything>", methods=["GET", "POST"])
    def endless(anything):
        return Response(body(), mimetype="application/json")

    return app, sent


@pytest.fixture
def endless():
    """The long-winded server on loopback: (base URL, chunks sent)."""
    app, sent = huge_body_server()
    with LiveServer(app) as server:
        yield server.url, sent


def test_bounded_body_stops_reading_soon_after_the_limit(endless):
    url, sent = endless
    with (
        requests.get(f"{url}/x", stream=True, timeout=5) as response,
        pytest.raises(BodyTooLarge),
    ):
        bounded_body(response, 1_000_000)
    assert sent[0] < HALF


def test_a_huge_search_page_is_one_sentence_for_outcomes_compute(endless, monkeypatch):
    url, sent = endless
    monkeypatch.setattr(ingest_fhir, "MAX_PAGE_BYTES", 2**20)
    source = FhirSource(f"{url}/fhir", "token")
    with pytest.raises(FhirIngestError, match=r"more than 1 MiB for /fhir/Patient"):
        source.get_json(f"{url}/fhir/Patient?_count=100")
    assert sent[0] < HALF


def test_a_huge_export_manifest_is_one_sentence(endless, monkeypatch):
    url, sent = endless
    monkeypatch.setattr(bulk_client, "MAX_STATUS_BYTES", 2**20)
    client = BulkExportClient("token")
    with pytest.raises(BulkExportError, match="manifest is too large"):
        client.wait_for_manifest(f"{url}/fhir/status/1", ExportResult("", {}))
    assert sent[0] < HALF


def test_a_huge_token_response_is_one_sentence(endless):
    url, sent = endless
    key = backend_key().as_dict(private=True)
    client = BackendClient(f"{url}/fhir", CLIENT_ID, key, token_url=f"{url}/token")
    with pytest.raises(BackendServicesError, match="answered without an access_token"):
        BackendToken(client, "system/Patient.rs")()
    assert sent[0] < HALF
