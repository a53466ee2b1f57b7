"""`bedside hook` output: cards as a readable table."""

from __future__ import annotations

import html
import json
import re
import textwrap

from cds_hooks.cards import UI_TEXT

MARKDOWN_ESCAPE = re.compile(r"\\(.)")
LABEL_WIDTH = 13
WRAP = {"width": 100, "break_long_words": False, "break_on_hyphens": False}


def render(header: str, cards: list[dict], matched: int, cap: int) -> str:
    """Render the header line and one table per card."""
    modules = f"{matched} module{'s' * (matched != 1)} matched"
    lines = [
        header,
        f"{modules}; showing {len(cards)} (cap {cap}); no fatigue rules, nothing stored.",
    ]
    if not matched:
        lines += ["", "No cards: nothing in this patient's data matched a module's triggers."]
    elif not cards:
        lines += ["", "No cards shown: the card cap is 0 (use --max-cards N)."]
    for number, card in enumerate(cards, 1):
        lines += ["", f"Card {number} of {len(cards)}", *card_rows(card)]
    return "\n".join(lines)


def card_rows(card: dict) -> list[str]:
    """Render one card as label/value rows."""
    links = [f"{link['label']}: {link['url']}" for link in card.get("links") or []]
    rows = [
        ("Indicator", [card["indicator"]]),
        ("Summary", [card["summary"]]),
        ("Module", [module_of(card)]),
        ("Source", [card["source"]["label"]]),
        ("Why", [why_line(card.get("detail") or "")]),
        ("Suggestions", [s["label"] for s in card.get("suggestions") or []] or ["(none)"]),
        ("Links", links or ["(none)"]),
    ]
    return [line for label, values in rows for line in table_row(label, values)]


def table_row(label: str, values: list[str]) -> list[str]:
    """Wrap one row's values under an aligned label; several values become bullet lines."""
    bullet, lines = "- " if len(values) > 1 else "", []
    for number, value in enumerate(values):
        first = f"  {label if number == 0 else '':<{LABEL_WIDTH}}{bullet}"
        wrapped = textwrap.wrap(
            value, initial_indent=first, subsequent_indent=" " * len(first), **WRAP
        )
        lines += wrapped or [first.rstrip()]
    return lines


def module_of(card: dict) -> str:
    """Name the module and version behind a card (from its SMART link's appContext)."""
    for link in card.get("links") or []:
        if link.get("type") == "smart" and link.get("appContext"):
            context = json.loads(link["appContext"])
            return f"{context.get('module')} (version {context.get('version')})"
    return "(unknown)"


def why_line(detail: str) -> str:
    """Extract the 'why you are seeing this' paragraph from a card's Markdown detail, as text."""
    prefixes = [f"**{label}:**" for label in UI_TEXT["why"].values()]
    for paragraph in detail.split("\n\n"):
        for prefix in prefixes:
            if paragraph.startswith(prefix):
                text = MARKDOWN_ESCAPE.sub(r"\1", paragraph.removeprefix(prefix).strip())
                return html.unescape(text)
    return "(not stated)"
