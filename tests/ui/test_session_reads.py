"""A page bound to the browser's latest launch finds that launch once, its rate limit included."""

from __future__ import annotations

from sqlalchemy import event

from tests.smart.helpers import query_of
from tests.ui.helpers import launch


def launch_lookups(app, browser, url: str) -> int:
    """How many statements look a launch up by the browser's cookie while the page is answered."""
    engine = app.extensions["smart"].sessions.database.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        """Note each read of the SMART sessions by the browser's group key."""
        if statement.lstrip().startswith("SELECT") and "browser_key = " in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert browser.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_a_page_bound_to_the_latest_launch_looks_it_up_once(ui_app, browser, auth_server):
    bound = launch(browser, auth_server).headers["Location"]
    assert query_of(bound)["launch"]
    assert launch_lookups(ui_app, browser, bound) == 1
