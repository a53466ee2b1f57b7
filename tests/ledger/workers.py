"""Code that runs in spawned processes for the concurrency and crash tests (importable by name)."""

from __future__ import annotations

import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from app.ledger.credit import claim_case_credit
from app.ledger.rules import CreditPolicy
from app.ledger.store import SqlLedgerStore, ledger_database
from tests.ledger.helpers import KEY, award, request


def submit_shared_keys(path: str, learner: str, keys: list[int], start_at: float, seed: int):
    """Submit every key from 4 threads in shuffled orders; return (key, created, sequences)."""
    store = SqlLedgerStore(ledger_database(path), KEY, migrate=False)
    wait_until(start_at)

    def submit_all(thread: int) -> list[tuple[int, bool, list[int]]]:
        order = keys[:]
        random.Random(seed * 10 + thread).shuffle(order)
        outcomes = []
        for number in order:
            submission = store.append_credit(request(learner, number), [award()], f"key-{number}")
            outcomes.append((number, submission.created, [r.sequence for r in submission.records]))
        return outcomes

    try:
        with ThreadPoolExecutor(4) as pool:
            return [outcome for batch in pool.map(submit_all, range(4)) for outcome in batch]
    finally:
        store.close()


def claim_same_case(
    path: str, learner: str, module: dict, attempt_id: str, start_at: float, tag: str
):
    """Claim one case with 4 threads, each under its own key; return the refusal reasons or None."""
    store = SqlLedgerStore(ledger_database(path), KEY, migrate=False)
    wait_until(start_at)

    def claim(thread: int):
        submission = claim_case_credit(
            store, CreditPolicy(), module, learner, attempt_id, f"{tag}-{thread}"
        )
        return submission.refusal.reason if submission.refusal else None

    try:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(claim, range(4)))
    finally:
        store.close()


def append_until_killed(path: str, learner: str) -> None:
    """Append credits forever, printing each key only after it is acknowledged."""
    store = SqlLedgerStore(ledger_database(path), KEY, migrate=False)
    number = 0
    while True:
        number += 1
        store.append_credit(request(learner, number), [award()], f"key-{number}")
        print(number, flush=True)


def wait_until(moment: float) -> None:
    """Sleep until a shared start time, so the processes really overlap."""
    time.sleep(max(0.0, moment - time.time()))


if __name__ == "__main__":
    append_until_killed(sys.argv[1], sys.argv[2])
