"""Page numbers for long lists: any requested page lands on a real one, links stay few."""

from __future__ import annotations

import pytest

from app.collaboration.posting import PAGE_SIZE, last_page, page_span


@pytest.mark.parametrize(
    ("requested", "number"),
    [(None, 1), ("", 1), ("abc", 1), ("-3", 1), ("0", 1), ("2", 2), ("99999", 3), ("9" * 50, 3)],
)
def test_a_requested_page_is_kept_between_the_first_and_the_last(requested, number):
    span = page_span(2 * PAGE_SIZE + 1, requested)
    assert (span.number, span.count) == (number, 3)
    assert span.offset == (number - 1) * PAGE_SIZE


def test_an_empty_list_has_one_page_and_the_newest_row_is_on_the_last():
    assert (page_span(0, "7").number, page_span(0, "7").count) == (1, 1)
    assert [last_page(n) for n in (0, 1, PAGE_SIZE, PAGE_SIZE + 1)] == [1, 1, 1, 2]


def test_page_links_show_the_ends_and_the_pages_near_this_one():
    assert page_span(20 * PAGE_SIZE, "10").numbers() == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert page_span(3 * PAGE_SIZE, "1").numbers() == [1, 2, 3]
