"""The ledger shared by several hosts: exactly-once credit, one chain, append-only, durable commits.

Two stores on two engines stand for two Bedside hosts; on SQLite they share the file, on
PostgreSQL the server. PostgreSQL's own guarantees (triggers, the application role's grants,
synchronous commits, a crash of the server) are checked against a real server.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from app.database import parse_database_url
from app.errors import ConfigError
from app.ledger import badge_status
from app.ledger.credit import claim_case_credit
from app.ledger.ledger_commands import checkpoint_command, verify
from app.ledger.rules import CreditPolicy
from app.ledger.schema import application_role_grants
from app.ledger.store import SqlLedgerStore, ledger_database
from app.ledger.verify import verify_chain
from tests.ledger.helpers import ISSUER, KEY, T0, award, module, request

HOSTS = 2
THREADS = 8
SHARED_KEYS = list(range(1, 21))
APP_ROLE = "bedside_app"


@pytest.fixture
def hosts(ledger_url, store):
    """Two more stores on their own engines (the migrated `store` made the tables)."""
    opened = [SqlLedgerStore(ledger_database(ledger_url), KEY) for _ in range(HOSTS)]
    yield opened
    for host in opened:
        host.close()


@pytest.fixture
def pg_store(postgres_url):
    """A migrated ledger store on a fresh PostgreSQL database."""
    ledger = SqlLedgerStore(ledger_database(parse_database_url(postgres_url)), KEY)
    yield ledger
    ledger.close()


def test_two_hosts_of_eight_threads_credit_each_key_exactly_once(hosts, learner, store):
    start = threading.Barrier(HOSTS * THREADS)

    def submit(host: SqlLedgerStore, thread: int) -> list[tuple[str, bool, tuple[int, ...]]]:
        """Submit every shared key (in an order of its own) and one key of this thread's own."""
        start.wait()
        own = 100 + HOSTS * thread + hosts.index(host)
        order = SHARED_KEYS[thread % 4 :] + SHARED_KEYS[: thread % 4] + [own]
        outcomes = []
        for number in order:
            key = f"key-{number}"
            submission = host.append_credit(request(learner, number), [award()], key)
            sequences = tuple(record.sequence for record in submission.records)
            outcomes.append((key, submission.created, sequences))
        return outcomes

    with ThreadPoolExecutor(HOSTS * THREADS) as pool:
        futures = [pool.submit(submit, h, t) for h in hosts for t in range(THREADS)]
        outcomes = [outcome for future in futures for outcome in future.result()]

    created, seen = defaultdict(int), defaultdict(set)
    for key, was_created, sequences in outcomes:
        created[key] += was_created
        seen[key].add(sequences)
    assert len(created) == len(SHARED_KEYS) + HOSTS * THREADS
    assert set(created.values()) == {1}  # every key credited by exactly one submitter
    assert all(len(answers) == 1 for answers in seen.values())  # and everyone saw that record
    chain = list(store.iter_chain())
    assert [record.sequence for record in chain] == list(range(1, len(created) + 1))  # no fork
    assert verify_chain(store).ok


def test_one_case_claimed_under_many_keys_on_two_hosts_is_credited_once(hosts, learner, store):
    attempt_id, case = str(uuid.uuid4()), module()
    store.record_attempt(learner, ("case", case["id"], case["version"]), attempt_id, T0)
    store.complete_attempt(attempt_id, 4, 4, 75)
    start = threading.Barrier(HOSTS * THREADS)

    def claim(host: SqlLedgerStore, thread: int) -> str | None:
        """Claim the case under a key of this host's thread; return the refusal reason, if any."""
        start.wait()
        key = f"host-{hosts.index(host)}-thread-{thread}"
        submission = claim_case_credit(host, CreditPolicy(), case, learner, attempt_id, key)
        return submission.refusal.reason if submission.refusal else None

    with ThreadPoolExecutor(HOSTS * THREADS) as pool:
        futures = [pool.submit(claim, h, t) for h in hosts for t in range(THREADS)]
        reasons = [future.result() for future in futures]
    assert reasons.count(None) == 1  # one claim granted, every other one refused
    assert reasons.count("duplicate") == HOSTS * THREADS - 1
    assert len(store.credits_for(learner)) == 2  # the case's two credit types, once
    assert verify_chain(store).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_credits SET amount_hundredths = 1000",
        "DELETE FROM ledger_credits",
        "TRUNCATE ledger_credits CASCADE",
        "UPDATE ledger_submissions SET outcome = 'refused'",
        "DELETE FROM ledger_submissions",
    ],
)
def test_the_server_refuses_to_edit_evidence_even_for_the_owner(pg_store, statement):
    learner = pg_store.ensure_learner(ISSUER, "Practitioner/1")
    pg_store.append_credit(request(learner), [award()], "key-1")
    with pytest.raises(IntegrityError, match="append-only"), pg_store.database.write() as edit:
        edit.execute(text(statement))
    assert verify_chain(pg_store).ok and len(pg_store.credits_for(learner)) == 1


