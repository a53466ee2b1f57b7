"""A learner's erasure deletes the CDS cards they were shown and their feedback, so an editorial
item filed from their override no longer leads back to them."""

from __future__ import annotations

from sqlalchemy import text

from app.devtools.demo_keys import DEMO_EHR_ISS
from cds_hooks.engine import Namespace
from tests.collaboration.test_editorial_pages import record_override
from tests.ui.helpers import get, post


def cds_rows(app, user_keys: set[str]) -> int:
    """How many exposures and feedback rows the CDS store holds under these user keys."""
    database = app.extensions["cds"].engine.store.database
    with database.read() as connection:
        return sum(
            connection.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE user_key = :key"), {"key": key}
            ).scalar()
            for table in ("cds_exposures", "cds_feedback")
            for key in user_keys
        )


def test_deleting_learning_data_deletes_the_clinicians_cds_exposures_and_feedback(
    collab_app, learner, collab_store
):
    record_override(collab_app, "recipient-disagrees-evidence")
    [item] = collab_store.items()
    engine = collab_app.extensions["cds"].engine
    keys = {engine.identity_key("user", Namespace(DEMO_EHR_ISS), "Practitioner/dr-ed-okafor")}
    assert cds_rows(collab_app, keys) == 2
    post(learner, "/app/profile/delete", get(learner, "/app/profile/delete"))
    assert cds_rows(collab_app, keys) == 0
    assert collab_store.item(item.item_id).source_ref.startswith("cds:")  # the item stays, unowned
    assert "guideline cards your EHR showed you" in get(learner, "/app/profile/delete")


def test_erasure_names_the_cds_keys_linked_to_the_learner_and_to_nobody_else(collab_store):
    collab_store.note_keys("B", {"B", "cds:theirs"})
    collab_store.note_keys("A", {"A", "cds:earlier"})
    erasable = collab_store.forget_display_name("A", {"A", "cds:mine", "cds:theirs"})
    assert sorted(erasable) == ["cds:earlier", "cds:mine"]
