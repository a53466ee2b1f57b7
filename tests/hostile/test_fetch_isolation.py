"""A dripping FHIR server delays only the calls that name it, never other clients' calls."""

from __future__ import annotations

import threading
import time

from tests.hostile.fetch_app import call_order_select, cds_app_with
from tests.hostile.fetch_faults import FaultServer

DRIPPING_CALLS = 6


def test_healthy_server_answers_while_another_drips(instance_path):
    statuses: list[int] = []
    with (
        cds_app_with(instance_path, FHIR_INSECURE_HOSTS="127.0.0.1") as app,
        FaultServer() as dripping,
        FaultServer() as healthy,
    ):
        threads = [
            threading.Thread(
                target=lambda: statuses.append(
                    call_order_select(app, dripping.url("drip")).status_code
                )
            )
            for _ in range(DRIPPING_CALLS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # the dripping calls hold their fetches now
        healthy_calls = [call_order_select(app, healthy.url("ok")) for _ in range(2)]
        for thread in threads:
            thread.join(timeout=10)
    assert [response.status_code for response in healthy_calls] == [200, 200]
    assert statuses == [412] * DRIPPING_CALLS
