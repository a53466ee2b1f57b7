"""Guideline search: ranked, per language, prefix and typo tolerant, synonyms, safe snippets."""

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


def test_modules_holding_more_of_the_words_rank_first(search):
    found = ids(search.search("otitis amoxicillin children"))
    assert found[0] == "aom-children"
    assert "penicillin-allergy-evaluation" in found  # amoxicillin alone: found, ranked lower


def test_a_typed_question_finds_its_module_first(search):
    question = "Should blood cultures come before the first antibiotic dose in sepsis?"
    assert ids(search.search(question))[0] == "sepsis-hour-1-bundle"


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
    spanish = search.search("hemocultivos", "es")
    assert spanish.hits and spanish.corrected_query is None


def test_a_misspelt_drug_is_found(search):
    result = search.search("amoxicilin")
    assert "aom-children" in ids(result)
    assert result.corrected_query == "amoxicillin"


def test_a_word_not_close_to_any_indexed_word_is_left_out_not_guessed(search):
    for language in ("en", "es"):
        result = search.search("ñandú", language)
        assert (result.hits, result.corrected_query, result.unmatched) == ([], None, ["ñandú"])
    result = search.search("ñandú sepsis")
    assert ids(result)[0] == "sepsis-hour-1-bundle"
    assert result.unmatched == ["ñandú"]
    assert result.corrected_query is None  # nothing replaced, only left out


def test_brand_names_search_as_their_generic(search):
    assert search.search("Eliquis").corrected_query == "apixaban"
    assert "af-anticoagulation" in ids(search.search("Eliquis"))
    assert search.search("Amoxil", "es").corrected_query == "amoxicilina"
    assert "aom-children" in ids(search.search("Amoxil", "es"))


def test_spanish_words_search_english_text(search):
    result = search.search("hemocultivos sepsis", "en")
    assert result.corrected_query == "blood cultures sepsis"
    assert ids(result)[0] == "sepsis-hour-1-bundle"
    assert ids(search.search("neumonía", "en"))[0] == "cap-adults-outpatient"


def test_english_words_with_a_spanish_meaning_stay_english(search):
    assert search.search("atrial fibrillation").corrected_query is None


def test_long_queries_are_bounded(search):
    result = search.search("sepsis " + "lactate " * 500, limit=3)
    assert len(result.hits) <= 3
    assert ids(result)[0] == "sepsis-hour-1-bundle"


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
    assert ids(search.search("NEAR AND OR sepsis"))[0] == "sepsis-hour-1-bundle"


def test_empty_query_finds_nothing(search):
    assert search.search("   ").hits == []


def test_plain_text_keeps_link_text_and_drops_markup():
    assert plain_text("**Give** [antibiotics](https://x.example) _now_") == "Give antibiotics now"
