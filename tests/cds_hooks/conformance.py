"""Card invariants from CDS Hooks 2.0, checked on every CDS response the suite sees."""

from __future__ import annotations

import json
import uuid

from flask.testing import FlaskClient

INDICATORS = {"info", "warning", "critical"}
CARD_KEYS = {
    "uuid",
    "summary",
    "detail",
    "indicator",
    "source",
    "suggestions",
    "selectionBehavior",
    "overrideReasons",
    "links",
}


def assert_no_empty_values(value: object, path: str = "$") -> None:
    """Optional attributes without a value are omitted: no null, "", [] or {} anywhere."""
    assert value is not None and value != "" and value != [] and value != {}, f"empty at {path}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for number, item in enumerate(value):
            assert_no_empty_values(item, f"{path}[{number}]")


def assert_conformant_card(card: dict) -> None:
    """Check one card against the specification and Bedside's own promises."""
    assert set(card) <= CARD_KEYS, set(card) - CARD_KEYS
    uuid.UUID(card["uuid"])
    assert 0 < len(card["summary"]) < 140
    assert card["indicator"] in INDICATORS
    assert card["source"]["label"]
    assert card["source"]["url"].startswith("https://")
    why = ("Why you are seeing this", "Por qué ve esta tarjeta", "Pourquoi cette carte apparaît")
    assert any(heading in card["detail"] for heading in why)
    if "suggestions" in card:
        assert card["selectionBehavior"] in {"at-most-one", "any"}
        for suggestion in card["suggestions"]:
            uuid.UUID(suggestion["uuid"])
            assert suggestion["label"]
    for reason in card.get("overrideReasons", []):
        assert reason["display"] and reason["code"]
    for link in card["links"]:
        assert link["type"] in {"absolute", "smart"}
        if link["type"] == "smart":
            assert set(json.loads(link["appContext"])) == {"module", "version"}
        else:
            assert "appContext" not in link
    assert_no_empty_values(card)


def assert_conformant_response(body: dict) -> None:
    """Check a whole hook response."""
    assert set(body) <= {"cards", "systemActions"}
    assert isinstance(body["cards"], list)
    for card in body["cards"]:
        assert_conformant_card(card)


class ConformanceClient(FlaskClient):
    """A test client that checks every successful hook response for conformance."""

    def open(self, *args, **kwargs):
        """Send the request, then check the response if it is a hook answer."""
        response = super().open(*args, **kwargs)
        path = response.request.path
        is_hook_call = response.request.method == "POST" and not path.endswith("/feedback")
        if path.startswith("/cds-services/") and is_hook_call and response.status_code == 200:
            assert_conformant_response(response.get_json())
        return response
