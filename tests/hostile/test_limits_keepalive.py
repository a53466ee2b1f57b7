"""A pooled connection survives an early answer: a 401, 404 or 413 never costs the next call."""

from __future__ import annotations

import json

import requests

from tests.app.test_serve import demo_server  # noqa: F401 - the `bedside serve` fixture

BODY_120_KB = json.dumps({"padding": "x" * 120_000})
HOOK_PATH = "/cds-services/bedside-order-sign"


def test_every_call_on_a_reused_connection_is_answered_after_401s(demo_server):  # noqa: F811
    base_url, _ = demo_server
    statuses = []
    with requests.Session() as session:
        for call in range(100):
            if call % 2 == 0:  # a bad token: answered before the body is looked at
                response = session.post(
                    base_url + HOOK_PATH,
                    data=BODY_120_KB,
                    headers={
                        "Authorization": "Bearer not-a-jwt",
                        "Content-Type": "application/json",
                    },
                    timeout=10,
                )
            else:
                response = session.get(f"{base_url}/healthz", timeout=10)
            statuses.append(response.status_code)
    assert statuses == [401, 200] * 50
