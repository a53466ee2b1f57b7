"""`bedside content check`: load every content file, run every check, and report all the findings.

Content files are value sets (content/valuesets, content/measures/valuesets), modules
(content/modules) and outcome measures (content/measures, checked by measure_checks).

Loading never stops at the first bad file: a file that cannot be read is one finding and the
other files are still checked. Each check is a small function in a registry below; add one by
appending it. Module checks take a `ModuleFile`, measure checks a `MeasureFile`, library checks a
`LibraryContext`; all return findings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path

import jsonschema

from app.library import (
    editorial_checks,
    item_writing,
    library_checks,
    measure_checks,
    module_checks,
    scenario_checks,
    source_attributes,
    text_checks,
)
from app.library.findings import (
    CheckReport,
    ContentFile,
    Finding,
    LibraryContext,
    MeasureFile,
    ModuleFile,
    ValueSetFile,
    schema_findings,
)
from app.library.loader import (
    SCHEMA_PATH,
    LibraryError,
    json_problem,
    load_module,
    load_value_set,
    module_validator,
    sorted_files,
)

ModuleCheck = Callable[[ModuleFile], Iterable[Finding]]
MeasureCheck = Callable[[MeasureFile], Iterable[Finding]]
LibraryCheck = Callable[[LibraryContext], Iterable[Finding]]
Progress = Callable[[Sequence[Path]], AbstractContextManager[Iterable[Path]]]

MODULE_CHECKS: list[ModuleCheck] = [
    module_checks.check_references,  # 2
    module_checks.check_codes,  # 3
    text_checks.check_summary,  # 4
    text_checks.check_markdown,  # 5
    text_checks.check_links,  # 6
    module_checks.check_disclosures,  # 7
    text_checks.check_brand_names,  # 8
    module_checks.check_expiry,  # 9
    text_checks.check_translations,  # 10
    module_checks.check_suggestions,  # 11
    module_checks.check_questions,  # 12
    item_writing.check_rationale_and_reference,  # 15
    editorial_checks.check_editorial,  # 13, 14: workflow and provenance
    editorial_checks.check_currency,  # 13: review_by, guideline age, superseded
    scenario_checks.check_scenario,  # branching scenarios
    source_attributes.check_source_attributes,  # HTI-1 source attributes
]
MEASURE_CHECKS: list[MeasureCheck] = [
    measure_checks.check_file_name,
    measure_checks.check_value_set_references,
    measure_checks.check_linked_modules,
    measure_checks.check_age,
    measure_checks.check_hour_windows,
    measure_checks.check_lactate_repeat,
]
LIBRARY_CHECKS: list[LibraryCheck] = [
    library_checks.check_value_set_files,  # 2, 3: stem, id, url, FHIR shape, codes
    library_checks.check_unique_ids,  # 2: modules, value sets, measures
    library_checks.check_unused_value_sets,
    library_checks.check_drafts,  # 13
    item_writing.check_key_position,  # 15
    item_writing.check_key_length,  # 15
]


class ContentDirError(LibraryError):
    """The folder given is not a content library (missing, or without the module schema)."""


def check_library(
    content_dir: Path, *, today: date, progress: Progress | None = None
) -> CheckReport:
    """Check every value set, module and measure under content_dir; `today` decides expiry.

    `progress`, when given, wraps the list of module paths and yields them (e.g. a click progress
    bar). Raises ContentDirError when content_dir is not a content folder.
    """
    content_dir = Path(content_dir)
    validator = schema_validator(content_dir)
    library = LibraryContext(content_dir=content_dir, today=today)
    findings = load_value_sets(library)
    findings.extend(check_modules(library, validator, progress or nullcontext))
    findings.extend(check_measures(library))
    for check in LIBRARY_CHECKS:
        findings.extend(check(library))
    findings.sort(key=lambda finding: finding.file)  # stable: each file's findings stay in order
    return CheckReport(
        findings=findings,
        modules=len(library.modules),
        value_sets=len(library.all_value_set_files),
        measures=len(library.measures),
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
    except LibraryError as error:
        raise ContentDirError(str(error)) from None


def display_path(content_dir: Path, path: Path) -> str:
    """How a file is named in findings: relative to the content folder's parent (`content/…`)."""
    try:
        return path.relative_to(content_dir.parent).as_posix()
    except ValueError:
        return path.as_posix()


