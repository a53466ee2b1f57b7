"""`outcomes compute --save`: cases without patient identifiers, replaced by period, errors."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import inspect, text

from app import create_app
from app.database import Database, parse_database_url
from app.db import close_stores
from app.outcomes.outcomes_commands import compute
from tests.outcomes.test_synthetic import dataset
from tests.outcomes_io.helpers import expected_overall, write_ndjson

AS_OF = ["--as-of", "2026-11-01"]
COLUMNS = [
    "import_id",
    "measure_id",
    "clinician",
    "day",
    "excluded",
    "in_numerator",
    "encounter_key",  # a keyed hash, checked below to hold no id
]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The synthetic dataset as NDJSON, written once for this module."""
    return write_ndjson(tmp_path_factory.mktemp("ndjson"))


def run(*args: str):
    """Invoke compute and return the result (stdout and stderr kept apart)."""
    return CliRunner().invoke(compute, list(args), catch_exceptions=False)


def rows(database: str, sql: str) -> list[tuple]:
    """Query the saved database."""
    saved = Database(parse_database_url(database))
    try:
        with saved.read() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        saved.dispose()


def columns(database: str, table: str) -> list[str]:
    """A table's columns in order, as the engine reports them."""
    saved = Database(parse_database_url(database))
    try:
        return [column["name"] for column in inspect(saved.engine).get_columns(table)]
    finally:
        saved.dispose()


def test_save_stores_only_deidentified_denominator_cases(export, database_url):
    """Counts equal the expected answers; no patient or encounter id, no time finer than a day."""
    database = database_url
    result = run(
        "--ndjson", str(export), *AS_OF, "--format", "json", "--save", "--database-url", database
    )
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the report on stdout stays machine-readable
    assert "Saved 694 measure cases (no patient identifiers)" in result.stderr
    assert "for 2025-11-04 to 2026-10-31 (replacing 0)" in result.stderr
    assert columns(database, "practice_cases") == COLUMNS
    saved = rows(
        database, "SELECT measure_id, clinician, day, excluded, in_numerator FROM practice_cases"
    )
    for measure_id, expected in expected_overall().items():
        mine = [row for row in saved if row[0] == measure_id]
        assert len(mine) == expected["denominator"], measure_id
        assert sum(row[3] for row in mine) == expected["excluded"], measure_id
        assert sum(row[4] and not row[3] for row in mine) == expected["numerator"], measure_id
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[2]) for row in saved)
    assert {row[1] for row in saved} <= {f"Practitioner/{p['id']}" for p in dataset().practitioners}
    text = "\n".join(line for line in _dump(database))
    ids = {
        r["id"]
        for group in dataset().patients
        for r in group
        if r["resourceType"] in {"Patient", "Encounter"}
    }
    assert not [found for found in ids if found in text]


def test_saving_a_period_again_replaces_it(export, database_url):
    """The same period twice stores it once; a later month replaces only that month's cases."""
    database = database_url
    common = ("--ndjson", str(export), *AS_OF, "--save", "--database-url", database)
    assert run(*common, "--since", "2025-11-01").exit_code == 0
    total = rows(database, "SELECT count(*) FROM practice_cases")[0][0]
    again = run(*common, "--since", "2025-11-01")
    assert f"(replacing {total})" in again.stderr
    assert rows(database, "SELECT count(*) FROM practice_cases")[0][0] == total
    october = rows(database, "SELECT count(*) FROM practice_cases WHERE day >= '2026-10-01'")[0][0]
    assert 0 < october < total
    month = run(*common, "--since", "2026-10-01")
    assert month.exit_code == 0, month.output
    assert f"(replacing {october})" in month.stderr
    assert rows(database, "SELECT count(*) FROM practice_cases")[0][0] == total
    periods = rows(database, "SELECT period_start, period_end FROM practice_imports ORDER BY 1")
    assert periods == [("2025-11-01", "2026-11-01"), ("2026-10-01", "2026-11-01")]


