"""Writing a command's output file: one sentence, not a traceback, when it cannot be written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError writing a file (a missing folder, a file in the way) into one sentence."""
    try:
        yield
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror or error}.") from None