def test_the_application_role_appends_credit_but_holds_no_update_or_delete(pg_store, postgres_url):
    with pg_store.database.write() as owner:
        owner.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN"))
        owner.exec_driver_sql(application_role_grants(APP_ROLE))
    app_url = parse_database_url(postgres_url.replace("postgres@", f"{APP_ROLE}@", 1))
    app_store = SqlLedgerStore(ledger_database(app_url), KEY)  # it starts: nothing to migrate
    try:
        learner = app_store.ensure_learner(ISSUER, "Practitioner/1")
        record = app_store.append_credit(request(learner), [award()], "key-1").records[0]
        app_store.append_reversal(record.sequence, "recorded in error", "key-2")
        app_store.set_reporting_identity(learner, identity())
        app_store.withdraw_reporting_consent(learner)  # the one DELETE it needs
        assert badge_status.allocate(app_store.database, [record.sequence])
        for statement in (
            "UPDATE ledger_credits SET reason = 'edited'",
            "DELETE FROM ledger_submissions",
            "UPDATE ledger_badge_status SET status_index = 0",
            "ALTER TABLE ledger_credits DISABLE TRIGGER ALL",
        ):
            refused = pytest.raises(ProgrammingError, match=r"permission denied|must be owner")
            with refused, app_store.database.write() as connection:
                connection.execute(text(statement))
        assert verify_chain(app_store).ok
    finally:
        app_store.close()


def test_a_role_name_that_is_not_plain_is_refused():
    with pytest.raises(ValueError, match="not a plain PostgreSQL role name"):
        application_role_grants('app"; DROP TABLE ledger_credits; --')


def test_a_server_that_could_lose_acknowledged_credit_is_refused(pg_store, postgres_url):
    database_name = postgres_url.rsplit("/", 1)[1]
    with pg_store.database.write() as connection:
        connection.execute(text(f"ALTER DATABASE {database_name} SET synchronous_commit = off"))
    with pytest.raises(ConfigError, match="synchronous_commit=off"):
        SqlLedgerStore(ledger_database(parse_database_url(postgres_url)), KEY)


def test_acknowledged_credit_survives_a_crash_of_the_server_mid_write(pg_store, postgres_server):
    learner = pg_store.ensure_learner(ISSUER, "Practitioner/1")
    acknowledged: list = []
    twenty_in, crashed = threading.Event(), threading.Event()
    refused: list[int] = []

    def write_until_refused(thread: int) -> None:
        """Append credits, keeping each one acknowledged, until the server goes away."""
        number = thread * 10_000
        while not crashed.is_set():
            number += 1
            try:
                claim = request(learner, number)
                submission = pg_store.append_credit(claim, [award()], f"key-{number}")
            except Exception:  # the crash: this one was not acknowledged
                refused.append(number)
                return
            acknowledged.extend(submission.records)
            if len(acknowledged) >= 20:
                twenty_in.set()

    writers = [threading.Thread(target=write_until_refused, args=(n,)) for n in range(4)]
    for writer in writers:
        writer.start()
    assert twenty_in.wait(30)
    postgres_server.restart("immediate")  # a crash: no shutdown checkpoint, recovery replays WAL
    crashed.set()
    for writer in writers:
        writer.join(60)
    stored = {record.sequence: record for record in pg_store.iter_chain()}
    assert refused, "the server crashed between writes, not during one"
    assert acknowledged and all(stored.get(r.sequence) == r for r in acknowledged)
    assert verify_chain(pg_store).ok


def test_verify_and_checkpoints_read_the_ledger_at_the_database_url(
    app, store, learner, database_url, tmp_path
):
    for number in (1, 2, 3):
        store.append_credit(request(learner, number), [award()], f"key-{number}")
    checkpoint = str(tmp_path / "checkpoint.jws")
    signed = run_command(app, database_url, checkpoint_command, "-o", checkpoint)
    assert signed.exit_code == 0, signed.output
    intact = run_command(app, database_url, verify, "--checkpoint", checkpoint)
    assert intact.output.splitlines()[0] == "Verified 3 records; chain intact."
    assert "Checkpoint #3 of " in intact.output and intact.exit_code == 0
    with store.database.write() as owner:  # the owner switches the guard off: verify still sees
        for statement in tamper_statements(store.database.dialect):
            owner.execute(text(statement))
    tampered = run_command(app, database_url, verify, "--checkpoint", checkpoint)
    assert tampered.exit_code == 1
    assert tampered.output.startswith("Record #2 fails: hash mismatch")


def run_command(app, database_url: str, command, *args: str):
    """Run a ledger command with BEDSIDE_DATABASE_URL set (the app lends its instance folder)."""
    return CliRunner().invoke(
        command,
        list(args),
        obj=ScriptInfo(create_app=lambda: app),
        env={"BEDSIDE_DATABASE_URL": database_url},
    )


def tamper_statements(dialect: str) -> list[str]:
    """Statements that lift the append-only guard and raise record #2's amount."""
    edit = "UPDATE ledger_credits SET amount_hundredths = 1000 WHERE sequence = 2"
    if dialect == "postgresql":
        return ["ALTER TABLE ledger_credits DISABLE TRIGGER USER", edit]
    return ["DROP TRIGGER ledger_credits_no_update", edit]


def identity():
    """Reporting identifiers a learner entered."""
    from app.ledger.models import ReportingIdentity

    return ReportingIdentity("Ada", "Lovelace", board_id="B-1")
