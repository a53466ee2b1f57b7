"""`bedside content check`: load every content file, run every check, and report all the findings.

Loading never stops at the first bad file: a file that cannot be read is one finding and the
other files are still checked. Each check is a small function in a registry below; add one by
appending it. Module checks take a `ModuleFile`, library checks a `LibraryContext`; both return
findings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path

import jsonschema

from app.library import brands, credit_checks, library_checks, module_checks, text_checks
from app.library.findings import (
    CheckReport,
    Finding,
    LibraryContext,
    ModuleFile,
    ValueSetFile,
    field_path,
)
from app.library.loader import (
    SCHEMA_PATH,
    LibraryError,
    load_module,
    load_value_set,
    module_validator,
    sorted_files,
)

ModuleCheck = Callable[[ModuleFile], Iterable[Finding]]
LibraryCheck = Callable[[LibraryContext], Iterable[Finding]]
Progress = Callable[[Sequence[Path]], AbstractContextManager[Iterable[Path]]]

MODULE_CHECKS: list[ModuleCheck] = [
    module_checks.check_references,  # 2
    module_checks.check_codes,  # 3
    text_checks.check_summary,  # 4
    text_checks.check_markdown,  # 5
    text_checks.check_links,  # 6
    credit_checks.check_disclosures,  # 7
    brands.check_brand_names,  # 8
    credit_checks.check_expiry,  # 9
    text_checks.check_translations,  # 10
    module_checks.check_suggestions,  # 11
    credit_checks.check_questions,  # 12
    credit_checks.check_review,  # 13
]
LIBRARY_CHECKS: list[LibraryCheck] = [
    library_checks.check_value_set_files,  # 2, 3: stem, id, url, FHIR shape, codes
    library_checks.check_unique_ids,  # 2
    library_checks.check_unused_value_sets,
    library_checks.check_drafts,  # 13
]
MAX_MESSAGE = 300
REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")


class ContentDirError(LibraryError):
    """The folder given is not a content library (missing, or without the module schema)."""


def check_library(
    content_dir: Path, *, today: date, progress: Progress | None = None
) -> CheckReport:
    """Check every value set and module under content_dir; `today` decides expiry.

    `progress`, when given, wraps the list of module paths and yields them (e.g. a click progress
    bar). Raises ContentDirError when content_dir is not a content folder.
    """
    content_dir = Path(content_dir)
    validator = schema_validator(content_dir)
    library = LibraryContext(content_dir=content_dir, today=today)
    findings: list[Finding] = []
    for path in sorted_files(content_dir, "valuesets"):
        findings.extend(load_value_set_file(library, path))
    paths = sorted_files(content_dir, "modules")
    with (progress or nullcontext)(paths) as module_paths:
        for path in module_paths:
            entry = ModuleFile(path=path, file=display_path(content_dir, path), library=library)
            library.modules.append(entry)
            findings.extend(load_module_file(entry, validator))
            if entry.module is not None:
                findings.extend(run_module_checks(entry))
    for check in LIBRARY_CHECKS:
        findings.extend(check(library))
    findings.sort(key=lambda finding: finding.file)  # stable: each file's findings stay in order
    return CheckReport(
        findings=findings, modules=len(paths), value_sets=len(library.value_set_files)
    )


def schema_validator(content_dir: Path) -> jsonschema.Validator:
    """The module schema's validator, or ContentDirError when content_dir has no usable schema."""
    if not content_dir.is_dir():
        raise ContentDirError(f"{content_dir}: no such folder.")
    schema_path = content_dir.joinpath(*SCHEMA_PATH)
    if not schema_path.is_file():
        raise ContentDirError(
            f"{content_dir}: not a content folder (no {'/'.join(SCHEMA_PATH)} in it)."
        )
    try:
        return module_validator(content_dir)
    except (OSError, ValueError, jsonschema.SchemaError) as error:
        raise ContentDirError(f"{schema_path}: not a usable JSON Schema ({error}).") from None


def display_path(content_dir: Path, path: Path) -> str:
    """How a file is named in findings: relative to the content folder's parent (`content/…`)."""
    try:
        return path.relative_to(content_dir.parent).as_posix()
    except ValueError:
        return path.as_posix()


def problem_text(error: LibraryError, path: Path) -> str:
    """A loader error's sentence without the file name it starts with."""
    return str(error).removeprefix(f"{path}: ")


def load_value_set_file(library: LibraryContext, path: Path) -> list[Finding]:
    """Read one value set file into the library; a file that cannot be loaded is one finding."""
    entry = ValueSetFile(path=path, file=display_path(library.content_dir, path))
    library.value_set_files.append(entry)
    try:
        entry.resource = json.loads(path.read_text(encoding="utf-8"))
        entry.value_set = load_value_set(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return [Finding("error", entry.file, "(file)", f"cannot be read as JSON ({error}).")]
    except (LibraryError, KeyError, TypeError, AttributeError) as error:
        message = problem_text(error, path) if isinstance(error, LibraryError) else repr(error)
        return [Finding("error", entry.file, "(file)", f"cannot be loaded: {message}")]
    return []


def load_module_file(entry: ModuleFile, validator: jsonschema.Validator) -> list[Finding]:
    """Read one module and report every schema error (not just the first)."""
    try:
        entry.module = load_module(entry.path)
    except LibraryError as error:
        return [Finding("error", entry.file, "(file)", problem_text(error, entry.path))]
    errors = sorted(
        validator.iter_errors(entry.module),
        key=lambda error: ([str(part) for part in error.absolute_path], error.message),
    )
    entry.schema_ok = not errors
    return [schema_finding(entry, error) for error in errors]


def schema_finding(entry: ModuleFile, error: jsonschema.ValidationError) -> Finding:
    """One schema error as a finding naming the field and saying how to fix it."""
    parts = list(error.absolute_path)
    message = error.message
    if error.validator == "required" and (match := REQUIRED.match(message)):
        parts.append(match.group("name"))
        message = "is required but missing; add it (see content/FORMAT.md)."
    elif error.validator == "additionalProperties":
        message += "; remove it or fix its spelling."
    elif error.validator == "type" and isinstance(error.instance, date):
        message = f"YAML read a date here; quote it: '{error.instance.isoformat()}'."
    else:
        message += "; see content/FORMAT.md and content/schema/module.schema.json."
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return Finding("error", entry.file, field_path(parts), f"schema: {message}")


def run_module_checks(entry: ModuleFile) -> list[Finding]:
    """Run every module check; a check that trips over a schema-invalid module is skipped."""
    findings: list[Finding] = []
    for check in MODULE_CHECKS:
        try:
            findings.extend(check(entry))
        except Exception as error:
            if entry.schema_ok:  # a bug in the checker: say so instead of crashing the run
                message = f"internal error in {check.__name__} ({error!r}); please report it."
                findings.append(Finding("error", entry.file, "(module)", message))
            else:
                message = f"{check.__name__} skipped until the schema errors above are fixed."
                findings.append(Finding("info", entry.file, "(module)", message))
    return findings
