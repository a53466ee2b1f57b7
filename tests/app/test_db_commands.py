"""`bedside db migrate | check | copy` against real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from app.cli import cli
from app.config import INSTANCE_KEYS
from app.database import Database, parse_database_url
from app.db_commands import STORES, copy_table, migration_names
from app.learning.mastery import TopicMastery
from app.learning.profile_store import LearningStore
from app.learning.recommend import Profile
from app.ledger.store import SqlLedgerStore, ledger_database
from app.outcomes.cases import MeasureCase
from app.outcomes.practice_store import PracticeStore
from app.smart.sessions import SmartSession, SmartSessionStore
from app.smart.token_cipher import TokenCipher
from cds_hooks.store import CdsStore, Exposure, FeedbackRecord
from tests.ledger.helpers import ISSUER, KEY, award, request

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
# Text and floats that a lossy copy would change: non-ASCII, quotes, NUL-free control characters,
# a float with all 17 significant digits, and one near the smallest normal double.
AWKWARD_TEXT = "Ça va? «Müller» 'quoted' \"double\" \t tab — 漢字 🙂"
PRECISE = 0.1 + 0.2
TINY = 2.2250738585072014e-308
HOSTS = 4


def run(*arguments: str) -> tuple[int, str]:
    """Run `bedside …` in-process; return the exit code and everything it printed."""
    result = CliRunner().invoke(cli, list(arguments), prog_name="bedside")
    return result.exit_code, result.output


def sqlite_url(tmp_path, name: str = "bedside.db") -> str:
    """The URL of a SQLite file in the test's folder."""
    return f"sqlite:///{tmp_path / name}"


def every_migration(dialect: str) -> list[str]:
    """The names of every registered store's migrations on one engine."""
    return [name for store in STORES for name in migration_names(store.schema, dialect)]


# --- migrate --------------------------------------------------------------------------------------


def test_migrate_applies_every_store_once_then_finds_nothing(database_url):
    dialect = parse_database_url(database_url).dialect
    code, first = run("db", "migrate", "--database-url", database_url)
    assert code == 0, first
    for store in STORES:
        names = migration_names(store.schema, dialect)
        assert f"{store.name}: applied {', '.join(names)}" in first
    code, second = run("db", "migrate", "--database-url", database_url)
    assert code == 0
    assert second.splitlines() == [f"{store.name}: up to date" for store in STORES]


def test_migrate_defaults_to_the_apps_database_url(monkeypatch, tmp_path):
    for name in INSTANCE_KEYS:  # given, so reading the configuration writes no key files
        monkeypatch.setenv(f"BEDSIDE_{name}", "k" * 64)
    monkeypatch.setenv("BEDSIDE_DATABASE_URL", sqlite_url(tmp_path, "app.db"))
    code, output = run("db", "migrate")
    assert code == 0, output
    assert (tmp_path / "app.db").exists()
    code, output = run("db", "check", "--database-url", sqlite_url(tmp_path, "app.db"))
    assert code == 0, output


