"""Guideline search over the content library: SQLite FTS5 BM25 ranking, rapidfuzz for typos.

Each query word is looked up in the indexed words of the UI language: a known word (or the start
of one) is searched as typed; a word with a synonym (brand → generic, Spanish ↔ English) is
searched as the words it stands for; any other word is replaced by the closest indexed word when
rapidfuzz scores them at least FUZZY_CUTOFF, else left out and reported — never a wrong guess.
"""

from __future__ import annotations

import bisect
import re
import sqlite3
import threading
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from rapidfuzz import fuzz, process

from app.library.loader import Library
from app.library.search_terms import STOP_WORDS, WORD, expand, fold, folded_words, synonyms

QUERY_MAX_CHARS = 300
QUERY_MAX_WORDS = 16
FUZZY_MIN_LENGTH = 5  # shorter words have too many neighbours (near → ear)
FUZZY_CUTOFF = 85.0  # rapidfuzz ratio (0-100): one slip in a 6-letter word scores ~90
# bm25() weights per column: title, recommendation, summary, body.
WEIGHTS = (10.0, 5.0, 3.0, 1.0)
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
MARKDOWN_MARKUP = re.compile(r"[*_#`>|]+")


@dataclass(frozen=True)
class SearchHit:
    """One module found for a query, with a highlighted snippet."""

    module_id: str
    title: str
    snippet: Markup
    rank: float


@dataclass(frozen=True)
class SearchResult:
    """The hits; the words actually searched when some were replaced; typed words left out."""

    hits: list[SearchHit]
    corrected_query: str | None
    unmatched: list[str] = field(default_factory=list)


class GuidelineSearch:
    """An in-memory FTS5 index of every module, per language, built once per library load."""

    def __init__(self, library: Library):
        self._connection = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._connection.execute(
            "CREATE VIRTUAL TABLE docs USING fts5("
            "module_id UNINDEXED, language UNINDEXED, title, recommendation, summary, body, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        rows = list(documents(library))
        self._connection.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", rows)
        self._words = {
            language: sorted(
                {
                    word
                    for row in rows
                    if row[1] == language
                    for text in row[2:]
                    for word in folded_words(text)
                }
            )
            for language in {row[1] for row in rows}
        }
        self._synonyms = synonyms(set(self._words.get("en", [])))

    def search(self, query: str, language: str = "en", limit: int = 10) -> SearchResult:
        """Return modules matching the query's words, those matching most words first."""
        typed = dict.fromkeys(WORD.findall(query[:QUERY_MAX_CHARS]))
        table = self._synonyms.get(language, {})
        vocabulary = self._words.get(language, [])
        terms: list[str] = []
        unmatched: list[str] = []
        replaced = False
        for word in list(typed)[:QUERY_MAX_WORDS]:
            folded = fold(word)
            if folded in STOP_WORDS:
                continue
            found = self._resolve(folded, vocabulary, table)
            terms.extend(term for term in found if term not in terms)
            replaced = replaced or (bool(found) and found != [folded])
            if not found:
                unmatched.append(word)
        hits = self._run(terms, language, min(limit, 25)) if terms else []
        return SearchResult(hits, " ".join(terms) if replaced else None, unmatched)

    def _resolve(self, word: str, vocabulary: list[str], table: dict) -> list[str]:
        """The indexed words a typed word stands for ([] when nothing is close enough)."""
        if self._known(word, vocabulary) or word.isdigit():
            return [word]
        if word in table:
            return [
                term
                for synonym in expand([word], table)
                for term in self._resolve(synonym, vocabulary, {})
            ]
        if len(word) < FUZZY_MIN_LENGTH:
            return []
        close = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return [close[0]] if close else []

    def _run(self, terms: list[str], language: str, limit: int) -> list[SearchHit]:
        """Rank modules by how many terms they hold, then BM25 (each term may be a prefix)."""
        sql = (
            "SELECT module_id, title, "
            f"snippet(docs, -1, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 14), "
            f"bm25(docs, 0, 0, {', '.join(map(str, WEIGHTS))}) AS rank "
            "FROM docs WHERE docs MATCH ? AND language = ? ORDER BY rank"
        )
        with self._lock:
            rows = self._connection.execute(sql, (match_any(terms), language)).fetchall()
            holding = {term: self._modules_with(term, language) for term in terms}
        hits = [SearchHit(row[0], row[1], highlight(row[2]), row[3]) for row in rows]
        hits.sort(
            key=lambda hit: (-sum(hit.module_id in ids for ids in holding.values()), hit.rank)
        )
        return hits[:limit]

    def _modules_with(self, term: str, language: str) -> set[str]:
        """The modules whose text holds a term (caller holds the lock)."""
        sql = "SELECT module_id FROM docs WHERE docs MATCH ? AND language = ?"
        rows = self._connection.execute(sql, (match_any([term]), language)).fetchall()
        return {row[0] for row in rows}

    @staticmethod
    def _known(word: str, vocabulary: list[str]) -> bool:
        """Tell whether some indexed word starts with this one."""
        start = bisect.bisect_left(vocabulary, word)
        return start < len(vocabulary) and vocabulary[start].startswith(word)


def match_any(terms: list[str]) -> str:
    """An FTS5 query for any of the terms, each quoted (never FTS syntax), each a prefix."""
    return " OR ".join(f'"{term}"*' for term in terms)


def documents(library: Library):
    """Yield one row per module and language: the text a clinician would search."""
    for module_id, module in library.modules.items():
        for language in module["languages"]:
            guideline = module["guideline"]
            body = [
                guideline["organization"],
                guideline["title"],
                module["card"]["detail"][language],
                module["case"]["vignette"][language],
            ]
            yield (
                module_id,
                language,
                module["title"][language],
                plain_text(guideline["recommendation"][language]),
                plain_text(guideline.get("summary", {}).get(language, "")),
                plain_text(" ".join(body)),
            )


def plain_text(markdown: str) -> str:
    """Reduce Markdown to words for indexing and snippets: link text kept, markup dropped."""
    text = MARKDOWN_LINK.sub(r"\1", markdown)
    return " ".join(MARKDOWN_MARKUP.sub(" ", text).split())


def highlight(snippet: str) -> Markup:
    """Escape a snippet and turn FTS5's match markers into <mark> elements."""
    safe = str(escape(snippet))
    return Markup(safe.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))
