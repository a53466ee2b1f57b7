"""On PostgreSQL the delivery store runs as a least-privilege role with the printed grants."""

from __future__ import annotations

from sqlalchemy import text

from app.database import Database, parse_database_url, role_script
from app.delivery.store import DELIVERY_SCHEMA, DeliveryStore, Preferences

KEY = "grants-test-key"
NOW, CUTOFF = "2026-12-07T10:00:00+00:00", "2026-12-06T10:00:00+00:00"
HOUR_AGO = "2026-12-07T09:00:00+00:00"
LATER = "2026-12-08T10:00:00+00:00"


def test_opt_in_limits_and_notice_claims_need_only_the_printed_grants(postgres_url):
    owner = Database(parse_database_url(postgres_url))
    DeliveryStore(owner, KEY)
    with owner.write() as connection:
        connection.execute(text("CREATE ROLE bedside_mail LOGIN"))
        connection.exec_driver_sql(role_script([DELIVERY_SCHEMA], "bedside_mail"))
    as_app = Database(parse_database_url(postgres_url.replace("://postgres@", "://bedside_mail@")))
    try:
        store = DeliveryStore(as_app, KEY)
        assert store.take_confirmation_slot("L1", "a@example.org", NOW, CUTOFF, HOUR_AGO)
        store.confirm(store.subscribe("L1", "a@example.org", Preferences(notices=True), NOW))
        claim = store.claim_notices("L1", ["n1"], NOW, CUTOFF)
        store.release(claim)
        store.mark_sent(store.claim_notices("L1", ["n1"], NOW, CUTOFF))
        assert store.mailed_notices("L1", CUTOFF) == {"n1"}
        assert store.purge_notice_claims(LATER) == 1
        store.delete("L1")
        with as_app.write() as connection:
            grants = connection.execute(
                text(
                    "SELECT privilege_type FROM information_schema.role_table_grants"
                    " WHERE grantee = 'bedside_mail' AND table_name = 'delivery_notice_claims'"
                )
            ).scalars()
            assert sorted(grants.all()) == ["DELETE", "INSERT", "SELECT"]  # never UPDATE
    finally:
        as_app.dispose()
        with owner.write() as connection:
            connection.execute(text("DROP OWNED BY bedside_mail"))
            connection.execute(text("DROP ROLE bedside_mail"))
        owner.dispose()
