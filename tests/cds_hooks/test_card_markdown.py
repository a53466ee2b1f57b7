"""Patient-derived text in a card's detail stays one line of literal text in the Markdown."""

from __future__ import annotations

import pytest

from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

SEPSIS = "sepsis-adult"


def detail_for_drafted_display(cds, fixture_store, display: str) -> str:
    """The sepsis card's detail when the drafted ceftriaxone carries this coding display."""
    order = draft_medication(SEPSIS, code_display=("1665021", display))
    request = hook_request(
        "order-select",
        SEPSIS,
        prefetch=prefetch_for(fixture_store, SEPSIS),
        draft_orders=[order],
        encounter_id="sepsis-adult-ed-visit",
    )
    response = cds.hook("bedside-order-select", request)
    assert response.status_code == 200
    (card,) = [c for c in response.json["cards"] if "sepsis" in c["links"][0]["appContext"]]
    return card["detail"]


def why_paragraph(detail: str) -> str:
    """The paragraph of the detail that names the evidence."""
    (paragraph,) = [part for part in detail.split("\n\n") if "1665021" in part]
    return paragraph


@pytest.mark.parametrize(
    "display",
    [
        "ceftriaxone\n===",  # a setext heading underline
        "ceftriaxone\r\n---\r\n",  # a setext heading or a rule
        "ceftriaxone\n\n    indented code",  # a new paragraph, then a code block
        "ceftriaxone\u2028\u2029# heading",  # Unicode line and paragraph separators
        "ceftriaxone\t\x0b\x0c\x1c\x85 1 g",
    ],
)
def test_a_display_with_line_breaks_cannot_start_markdown_blocks(cds, fixture_store, display):
    paragraph = why_paragraph(detail_for_drafted_display(cds, fixture_store, display))
    assert paragraph.startswith("**")
    assert not any(mark in paragraph for mark in "\r\n\t\x0b\x0c\x1c\x85\u2028\u2029")
    assert "  " not in paragraph


def test_a_display_keeps_its_words_with_markdown_escaped(cds, fixture_store):
    display = "ceftriaxone\n[dose](https://example.org) *now*"
    paragraph = why_paragraph(detail_for_drafted_display(cds, fixture_store, display))
    assert r"ceftriaxone \[dose\]\(https://example\.org\) \*now\*" in paragraph
