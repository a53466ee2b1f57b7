"""Right-to-left readiness: a pseudo-locale page says dir="rtl", and the stylesheet is logical.

Bedside ships no right-to-left language yet. The test-only pseudo-locale `ar` (no catalogue: the
text stays English) proves the page shell turns the direction around, and the stylesheet scan
proves the layout follows it: no physical left or right, only inline-start/end properties.
"""

from __future__ import annotations

import re

import pytest

from app import i18n
from app.settings import REPO_ROOT
from tests.ui.helpers import get, launch

STYLESHEET = REPO_ROOT / "app/static/bedside.css"
PHYSICAL = re.compile(
    r"(?<![\w-])(?:(?:margin|padding|border|inset|scroll-margin|scroll-padding)-(?:left|right)"
    r"(?:-[a-z]+)?|left|right|float|clear)\s*:\s*[^;}]*|text-align\s*:\s*(?:left|right)\b",
    re.IGNORECASE,
)


@pytest.fixture
def pseudo_rtl(monkeypatch):
    """Let the app speak the right-to-left pseudo-locale `ar` for this test."""
    monkeypatch.setattr(i18n, "LANGUAGES", (*i18n.LANGUAGES, "ar"))


def test_a_right_to_left_page_says_so_on_its_html_element(pseudo_rtl, browser, auth_server):
    launch(browser, auth_server)
    page = get(browser, "/app/", query_string={"lang": "ar"})
    assert '<html lang="ar" dir="rtl">' in page


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_left_to_right_pages_keep_the_default_direction(browser, auth_server, language):
    launch(browser, auth_server)
    page = get(browser, "/app/", query_string={"lang": language})
    assert f'<html lang="{language}">' in page


@pytest.mark.parametrize(
    ("code", "direction"),
    [("ar", "rtl"), ("he-IL", "rtl"), ("fa", "rtl"), ("ur", "rtl"), ("fr", "ltr"), ("en", "ltr")],
)
def test_text_direction_of_a_language(code, direction):
    assert i18n.text_direction(code) == direction


def test_the_stylesheet_uses_no_physical_left_or_right():
    css = re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert PHYSICAL.findall(css) == []
    for logical in ("margin-inline-start", "padding-inline-start", "inset-inline-start"):
        assert logical in css
    assert "text-align: start" in css and "border-inline-start" in css


@pytest.mark.parametrize(
    "rule",
    ["a { margin-left: 1rem }", "b { left: 0; }", "th { text-align: right; }", "p{float:left}"],
)
def test_the_scan_finds_physical_properties(rule):
    assert PHYSICAL.findall(rule)
