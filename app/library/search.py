"""Guideline search over the content library: SQLite FTS5, BM25-ranked, forgiving of typos."""

from __future__ import annotations

import bisect
import difflib
import re
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

from app.library.loader import Library

WORD = re.compile(r"\w+", re.UNICODE)
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
    """The hits, and the query actually run when typos were corrected."""

    hits: list[SearchHit]
    corrected_query: str | None


class GuidelineSearch:
    """An in-memory FTS5 index of every module, per language, built once at start-up."""

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
        self._words = sorted(
            {fold(word) for row in rows for text in row[2:] for word in WORD.findall(text)}
        )

    def search(self, query: str, language: str = "en", limit: int = 10) -> SearchResult:
        """Return modules matching every word of the query, best first."""
        words = [word.lower() for word in WORD.findall(query)][:12]
        if not words:
            return SearchResult([], None)
        hits = self._run(words, language, limit)
        if hits:
            return SearchResult(hits, None)
        corrected = [word if self._known(word) else self._closest_word(word) for word in words]
        if corrected == words:
            return SearchResult([], None)
        return SearchResult(self._run(corrected, language, limit), " ".join(corrected))

    def _run(self, words: list[str], language: str, limit: int) -> list[SearchHit]:
        """Run an FTS5 query that requires every word (prefix match on the last one)."""
        terms = [f'"{word}"' for word in words[:-1]] + [f'"{words[-1]}"*']
        sql = (
            "SELECT module_id, title, "
            f"snippet(docs, -1, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 14), "
            f"bm25(docs, 0, 0, {', '.join(map(str, WEIGHTS))}) AS rank "
            "FROM docs WHERE docs MATCH ? AND language = ? ORDER BY rank LIMIT ?"
        )
        with self._lock:
            rows = self._connection.execute(sql, (" AND ".join(terms), language, limit)).fetchall()
        return [SearchHit(row[0], row[1], highlight(row[2]), row[3]) for row in rows]

    def _known(self, word: str) -> bool:
        """Tell whether some indexed word starts with this one."""
        folded = fold(word)
        start = bisect.bisect_left(self._words, folded)
        return start < len(self._words) and self._words[start].startswith(folded)

    def _closest_word(self, word: str) -> str:
        """Return the indexed word closest to a misspelt one (or the word itself)."""
        if len(word) < 4:
            return word
        close = difflib.get_close_matches(fold(word), self._words, n=1, cutoff=0.75)
        return close[0] if close else word


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


def fold(word: str) -> str:
    """Lower-case a word and strip its accents, as the index does."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def highlight(snippet: str) -> Markup:
    """Escape a snippet and turn FTS5's match markers into <mark> elements."""
    safe = str(escape(snippet))
    return Markup(safe.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))
