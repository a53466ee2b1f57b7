"""Folders Bedside may not write, even when the tests run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHATTR = shutil.which("chattr")


@contextmanager
def unwritable(folder: Path) -> Iterator[str]:
    """Forbid creating anything in the folder until the block ends; yield the error's words.

    Root writes a chmod 555 folder: it is made immutable (chattr +i) instead, where it can be.
    """
    immutable = (
        CHATTR is not None
        and subprocess.run([CHATTR, "+i", str(folder)], capture_output=True).returncode == 0
    )
    if not immutable:
        folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this root cannot make a folder unwritable (no chattr +i)")
        yield "Operation not permitted" if immutable else "Permission denied"
    finally:
        if immutable:
            subprocess.run([CHATTR, "-i", str(folder)], check=True)
        folder.chmod(0o755)


def folder_sentence(ledger: Path) -> str:
    """What a command says of a ledger it cannot open in its unwritable folder."""
    return (
        f"The ledger at {ledger} cannot be used where it is (unable to open database file): its "
        "folder is not writable; make it writable, or copy the ledger (with its -wal file, if "
        "any) to a folder that is."
    )
