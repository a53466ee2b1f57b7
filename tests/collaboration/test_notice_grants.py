"""On PostgreSQL the notices run as the least-privilege role: roles seen, fan-out, forgetting."""

from __future__ import annotations

from sqlalchemy import text

from app.collaboration.roles import EDIT_QUEUE, MODERATE
from app.collaboration.store import COLLABORATION_SCHEMA, CollaborationStore
from app.database import Database, parse_database_url, role_script
from tests.collaboration.test_store import MODULE

EARLY = "2000-01-01T00:00:00+00:00"


def test_notices_need_no_more_than_the_printed_grants(postgres_url):
    owner = Database(parse_database_url(postgres_url))
    CollaborationStore(owner)
    with owner.write() as connection:
        connection.execute(text("CREATE ROLE bedside_notices LOGIN"))
        connection.exec_driver_sql(role_script([COLLABORATION_SCHEMA], "bedside_notices"))
    as_app = Database(
        parse_database_url(postgres_url.replace("://postgres@", "://bedside_notices@"))
    )
    try:
        store = CollaborationStore(as_app)
        store.note_role("E1", EDIT_QUEUE, held=True)
        store.note_role("M1", MODERATE, held=True)
        store.note_role("M1", MODERATE, held=False)  # the role is gone
        thread_id = store.start_thread("module", MODULE["id"], "2.0.0", "A title", "L1", "Text")
        post_id = store.reply(thread_id, "L2", "A reply")
        store.report_post(post_id, "L1")
        store.file_item(MODULE, "error", "A wrong threshold", "L1")
        store.note_keys("L1", {"L1", "cds:k1"})  # a CDS key seen to be L1's
        store.note_keys("L1", {"L1", "cds:k1"})  # seen again the same day: nothing written
        assert [n.kind for n in store.unread_notices("L1", EARLY)] == ["thread-reply"]
        assert [n.kind for n in store.notices({"E1"})] == ["queue-item"]
        store.forget_display_name("E1")  # a learner deleting their data
        store.forget_display_name("L1")  # their notices go; later replies notify them of none
        store.reply(thread_id, "L2", "Another reply")
        assert store.notices({"L1"}) == [] and store.linked_keys("L1") == []
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text("DROP OWNED BY bedside_notices"))
            connection.execute(text("DROP ROLE bedside_notices"))
        owner.dispose()
