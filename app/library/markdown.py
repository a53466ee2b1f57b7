"""Render content Markdown to safe HTML, and inspect Markdown source (raw HTML, links, structure).

Rendering: markdown-it-py's CommonMark preset with raw HTML off, plus GFM tables and strikethrough,
then nh3 (ammonia) with a small allow-list as a second line of defence. Links keep only https (and
in-page `#` anchors) and get `rel="noopener noreferrer"`.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {"a", "blockquote", "br", "code", "del", "em", "hr", "li", "ol", "p", "pre", "s", "strong"}
    | {"ul"}  # without it, bullet lists lose their <ul> and leave orphan <li> (WCAG 1.3.1)
    | {"table", "thead", "tbody", "tr", "th", "td"}
    | {f"h{level}" for level in range(1, 7)}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
ALLOWED_URL_SCHEMES = frozenset({"https"})
LINK_REL = "noopener noreferrer"

TAG_PATTERN = re.compile(r"<!--.*?-->|<[!?/]?[A-Za-z][^>]*>", re.DOTALL)
TRAILING = ".,;:!?)'\""  # punctuation after a bare URL belongs to the sentence
BARE_URL_PATTERN = re.compile(
    r"\b(?:https?|ftp)://[^\s<>()\[\]]+|\b(?:javascript|vbscript|data):\S+"
)


@cache
def renderer() -> MarkdownIt:
    """The display parser: CommonMark, no raw HTML, GFM tables and strikethrough."""
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@cache
def inspector() -> MarkdownIt:
    """A parser with raw HTML on, used only to find the raw HTML an author wrote."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """Render Markdown to sanitised HTML (raw HTML in the source is shown as text, never run)."""
    html = renderer().render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


def walk(tokens: list[Token]):
    """Yield every token, block and inline, in document order."""
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def raw_html_in(text: str) -> list[str]:
    """The raw HTML tags (and comments) in Markdown source, in order; code spans do not count."""
    found: list[str] = []
    for token in walk(inspector().parse(text)):
        if token.type in {"html_inline", "html_block"}:
            tags = TAG_PATTERN.findall(token.content)
            found.extend(tags or [token.content.strip()])
    return found


def links_in(text: str) -> list[str]:
    """Every URL in Markdown source: link targets, image sources, autolinks and bare URLs."""
    urls: list[str] = []
    in_link = False  # an autolink's text repeats its URL
    for token in walk(renderer().parse(text)):
        if token.type == "link_open":
            urls.append(str(token.attrs.get("href", "")))
            in_link = True
        elif token.type == "link_close":
            in_link = False
        elif token.type == "image":
            urls.append(str(token.attrs.get("src", "")))
        elif token.type == "text" and not in_link:
            urls.extend(bare_urls(token.content))
    return urls


def bare_urls(text: str) -> list[str]:
    """URLs written as plain text (not as Markdown links), without trailing punctuation."""
    return [url.rstrip(TRAILING) for url in BARE_URL_PATTERN.findall(text)]


def structure_of(text: str) -> Counter:
    """Counts of the structural blocks (headings, list items, tables, table rows) in Markdown."""
    counted = {"heading_open", "list_item_open", "table_open", "tr_open"}
    return Counter(token.type for token in renderer().parse(text) if token.type in counted)
