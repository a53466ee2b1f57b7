"""What a learner may write and read at once: a posting budget and bounded pages.

A learner posts at most POSTS_PER_WINDOW texts in any POSTING_WINDOW (threads, replies and case
discussion posts count together; journal-club reflections and critiques sent to the editors each
have a budget of their own). The count is read from the database in the write's own transaction,
so every worker and host shares it and it is exact: SQLite serialises writes, and on PostgreSQL a
learner's posts take a per-learner advisory lock before the count, so two posts at once are
counted one after the other.
Long lists are read a page at a time (LIMIT/OFFSET over an index), numbered from 1.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

POSTS_PER_WINDOW = 20
POSTING_WINDOW = timedelta(minutes=10)
PAGE_SIZE = 50
# First key of the advisory lock a learner's post takes on PostgreSQL (second: their id's hash).
POSTING_LOCK = zlib.crc32(b"bedside.collaboration.posting") & 0x7FFFFFFF


class PostingTooFast(Exception):
    """The learner used their posting budget; `wait_seconds` until the next post is allowed."""

    def __init__(self, wait_seconds: int):
        super().__init__(f"posting budget used: wait {wait_seconds} s")
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class PageSpan:
    """One page of a list: its number, the number of pages, and the rows it covers."""

    number: int
    count: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        """How many rows come before this page."""
        return (self.number - 1) * self.size

    def numbers(self) -> list[int | None]:
        """The page numbers to link: the first, the last and two either side (None for a gap)."""
        near = {1, self.count, *range(self.number - 2, self.number + 3)}
        shown = sorted(n for n in near if 1 <= n <= self.count)
        numbers: list[int | None] = []
        for number in shown:
            if numbers and number - (numbers[-1] or 0) > 1:
                numbers.append(None)
            numbers.append(number)
        return numbers


def page_span(total: int, requested: object, size: int = PAGE_SIZE) -> PageSpan:
    """The page asked for (a number from a query string), kept between the first and the last."""
    count = max(1, math.ceil(total / size))
    try:
        number = int(str(requested))
    except ValueError:
        number = 1
    return PageSpan(min(max(number, 1), count), count, size)


def last_page(total: int, size: int = PAGE_SIZE) -> int:
    """The number of the page holding the newest of `total` rows listed oldest first."""
    return max(1, math.ceil(total / size))


def check_posting_budget(
    connection: Connection,
    table: str,
    author_id: str,
    now: datetime,
    *,
    author_column: str = "author_id",
) -> None:
    """Raise PostingTooFast if the author wrote the budget into `table` within the window.

    `table` and `author_column` (names from the calling store, never from input): the table has
    the author's column and created_at, ISO 8601 text in UTC with microseconds, as the stores
    write it.
    """
    if connection.dialect.name == "postgresql":
        lock = text("SELECT pg_advisory_xact_lock(:space, hashtext(:author))")
        connection.execute(lock, {"space": POSTING_LOCK, "author": author_id})
    since = (now - POSTING_WINDOW).astimezone(UTC).isoformat(timespec="microseconds")
    recent = (
        connection.execute(
            text(
                f"SELECT created_at FROM {table} WHERE {author_column} = :author"
                " AND created_at > :since ORDER BY created_at LIMIT :budget"
            ),
            {"author": author_id, "since": since, "budget": POSTS_PER_WINDOW},
        )
        .scalars()
        .all()
    )
    if len(recent) >= POSTS_PER_WINDOW:
        frees_at = datetime.fromisoformat(recent[0]) + POSTING_WINDOW
        raise PostingTooFast(max(1, math.ceil((frees_at - now).total_seconds())))
