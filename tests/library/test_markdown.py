"""Markdown renders safely (no raw HTML, https links with rel); raw HTML is found in source."""

from __future__ import annotations

from app.library.markdown import (
    links_in,
    raw_html_in,
    render_markdown,
    render_post_markdown,
    structure_of,
)


def test_renders_commonmark_with_tables_and_strikethrough():
    html = render_markdown("# Title\n\n- **bold** ~~old~~\n\n| a | b |\n|--:|---|\n| 1 | 2 |\n")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong> <s>old</s>" in html
    assert "<td>1</td>" in html  # no style attribute: the pages' CSP allows no inline style
    assert "style=" not in html


def test_what_users_write_has_no_headings_and_no_style():
    source = "# Title\n\n###### Small *one*\n\nSetext\n---\n\n| a | b |\n|:-:|--:|\n| 1 | 2 |\n"
    html = render_post_markdown(source)
    assert "<h" not in html.replace("<hr", "")
    assert "<p><strong>Title</strong></p>" in html
    assert "<p><strong>Small <em>one</em></strong></p>" in html
    assert "<p><strong>Setext</strong></p>" in html
    assert "<td>1</td>" in html and "style=" not in html
    assert render_markdown("# Title") == "<h1>Title</h1>\n"  # content keeps its headings


def test_raw_html_is_shown_as_text_never_run():
    html = render_markdown('<script>alert(1)</script>\n\nhi <img src=x onerror="alert(1)">')
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_links_get_rel_and_only_https_survives():
    html = render_markdown("[a](https://example.org) [b](http://example.org) [c](javascript:x)")
    assert '<a href="https://example.org" rel="noopener noreferrer">a</a>' in html
    assert 'href="http://example.org"' not in html
    assert 'href="javascript' not in html


def test_raw_html_in_finds_tags_but_not_code():
    source = (
        "Give <b>fluids</b>.\n\n<div class='x'>block</div>\n\n`<i>` and\n\n    <pre>code</pre>\n"
    )
    assert raw_html_in(source) == ["<b>", "</b>", "<div class='x'>", "</div>"]
    assert raw_html_in("lactate <2 mmol/L and a < b") == []
    assert raw_html_in("note <!-- hidden -->") == ["<!-- hidden -->"]


def test_links_in_finds_links_images_autolinks_and_bare_urls():
    source = (
        "[a](https://a.org) ![i](https://i.org/x.png) <https://auto.org> see http://bare.org/p.\n"
    )
    assert links_in(source) == [
        "https://a.org",
        "https://i.org/x.png",
        "https://auto.org",
        "http://bare.org/p",
    ]


def test_structure_counts_headings_and_list_items():
    counts = structure_of("## A\n\n- one\n- two\n\n1. three\n")
    assert counts["heading_open"] == 1
    assert counts["list_item_open"] == 3
