"""Names saved under the old key (case and spaces only) are keyed again by the look-alike rule.

A database the old code left is made by forgetting that the rekeying step ran and saving names
with their old keys, as the old code's set_display_name did; migrating then runs the step.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.collaboration.store import COLLABORATION_SCHEMA, CollaborationStore, NameTaken
from app.database import SQLITE

REKEYING = "rekey_display_names"
MODULE_ID = "sepsis-hour-1-bundle"
FULL_WIDTH_ALICE = "\uff21lice"  # a full-width A, which the old key kept apart from "Alice"


@pytest.fixture
def store(database) -> CollaborationStore:
    """The collaboration store on a database the old code left: its rekeying not yet run."""
    made = CollaborationStore(database)
    forget_the_rekeying(database)
    return made


def forget_the_rekeying(database) -> None:
    """Delete the record that the rekeying step ran, so the next migration runs it (again)."""
    table = "_sqlite_migrations" if database.dialect == SQLITE else "bedside_migrations"
    with database.write() as connection:
        connection.execute(
            text(f"DELETE FROM {table} WHERE migration_set = :set AND name = :name"),
            {"set": COLLABORATION_SCHEMA.name, "name": REKEYING},
        )


def save_as_the_old_code_did(database, learner_id: str, name: str) -> None:
    """Store a name with the old key: spaces collapsed and case folded, nothing else."""
    with database.write() as connection:
        connection.execute(
            text(
                "INSERT INTO collab_names (learner_id, display_name, name_key)"
                " VALUES (:learner, :name, :key)"
            ),
            {"learner": learner_id, "name": name, "key": " ".join(name.split()).casefold()},
        )


def stored_names(database) -> list[tuple[str, str, str]]:
    """Every stored (learner, name, key) row."""
    with database.read() as connection:
        query = text("SELECT learner_id, display_name, name_key FROM collab_names")
        return sorted(connection.execute(query).all())


def test_a_name_saved_under_the_old_key_refuses_its_look_alike_after_the_migration(store, database):
    save_as_the_old_code_did(database, "L1", FULL_WIDTH_ALICE)
    database.migrate(COLLABORATION_SCHEMA)

    with pytest.raises(NameTaken):
        store.set_display_name("L2", "Alice")
    assert store.display_names(["L1", "L2"]) == {"L1": FULL_WIDTH_ALICE}


@pytest.mark.parametrize(
    ("first_name", "later_name"), [(FULL_WIDTH_ALICE, "alice"), ("Alice", FULL_WIDTH_ALICE)]
)
def test_of_names_now_read_alike_the_first_saved_stays_and_the_later_learner_keeps_their_posts(
    store, database, first_name, later_name
):
    save_as_the_old_code_did(database, "first", first_name)
    save_as_the_old_code_did(database, "later", later_name)
    thread_id = store.start_thread("module", MODULE_ID, "2.0.0", "Lactate timing", "later", "Hi")
    store.reply(thread_id, "first", "A reply")

    database.migrate(COLLABORATION_SCHEMA)

    assert store.display_names(["first", "later"]) == {"first": first_name}
    assert [post.author_id for post in store.posts(thread_id)] == ["later", "first"]
    assert store.threads("module", MODULE_ID)[0].author_id == "later"
    with pytest.raises(NameTaken):
        store.set_display_name("later", "ALICE")
    store.set_display_name("later", "Night owl")  # asked for a name, they choose another
    assert store.display_name("later") == "Night owl"


def test_running_the_rekeying_again_changes_nothing(store, database):
    for learner_id, name in [
        ("L1", "Alice"),
        ("L2", "A\u200blice"),  # a zero-width space inside
        ("L3", "\uff21\uff2c\uff29\uff23\uff25"),  # all full-width capitals
        ("L4", "Night  Owl"),
        ("L5", "\u217cucy"),  # a small roman numeral fifty for the l
    ]:
        save_as_the_old_code_did(database, learner_id, name)
    database.migrate(COLLABORATION_SCHEMA)
    migrated = stored_names(database)

    forget_the_rekeying(database)
    assert database.migrate(COLLABORATION_SCHEMA) == [REKEYING]

    assert stored_names(database) == migrated
    assert migrated == [
        ("L1", "Alice", "alice"),
        ("L4", "Night  Owl", "night owl"),
        ("L5", "\u217cucy", "lucy"),
    ]


def test_an_empty_database_is_rekeyed_without_a_row_and_not_rekeyed_twice(database):
    CollaborationStore(database)

    assert REKEYING in database.applied(COLLABORATION_SCHEMA)
    assert stored_names(database) == []
    assert database.migrate(COLLABORATION_SCHEMA) == []