def problem_text(error: LibraryError, path: Path) -> str:
    """A loader error's sentence without the file name it starts with."""
    return str(error).removeprefix(f"{path}: ")


def load_value_sets(library: LibraryContext) -> list[Finding]:
    """Read the library's value sets, then the measure-only ones."""
    content_dir, findings = library.content_dir, []
    for path in sorted_files(content_dir, "valuesets"):
        findings.extend(load_value_set_file(library, path, library.value_set_files))
    for path in measure_checks.measure_value_set_paths(content_dir):
        findings.extend(load_value_set_file(library, path, library.measure_value_set_files))
    return findings


def load_value_set_file(
    library: LibraryContext, path: Path, entries: list[ValueSetFile]
) -> list[Finding]:
    """Read one value set file into entries; a file that cannot be loaded is one finding."""
    entry = ValueSetFile(path=path, file=display_path(library.content_dir, path))
    entries.append(entry)
    try:
        entry.resource = json.loads(path.read_text(encoding="utf-8"))
        entry.value_set = load_value_set(path)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        message = f"cannot be read as JSON ({json_problem(error)})."
        return [Finding("error", entry.file, "(file)", message)]
    except (LibraryError, KeyError, TypeError, AttributeError) as error:
        message = problem_text(error, path) if isinstance(error, LibraryError) else repr(error)
        return [Finding("error", entry.file, "(file)", f"cannot be loaded: {message}")]
    return []


def check_modules(
    library: LibraryContext, validator: jsonschema.Validator, progress: Progress
) -> list[Finding]:
    """Read every module (through the progress wrapper) and run the module checks on it."""
    findings: list[Finding] = []
    with progress(sorted_files(library.content_dir, "modules")) as module_paths:
        for path in module_paths:
            file = display_path(library.content_dir, path)
            entry = ModuleFile(path=path, file=file, library=library)
            library.modules.append(entry)
            findings.extend(load_module_file(entry, validator))
            if entry.module is not None:
                findings.extend(run_checks(MODULE_CHECKS, entry, "module"))
    return findings


def check_measures(library: LibraryContext) -> list[Finding]:
    """Read every measure, validate it with load_measures' schema and run the measure checks."""
    content_dir = library.content_dir
    paths = measure_checks.measure_paths(content_dir)
    if not paths:
        return []
    schema_file = display_path(content_dir, measure_checks.schema_path(content_dir))
    validator, findings = measure_checks.measure_schema(content_dir, schema_file)
    for path in paths:
        entry = MeasureFile(path=path, file=display_path(content_dir, path), library=library)
        library.measures.append(entry)
        findings.extend(measure_checks.load_measure_file(entry, validator))
        if entry.measure is not None:
            findings.extend(run_checks(MEASURE_CHECKS, entry, "measure"))
    return findings


def load_module_file(entry: ModuleFile, validator: jsonschema.Validator) -> list[Finding]:
    """Read one module and report every schema error (not just the first)."""
    try:
        entry.module = load_module(entry.path)
    except LibraryError as error:
        return [Finding("error", entry.file, "(file)", problem_text(error, entry.path))]
    findings = schema_findings(entry, entry.module, validator)
    entry.schema_ok = not findings
    return findings


def run_checks(checks: Sequence[Callable], entry: ContentFile, kind: str) -> list[Finding]:
    """Run every check on one module or measure; one that trips over a schema error is skipped."""
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(check(entry))
        except Exception as error:
            if getattr(entry, "schema_ok", False):  # a bug in the checker: say so, do not crash
                message = f"internal error in {check.__name__} ({error!r}); please report it."
                findings.append(entry.error([f"({kind})"], message))
            else:
                message = f"{check.__name__} skipped until the schema errors above are fixed."
                findings.append(entry.finding("info", [f"({kind})"], message))
    return findings
