"""Deeply nested JSON on the hook and feedback endpoints is a 400 in the JSON error shape."""

from __future__ import annotations

import pytest

SERVICE = "/cds-services/bedside-patient-view"


def nested(levels: int, opener: str, closer: str) -> str:
    """A JSON object whose `context` holds `levels` nested arrays or objects."""
    return '{"context": ' + opener * levels + closer * levels + "}"


@pytest.mark.parametrize("levels", [1_000, 100_000])
@pytest.mark.parametrize("brackets", [("[", "]"), ('{"a":', "}")], ids=["arrays", "objects"])
@pytest.mark.parametrize("path", [SERVICE, SERVICE + "/feedback"])
def test_deep_nesting_is_a_bad_request(cds, path, levels, brackets):
    auth = {"Authorization": f"Bearer {cds.token(path)}"}
    response = cds.client.post(
        path, data=nested(levels, *brackets), headers=auth, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"
    assert "nested too deeply" in response.json["error"]["message"]
