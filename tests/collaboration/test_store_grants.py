"""On PostgreSQL the collaboration store runs as a least-privilege role with the printed grants."""

from __future__ import annotations

from sqlalchemy import text

from app.collaboration.store import COLLABORATION_SCHEMA, CollaborationStore
from app.database import Database, parse_database_url, role_script
from cds_hooks.store import SCHEMA as CDS_SCHEMA
from cds_hooks.store import CdsStore
from tests.collaboration.test_store import MODULE, exposure, feedback


def test_the_store_runs_as_an_application_role_with_only_the_printed_grants(postgres_url):
    owner = Database(parse_database_url(postgres_url))
    CdsStore(owner)
    CollaborationStore(owner)
    with owner.write() as connection:
        connection.execute(text("CREATE ROLE bedside_collab LOGIN"))
        connection.exec_driver_sql(
            role_script([CDS_SCHEMA, COLLABORATION_SCHEMA], "bedside_collab")
        )
    as_app = Database(
        parse_database_url(postgres_url.replace("://postgres@", "://bedside_collab@"))
    )
    try:
        cds, store = CdsStore(as_app), CollaborationStore(as_app)
        cds.record_call([exposure("c1")])
        cds.record_feedback(feedback("c1", "recipient-disagrees-evidence"))
        assert store.import_cds_feedback() == 1
        store.set_display_name("L1", "Night owl")
        thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "A title", "L1", "Text")
        post_id = store.posts(thread_id)[0].post_id
        store.edit_post(post_id, "L1", "Changed")
        store.report_post(post_id, "L2")
        store.set_hidden(post_id, "M1", hidden=True)
        item_id = store.file_item(MODULE, "error", "A wrong threshold", "L1")
        store.triage(item_id, "accepted", "E1")
        store.mark_read({"L1"})
        assert [notice.kind for notice in store.notices({"L1"})] == ["status"]
        store.forget_display_name("L1")  # a learner deleting their data
        assert store.display_name("L1") is None
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text("DROP OWNED BY bedside_collab"))
            connection.execute(text("DROP ROLE bedside_collab"))
        owner.dispose()
