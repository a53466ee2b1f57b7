"""Render content Markdown to safe HTML, and inspect Markdown source (raw HTML, links, structure).

Rendering: markdown-it-py's CommonMark preset with raw HTML off, plus GFM tables and strikethrough,
then nh3 (ammonia) with a small allow-list as a second line of defence. Links keep only https (and
in-page `#` anchors) and get `rel="noopener noreferrer"`. No style attribute is kept (the pages'
CSP allows no inline style, so a table column's alignment is dropped). What users write (posts,
reflections, critiques) has no headings of its own: a heading shows as a bold paragraph, so the
page's heading outline stays the page's.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

POST_TAGS = frozenset(
    {"a", "blockquote", "br", "code", "del", "em", "hr", "li", "ol", "p", "pre", "s", "strong"}
    | {"ul"}  # without it, bullet lists lose their <ul> and leave orphan <li> (WCAG 1.3.1)
    | {"table", "thead", "tbody", "tr", "th", "td"}
)
ALLOWED_TAGS = POST_TAGS | {f"h{level}" for level in range(1, 7)}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
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
    return renderer_preset()


def renderer_preset() -> MarkdownIt:
    """A new display parser: CommonMark, no raw HTML, GFM tables and strikethrough."""
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@cache
def post_renderer() -> MarkdownIt:
    """The display parser for what users write: as renderer(), headings as bold paragraphs."""
    parser = renderer_preset()
    parser.add_render_rule("heading_open", bold_paragraph_open)
    parser.add_render_rule("heading_close", bold_paragraph_close)
    return parser


def bold_paragraph_open(_renderer, _tokens, _index, _options, _env) -> str:
    """Open a heading as a paragraph in bold."""
    return "<p><strong>"


def bold_paragraph_close(_renderer, _tokens, _index, _options, _env) -> str:
    """Close a heading shown as a paragraph in bold."""
    return "</strong></p>\n"


@cache
def inspector() -> MarkdownIt:
    """A parser with raw HTML on, used only to find the raw HTML an author wrote."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """Render content Markdown to sanitised HTML (raw HTML in the source is shown as text)."""
    return sanitised(renderer().render(text), ALLOWED_TAGS)


def render_post_markdown(text: str) -> str:
    """Render what a user wrote to sanitised HTML, without headings of its own."""
    return sanitised(post_renderer().render(text), POST_TAGS)


def sanitised(html: str, tags: frozenset[str]) -> str:
    """The rendered HTML with only these tags, the allowed attributes and https links."""
    return nh3.clean(
        html,
        tags=set(tags),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
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
