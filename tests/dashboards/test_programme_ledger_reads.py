"""The programme page reads every clinician's ledger credits at once, not two reads a clinician."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event

from tests.dashboards.conftest import ISSUER, save_synthetic, sign_in
from tests.dashboards.test_practice_data import complete_module


def ledger_credit_reads(app, url: str, client) -> tuple[int, str]:
    """How many statements read ledger_credits while the page is built, and the page."""
    engine = app.extensions["ledger"].store.database.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        """Note each statement that reads the credit records."""
        if "FROM ledger_credits" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def test_the_programme_page_reads_all_clinicians_credits_in_one_statement(live_app):
    save_synthetic(live_app)
    for clinician in ("C03", "C07"):
        complete_module(
            live_app,
            f"{ISSUER}/Practitioner/{clinician}",
            datetime(2026, 5, 1, tzinfo=UTC),
            clinician,
        )
    client = live_app.test_client()
    sign_in(live_app, client, f"{ISSUER}/Practitioner/C03")
    reads, html = ledger_credit_reads(live_app, "/dashboards/", client)
    assert reads == 1
    assert "completed Colds and acute bronchitis in adults" in html