def test_an_incremental_export_merges_per_encounter_without_double_counting(
    export, database_url, tmp_path
):
    """--since INSTANT merges: a re-run changes nothing; patients without a Patient stay out."""
    common = ("--ndjson", str(export), *AS_OF, "--save", "--database-url", database_url)
    assert run(*common, "--since", "2025-11-01").exit_code == 0
    total = rows(database_url, "SELECT count(*) FROM practice_cases")[0][0]
    for _ in range(2):
        merged = run(*common, "--since", "2026-11-01T00:00:00Z")
        assert merged.exit_code == 0, merged.output
        assert f"Merged {total} measure cases (no patient identifiers)" in merged.stderr
        assert f"(replacing {total} earlier cases of the same encounters)" in merged.stderr
        assert rows(database_url, "SELECT count(*) FROM practice_cases")[0][0] == total
    changes = tmp_path / "changes"  # a _since export of changed Encounters and Conditions only
    changes.mkdir()
    for name in ("Encounter.ndjson", "Condition.ndjson"):
        (changes / name).write_bytes((export / name).read_bytes())
    since = ("--since", "2026-11-01T00:00:00Z")
    partial = run(
        "--ndjson", str(changes), *AS_OF, "--save", "--database-url", database_url, *since
    )
    assert partial.exit_code == 0, partial.output
    assert "Merged 0 measure cases" in partial.stderr and "were not merged" in partial.stderr
    assert rows(database_url, "SELECT count(*) FROM practice_cases")[0][0] == total


def test_save_errors_are_one_readable_line(export, tmp_path):
    """No database to save to, or one that cannot be written: a sentence, never a traceback."""
    nowhere = run("--ndjson", str(export), *AS_OF, "--save")
    assert nowhere.exit_code == 2 and "Give --database PATH" in nowhere.output
    garbage = tmp_path / "not-sqlite.db"
    garbage.write_bytes(b"this is not a SQLite database, just some text" * 100)
    broken = run("--ndjson", str(export), *AS_OF, "--save", "--database", str(garbage))
    assert broken.exit_code == 1 and "Could not open" in broken.output
    assert "measure" not in broken.stdout  # refused before computing anything
    assert "Traceback" not in broken.output + nowhere.output
    for since in ("yesterday", "2026-13-01", "2026-11-01T25:00Z"):
        wrong = run("--ndjson", str(export), *AS_OF, "--since", since)
        assert wrong.exit_code == 2 and "use a date (2026-10-01) or an instant" in wrong.output


def _dump(database: str) -> list[str]:
    """Every row of every table, as text."""
    saved = Database(parse_database_url(database))
    try:
        tables = inspect(saved.engine).get_table_names()
        with saved.read() as connection:
            return [
                repr(tuple(row))
                for table in tables
                for row in connection.execute(text(f"SELECT * FROM {table}"))
            ]
    finally:
        saved.dispose()


@pytest.mark.parametrize(
    ("options", "status", "message"),
    [
        (["--database", "x.db", "--database-url", "sqlite:///x.db"], 2, "not both"),
        (["--database-url", "mysql://db/bedside"], 2, "must start with sqlite:///"),
        (
            ["--database-url", "postgresql://bedside:s3cret@127.0.0.1:1/bedside"],
            1,
            "could not be reached",
        ),
    ],
)
def test_a_wrong_database_url_is_one_sentence(export, options, status, message):
    result = run("--ndjson", str(export), *AS_OF, "--save", *options)
    assert result.exit_code == status and message in result.output
    assert "Traceback" not in result.output and "s3cret" not in result.output
    assert "measure" not in result.stdout  # refused before computing anything


def test_without_a_database_option_save_uses_the_apps_database(export, instance_path, database_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(instance_path / "bedside.db"),
            "DATABASE_URL": database_url,
        },
        instance_path=instance_path,
    )
    try:
        result = CliRunner().invoke(
            compute,
            ["--ndjson", str(export), *AS_OF, "--save"],
            obj=ScriptInfo(create_app=lambda: app),
        )
        assert result.exit_code == 0, result.output
        assert len(app.extensions["practice_store"].load().cases) == 694
    finally:
        close_stores(app)
