"""Demo-mode Bedside with a facilitator and a moderator in the roles file, as for journal clubs."""

from __future__ import annotations

from tests.journal_clubs.conftest import (  # noqa: F401  (fixtures shared with journal clubs)
    FACILITATOR,
    MODERATOR,
    auth_server,
    clubs_app,
    roles_file,
)
