"""Guideline search: ranked, per language, prefix and typo tolerant, safe snippets."""

from __future__ import annotations

import pytest

from app.library.loader import load_library
from app.library.search import GuidelineSearch, highlight, plain_text
from app.settings import REPO_ROOT


@pytest.fixture(scope="module")
def search():
    """An index of the shipped library."""
    return GuidelineSearch(load_library(REPO_ROOT / "content"))


def ids(result):
    """The module ids of a result, best first."""
    return [hit.module_id for hit in result.hits]


def test_title_words_rank_their_module_first(search):
    assert ids(search.search("sepsis"))[0] == "sepsis-hour-1-bundle"
    assert ids(search.search("metformin egfr"))[0] == "metformin-egfr"


def test_every_word_must_match(search):
    assert "sepsis-hour-1-bundle" not in ids(search.search("sepsis otitis"))


def test_the_last_word_matches_as_a_prefix_while_typing(search):
    assert "metformin-egfr" in ids(search.search("metfor"))


def test_typos_are_corrected_and_said(search):
    result = search.search("anticoagulaton atrial")
    assert "af-anticoagulation" in ids(result)
    assert result.corrected_query == "anticoagulation atrial"


def test_spanish_is_searched_in_spanish_with_or_without_accents(search):
    assert "cap-adults-outpatient" in ids(search.search("neumonía", "es"))
    assert "cap-adults-outpatient" in ids(search.search("neumonia", "es"))


def test_each_language_searches_its_own_text(search):
    assert search.search("hemocultivos", "es").hits
    english = search.search("hemocultivos", "en")
    assert english.hits == [] or english.corrected_query is not None  # never an exact match


def test_snippets_are_highlighted(search):
    (hit, *_) = search.search("lactate").hits
    assert "<mark>" in hit.snippet


def test_snippet_text_is_escaped():
    assert highlight("<b>x</b> \x02lactate\x03") == "&lt;b&gt;x&lt;/b&gt; <mark>lactate</mark>"


@pytest.mark.parametrize("query", ['"sepsis"', "sepsis*", "sepsis)", "(sepsis", "sepsis:"])
def test_fts_syntax_in_queries_is_just_text(search, query):
    assert ids(search.search(query))[0] == "sepsis-hour-1-bundle"


def test_operator_words_are_searched_as_words(search):
    assert search.search("NEAR AND OR").hits == []


def test_empty_query_finds_nothing(search):
    assert search.search("   ").hits == []


def test_plain_text_keeps_link_text_and_drops_markup():
    assert plain_text("**Give** [antibiotics](https://x.example) _now_") == "Give antibiotics now"