def test_hosts_migrating_at_once_apply_each_step_once(postgres_url):
    # Each process imports Bedside first, then waits for the same instant: the runs overlap.
    start = time.time() + 4
    script = (
        f"import time; from app.cli import main; time.sleep(max(0, {start} - time.time())); main()"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, "db", "migrate", "--database-url", postgres_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(HOSTS)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * HOSTS, outputs
    printed = " ".join(stdout for stdout, _ in outputs)
    for name in every_migration("postgresql"):
        assert printed.count(f" {name}") == 1, name


# --- check ----------------------------------------------------------------------------------------


def test_check_reports_pending_migrations_and_exits_1_until_migrated(database_url):
    dialect = parse_database_url(database_url).dialect
    code, output = run("db", "check", "--database-url", database_url)
    assert code == 1
    assert "migration(s) pending" in output
    for store in STORES:
        assert (
            f"{store.name}: 0 applied, pending {', '.join(migration_names(store.schema, dialect))}"
            in output
        )
    run("db", "migrate", "--database-url", database_url)
    code, output = run("db", "check", "--database-url", database_url)
    assert code == 0, output
    for store in STORES:
        count = len(migration_names(store.schema, dialect))
        assert f"{store.name}: {count} applied, up to date" in output


def test_check_does_not_create_a_missing_sqlite_file(tmp_path):
    code, output = run("db", "check", "--database-url", sqlite_url(tmp_path, "absent.db"))
    assert code == 1
    assert "not created yet" in output
    assert not (tmp_path / "absent.db").exists()


def test_check_on_postgresql_reports_durability_and_the_superusers_privileges(postgres_url):
    run("db", "migrate", "--database-url", postgres_url)
    code, output = run("db", "check", "--database-url", postgres_url)
    assert code == 0, output
    assert "synchronous_commit: on" in output
    assert "role postgres: superuser yes, can create tables in schema public yes" in output


def test_check_reports_a_least_privilege_role_and_lax_durability_as_facts(postgres_url):
    run("db", "migrate", "--database-url", postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS bedside_app")
        admin.execute("CREATE ROLE bedside_app LOGIN")
        admin.execute("ALTER ROLE bedside_app SET synchronous_commit = off")
        admin.execute("GRANT SELECT ON bedside_migrations TO bedside_app")
    try:
        app_url = postgres_url.replace("postgres@", "bedside_app@", 1)
        code, output = run("db", "check", "--database-url", app_url)
        assert code == 0, output
        assert "synchronous_commit: off (acknowledged commits can be lost; use on)" in output
        assert "role bedside_app: superuser no, can create tables in schema public no" in output
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("DROP OWNED BY bedside_app")
            admin.execute("DROP ROLE bedside_app")


# --- one-sentence failures ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["migrate", "check"])
def test_a_wrong_scheme_is_one_sentence(command):
    code, output = run("db", command, "--database-url", "mysql://bedside@db/bedside")
    assert code == 1
    assert output == (
        "Error: --database-url must start with sqlite:/// or postgresql://, not 'mysql'.\n"
    )


@pytest.mark.parametrize("command", ["migrate", "check"])
def test_an_unreachable_server_is_one_sentence_without_the_password(command):
    url = "postgresql://bedside:s3cret-pw@127.0.0.1:1/bedside"
    code, output = run("db", command, "--database-url", url)
    assert code == 1
    assert output == (
        "Error: Cannot use postgresql://bedside@127.0.0.1:1/bedside: the connection was refused "
        "(is PostgreSQL running on that host and port?).\n"
    )


@pytest.mark.parametrize(
    ("wrong", "said"),
    [
        ("database", 'database "no_such_db" does not exist'),
        ("role", 'role "no_such_role" does not exist'),
    ],
)
def test_a_wrong_database_or_role_is_the_servers_one_sentence(postgres_url, wrong, said):
    head = postgres_url.rsplit("/", 1)[0]
    url = (
        f"{head}/no_such_db"
        if wrong == "database"
        else postgres_url.replace("postgres@", "no_such_role@", 1)
    )
    code, output = run("db", "check", "--database-url", url)
    assert code == 1
    assert output == f"Error: Cannot use {parse_database_url(url).shown}: the server says {said}.\n"


def test_a_copy_to_an_unreachable_server_is_one_sentence(tmp_path):
    run("db", "migrate", "--database-url", sqlite_url(tmp_path))
    code, output = run(
        "db", "copy", "--from", sqlite_url(tmp_path), "--to", "postgresql://x:pw@127.0.0.1:1/b"
    )
    assert code == 1
    assert output == (
        "Error: Cannot use postgresql://x@127.0.0.1:1/b: the connection was refused "
        "(is PostgreSQL running on that host and port?).\n"
    )


# --- copy -----------------------------------------------------------------------------------------


CIPHER = TokenCipher("copy-test-key")
SESSION = SmartSession(
    issuer="https://ehr.example/fhir",
    client_id="bedside",
    token_endpoint="https://ehr.example/token",
    scope="launch openid fhirUser patient/*.read",
    access_token="access-" + AWKWARD_TEXT,
    refresh_token="refresh-token",
    access_expires_at=1_800_000_000.123456,
    patient="Patient/123",
    fhir_user="Practitioner/9",
    need_patient_banner=True,
    fhir_context=[{"reference": "Encounter/7"}],
    id_claims={"sub": "9", "name": AWKWARD_TEXT},
)


def fill_through_the_stores(database: Database) -> str:
    """Write real rows through each store's own API; return the SMART session id."""
    cds = CdsStore(database)
    assert cds.claim_jti("https://ehr.example", "jti-1", 1_900_000_000)
    exposure = Exposure(
        "card-1", "uri-abx", "2026.1", "sepsis", "user-key", "patient-key", PRECISE, "client"
    )
    cds.record_call([exposure])
    cds.record_feedback(
        FeedbackRecord(
            "feedback-1",
            "card-1",
            "uri-abx",
            "user-key",
            "overridden",
            "not-applicable",
            "http://example.org/reasons",
            ("suggestion-1",),
            "2026-10-02T09:00:00Z",
        )
    )
    learning = LearningStore(database)
    learning.save_profile(Profile("L1", AWKWARD_TEXT, "ehr", ("hfref-gdmt",), "es"))
    learning.save_mastery(
        "L1", {"hfref-gdmt": TopicMastery(TINY, 3), "uri": TopicMastery(PRECISE, 1)}
    )
    practice = PracticeStore(database)
    practice.save_import(
        [
            MeasureCase(
                measure_id="uri-abx",
                patient_key="p1",
                encounter_id="e1",
                clinician="Practitioner/c1",
                period_start=START,
                in_denominator=True,
                in_numerator=True,
            )
        ],
        START,
        END,
        "ndjson",
    )
    session_id, _ = SmartSessionStore(database, CIPHER).create(SESSION)
    return session_id


def assert_read_back_through_the_stores(database: Database, session_id: str) -> None:
    """Every value arrives as written, read through the stores on the copy."""
    cds = CdsStore(database)
    assert cds.jti_seen("https://ehr.example", "jti-1")
    assert not cds.claim_jti("https://ehr.example", "jti-1", 1_900_000_000)
    assert cds.exposure("card-1").shown_at == PRECISE
    learning = LearningStore(database)
    assert learning.profile("L1")[0] == Profile("L1", AWKWARD_TEXT, "ehr", ("hfref-gdmt",), "es")
    assert learning.mastery("L1") == {
        "hfref-gdmt": TopicMastery(TINY, 3),
        "uri": TopicMastery(PRECISE, 1),
    }
    stored = PracticeStore(database).load()
    assert [(case.measure_id, case.day) for case in stored.cases] == [
        ("uri-abx", date(2026, 10, 1))
    ]
    session = SmartSessionStore(database, CIPHER).load(session_id)
    assert session.access_token == SESSION.access_token  # sealed text decrypts: byte-exact
    assert session.id_claims == SESSION.id_claims
    assert session.access_expires_at == SESSION.access_expires_at


def test_copy_sqlite_to_postgresql_and_back_keeps_every_value(tmp_path, postgres_url):
    source = Database(parse_database_url(sqlite_url(tmp_path)))
    session_id = fill_through_the_stores(source)
    source.dispose()

    code, output = run("db", "copy", "--from", sqlite_url(tmp_path), "--to", postgres_url)
    assert code == 0, output
    assert "cds_jti: 1 rows" in output and "practice_cases: 1 rows" in output
    assert output.endswith("row counts match.\n")
    code, output = run(
        "db", "copy", "--from", postgres_url, "--to", sqlite_url(tmp_path, "back.db")
    )
    assert code == 0, output

    for url in (postgres_url, sqlite_url(tmp_path, "back.db")):
        copy = Database(parse_database_url(url))
        try:
            assert_read_back_through_the_stores(copy, session_id)
        finally:
            copy.dispose()


def test_a_copied_postgresql_database_takes_new_imports_after_the_copied_ids(
    tmp_path, postgres_url
):
    source = Database(parse_database_url(sqlite_url(tmp_path)))
    fill_through_the_stores(source)
    source.dispose()
    run("db", "copy", "--from", sqlite_url(tmp_path), "--to", postgres_url)

    copy = Database(parse_database_url(postgres_url))
    try:
        later = datetime(2026, 12, 1, tzinfo=UTC)
        PracticeStore(copy).save_import([], END, later, "ndjson")  # would collide on import_id 1
        with copy.read() as connection:
            ids = connection.execute(text("SELECT import_id FROM practice_imports ORDER BY 1"))
            assert [row[0] for row in ids] == [1, 2]
    finally:
        copy.dispose()


def test_copy_refuses_a_target_that_already_holds_rows(tmp_path, postgres_url):
    source = Database(parse_database_url(sqlite_url(tmp_path)))
    fill_through_the_stores(source)
    source.dispose()
    assert run("db", "copy", "--from", sqlite_url(tmp_path), "--to", postgres_url)[0] == 0

    code, output = run("db", "copy", "--from", sqlite_url(tmp_path), "--to", postgres_url)
    assert code == 1
    assert output.startswith(
        f"Error: The target {parse_database_url(postgres_url).shown} already holds rows ("
    )
    assert output.endswith("copy only into an empty database.\n") and output.count("\n") == 1


def test_copy_refuses_a_missing_source_file(tmp_path, postgres_url):
    code, output = run(
        "db", "copy", "--from", sqlite_url(tmp_path, "none.db"), "--to", postgres_url
    )
    assert code == 1
    assert output == f"Error: There is no SQLite file at {tmp_path / 'none.db'} to copy from.\n"
    assert not (tmp_path / "none.db").exists()


def test_copy_moves_bytes_and_floats_exactly_in_small_batches(tmp_path, postgres_url):
    values = [(n, bytes(range(256)) * n, PRECISE * n, AWKWARD_TEXT * n) for n in range(5)]
    source = Database(parse_database_url(sqlite_url(tmp_path)))
    target = Database(parse_database_url(postgres_url))
    try:
        with source.write() as connection:
            connection.execute(
                text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB, f REAL, t TEXT)")
            )
            for row in reversed(values):
                connection.execute(
                    text("INSERT INTO blobs VALUES (:i, :b, :f, :t)"),
                    dict(zip("ibft", row, strict=True)),
                )
        with target.write() as connection:
            connection.execute(
                text(
                    "CREATE TABLE blobs"
                    " (id BIGINT PRIMARY KEY, b BYTEA, f DOUBLE PRECISION, t TEXT)"
                )
            )
        with source.read() as reader:
            copied = copy_table(reader, target, "blobs", batch_rows=2)
        assert copied.rows == 5
        with target.read() as connection:
            rows = connection.execute(text("SELECT id, b, f, t FROM blobs ORDER BY id")).all()
        assert [tuple(row) for row in rows] == values
    finally:
        source.dispose()
        target.dispose()


def fill_the_ledger(url: str, credits: int) -> None:
    """Append credits (and a reversal) through the ledger store, as the app does."""
    store = SqlLedgerStore(ledger_database(parse_database_url(url)), KEY)
    try:
        learner = store.ensure_learner(ISSUER, "Practitioner/1")
        for number in range(1, credits + 1):
            store.append_credit(request(learner, number), [award()], f"key-{number}")
        store.append_reversal(1, "entered in error", "reverse-1")
    finally:
        store.close()


def test_a_copied_ledger_is_verified_on_the_target(tmp_path, postgres_url):
    fill_the_ledger(sqlite_url(tmp_path), credits=5)
    code, output = run("db", "copy", "--from", sqlite_url(tmp_path), "--to", postgres_url)
    assert code == 0, output
    assert "ledger_credits: 6 rows" in output
    assert "ledger: Verified 6 records; chain intact." in output


def test_an_installation_with_every_store_and_credits_copies_each_table_once(
    tmp_path, postgres_url
):
    """The badge status list's foreign keys name the ledger's tables: they were copied twice."""
    assert run("db", "migrate", "--database-url", sqlite_url(tmp_path))[0] == 0
    fill_the_ledger(sqlite_url(tmp_path), credits=3)
    code, output = run("db", "copy", "--from", sqlite_url(tmp_path), "--to", postgres_url)
    assert code == 0, output
    assert output.count("ledger_credits: 4 rows") == 1
    assert output.count("ledger_learners: 1 rows") == 1
    assert "ledger: Verified 4 records; chain intact." in output


def test_a_ledger_whose_chain_breaks_in_the_copy_is_refused(tmp_path, postgres_url):
    fill_the_ledger(sqlite_url(tmp_path), credits=3)
    with sqlite3.connect(tmp_path / "bedside.db") as connection:  # tamper with the evidence
        connection.execute("DROP TRIGGER IF EXISTS ledger_credits_no_update")
        connection.execute("UPDATE ledger_credits SET amount_hundredths = 500 WHERE sequence = 2")
    code, output = run("db", "copy", "--from", sqlite_url(tmp_path), "--to", postgres_url)
    assert code == 1
    assert "The copied ledger does not verify: Record #2 fails" in output


def test_an_application_role_with_the_printed_grants_runs_every_store(tmp_path, postgres_url):
    assert run("db", "migrate", "--database-url", postgres_url)[0] == 0
    code, script = run("db", "grants", "bedside_app")
    assert code == 0, script
    owner = Database(parse_database_url(postgres_url))
    with owner.write() as connection:
        connection.execute(text("CREATE ROLE bedside_app LOGIN"))
        connection.exec_driver_sql(script)
    app_url = postgres_url.replace("://postgres@", "://bedside_app@")
    as_app = Database(parse_database_url(app_url))
    try:
        session_id = fill_through_the_stores(as_app)  # every store writes as the role
        assert_read_back_through_the_stores(as_app, session_id)
        fill_the_ledger(app_url, credits=2)
        for statement in ("DROP TABLE cds_jti", "UPDATE ledger_credits SET reason = 'x'"):
            refused = pytest.raises(ProgrammingError, match=r"permission denied|must be owner")
            with refused, as_app.write() as edit:
                edit.execute(text(statement))
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text("DROP OWNED BY bedside_app"))
            connection.execute(text("DROP ROLE bedside_app"))
        owner.dispose()


def test_grants_refuse_a_role_name_that_is_not_plain():
    code, output = run("db", "grants", 'app"; DROP TABLE ledger_credits; --')
    assert code == 1
    assert "is not a plain PostgreSQL role name" in output
