"""Load each content library once per test session: every app built after the first gets a copy.

Nearly every test builds an app, and building one loads the library: YAML parsing plus JSON Schema
validation of every module, most of the app's start-up time. The loaded library is a pure function
of the content files, so the first load of a given content is kept and later loads get a private
copy (a pickle round trip, a fraction of a load), which a test may change without touching
another test's copy. The key is the files' bytes, not their paths or times: a test that edits a
module in its own content folder gets a real load, and a load that fails is never kept.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app import cds_services
from app.library import loader
from app.library.loader import Library

LIBRARY_FOLDERS = ("schema", "valuesets", "modules")


class LibraryCache:
    """Loaded libraries kept as pickles, keyed by the content a load reads."""

    def __init__(self):
        self._pickles: dict[tuple[str, bool], bytes] = {}

    def load_library(self, content_dir: Path, *, validate: bool = True) -> Library:
        """The library in content_dir, loaded for real the first time its content is seen."""
        key = (content_digest(Path(content_dir)), validate)
        kept = self._pickles.get(key)
        if kept is None:
            library = loader.load_library(content_dir, validate=validate)
            self._pickles[key] = pickle.dumps(library, protocol=pickle.HIGHEST_PROTOCOL)
            return library
        return pickle.loads(kept)


def content_digest(content_dir: Path) -> str:
    """A digest of every file the loader may read, by name and bytes."""
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


@contextmanager
def libraries_loaded_once() -> Iterator[LibraryCache]:
    """Route the app's start-up library load through one cache while the context lasts."""
    cache = LibraryCache()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cds_services, "load_library", cache.load_library)
        yield cache
