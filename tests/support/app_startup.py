"""An app's start-up work on unchanging inputs, done once per test session instead of per app.

Nearly every test builds an app, and most of a build went into work whose result depends only on
inputs that do not change between tests: loading the content library (YAML parsing and a JSON
Schema validation of every module), compiling it into the CDS index, folding its words for the
search index, and, in demo mode, generating two 2048-bit RSA keys. Each is kept here the first
time and reused:

- a library is keyed by the bytes of the files the loader reads (a test that edits a module in its
  own content folder gets a real load; a failed load is never kept) and every app gets its own
  copy (a pickle round trip), so a test that changes its app's library changes no one else's;
- the compiled index of a kept library is shared: nothing writes to it after compilation;
- word folding is a pure function of the word, so its results are memoized;
- the demo RSA keys are kept per key id: every demo instance still writes its own credentials
  file with its own client secret, but signs with the session's key (no test compares two demo
  instances' keys, and one that did would fail, not pass silently).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import pickle
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app import cds_services
from app.devtools import smart_auth_keys
from app.library import loader, search_terms
from app.library.loader import Library
from cds_hooks import index

LIBRARY_FOLDERS = ("schema", "valuesets", "modules")


class StartupCache:
    """Libraries (as pickles) and their compiled indexes, keyed by the content a load reads."""

    def __init__(self):
        self._pickles: dict[tuple[str, bool], bytes] = {}
        self._indexes: dict[tuple[str, bool], index.LibraryIndex] = {}
        self._keys_of_copies: dict[int, tuple[weakref.ref, tuple[str, bool]]] = {}

    def load_library(self, content_dir: Path, *, validate: bool = True) -> Library:
        """The library in content_dir, loaded for real the first time its content is seen."""
        key = (content_digest(Path(content_dir)), validate)
        kept = self._pickles.get(key)
        if kept is None:
            library = loader.load_library(content_dir, validate=validate)
            self._pickles[key] = pickle.dumps(library, protocol=pickle.HIGHEST_PROTOCOL)
        else:
            library = pickle.loads(kept)
        self._keys_of_copies[id(library)] = (weakref.ref(library), key)
        return library

    def compile_library(self, library: Library) -> index.LibraryIndex:
        """The index of a library this cache handed out, compiled once per content."""
        key = self._key_of(library)
        compiled = self._indexes.get(key) if key is not None else None
        if compiled is None:
            compiled = index.compile_library(library)
            if key is not None:
                self._indexes[key] = compiled
        return compiled

    def _key_of(self, library: Library) -> tuple[str, bool] | None:
        """The content key of a library loaded through this cache (None for any other)."""
        reference, key = self._keys_of_copies.get(id(library), (None, None))
        if reference is None or reference() is not library:
            return None
        return key


def content_digest(content_dir: Path) -> str:
    """A digest of the folder's path and of every file the loader may read, by name and bytes."""
    digest = hashlib.sha256(str(content_dir.resolve()).encode())
    for folder in LIBRARY_FOLDERS:
        directory = content_dir / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.is_file():
                digest.update(f"\0{folder}/{path.name}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def rsa_key_per_kid(generate):
    """Wrap the demo key generator so that each (kid, alg) is generated once, then copied."""
    generated = functools.cache(generate)

    def rsa_key(kid: str, alg: str) -> dict:
        """A private JWK for this kid and alg, the same all session."""
        return copy.deepcopy(generated(kid, alg))

    return rsa_key


@contextmanager
def startup_done_once() -> Iterator[StartupCache]:
    """Route the apps' start-up work through the session's caches while the context lasts."""
    cache = StartupCache()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cds_services, "load_library", cache.load_library)
        patch.setattr(cds_services, "compile_library", cache.compile_library)
        patch.setattr(search_terms, "fold", functools.cache(search_terms.fold))
        patch.setattr(smart_auth_keys, "_rsa_key", rsa_key_per_kid(smart_auth_keys._rsa_key))
        yield cache
