"""JSON files an operator or a content author gives Bedside: read them, or say in words why not.

Python's json refuses more than a syntax error: a number of more than 4,300 digits (a
ValueError whose advice names a sys function) and arrays or objects nested thousands deep (a
RecursionError). Each reader of a file says the same few words for each.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


class JsonFileProblem(Exception):
    """A JSON file that cannot be used; the message is a clause such as 'is not valid JSON (…)'."""


def read_json_file(path: Path) -> object:
    """Parse a JSON file; JsonFileProblem saying why it cannot be read or is not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise JsonFileProblem(f"cannot be read ({error.strerror})") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError too
        raise JsonFileProblem(f"is not valid JSON ({json_fault(error)})") from None


def json_fault(error: ValueError | RecursionError) -> str:
    """Why a text is not JSON Bedside reads, in a few words without Python's advice."""
    if isinstance(error, RecursionError):
        return "arrays or objects nested too deeply"
    if "integer string conversion" in str(error):
        return f"a number has more than {sys.get_int_max_str_digits():,} digits"
    return str(error)
