"""Exactly-once and durability under concurrency: several processes, each with several threads."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict

from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from app.settings import REPO_ROOT
from tests.ledger import workers
from tests.ledger.helpers import KEY, T0, module

PROCESSES = 4
KEYS = list(range(1, 31))


def run_in_processes(function, argument_lists):
    """Run function once per argument list, each in its own spawned process."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(argument_lists)) as pool:
        return pool.starmap(function, argument_lists)


def test_shared_keys_from_four_processes_make_exactly_one_record_each(store, learner, db_path):
    start_at = time.time() + 2.0  # after every process has imported and opened the store
    arguments = [(str(db_path), learner, KEYS, start_at, seed) for seed in range(PROCESSES)]
    outcomes = [
        o for result in run_in_processes(workers.submit_shared_keys, arguments) for o in result
    ]

    assert len(outcomes) == PROCESSES * 4 * len(KEYS)
    created = defaultdict(int)
    sequences = defaultdict(set)
    for number, was_created, record_sequences in outcomes:
        created[number] += was_created
        sequences[number].add(tuple(record_sequences))
    assert all(created[number] == 1 for number in KEYS)  # exactly one submitter created it
    assert all(len(sequences[number]) == 1 for number in KEYS)  # everyone saw the same record
    records = list(store.iter_chain())
    assert [r.sequence for r in records] == list(range(1, len(KEYS) + 1))
    assert verify_chain(store).ok


def test_one_case_claimed_under_many_keys_at_once_is_credited_once(store, learner, db_path):
    attempt_id = str(uuid.uuid4())
    case = module()
    store.record_attempt(learner, ("case", case["id"], case["version"]), attempt_id, T0)
    store.complete_attempt(attempt_id, 4, 4, 75)
    start_at = time.time() + 2.0
    arguments = [
        (str(db_path), learner, case, attempt_id, start_at, f"process-{n}")
        for n in range(PROCESSES)
    ]
    reasons = [r for result in run_in_processes(workers.claim_same_case, arguments) for r in result]

    assert reasons.count(None) == 1  # one claim granted ...
    assert reasons.count("duplicate") == PROCESSES * 4 - 1  # ... every other one refused
    assert [r.credit_type for r in store.credits_for(learner)] == [
        "ama-pra-category-1",
        "aafp-prescribed",
    ]
    assert verify_chain(store).ok


def test_nothing_acknowledged_is_lost_when_the_process_is_killed(store, learner, db_path):
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.workers", str(db_path), learner],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        acknowledged = [int(writer.stdout.readline()) for _ in range(40)]
    finally:
        writer.send_signal(signal.SIGKILL)  # no clean shutdown, no checkpoint
        rest, _ = writer.communicate()
    acknowledged += [int(line) for line in rest.split()]

    reopened = SqlLedgerStore(ledger_database(db_path), KEY)
    try:
        stored = {record.activity_key for record in reopened.iter_chain()}
        assert {f"case:module-{n}@1.0.0" for n in acknowledged} <= stored
        assert verify_chain(reopened).ok
    finally:
        reopened.close()
