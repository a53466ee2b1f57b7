"""Load the content library (YAML modules, FHIR ValueSet JSON) into plain, read-only data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from app.json_files import json_fault

SCHEMA_PATH = ("schema", "module.schema.json")
# libyaml's safe loader when available: same safe subset, about six times faster to parse.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CANONICAL_BASE = "https://fhir.bedside.example"


class LibraryError(Exception):
    """A content file that cannot be loaded; the message names the file and the problem."""


class SchemaFileError(LibraryError, ValueError):
    """A JSON Schema file that is missing, not JSON, or not a usable schema."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: not a usable JSON Schema ({reason}).")
        self.reason = reason


@dataclass(frozen=True)
class ValueSet:
    """A flattened value set: its canonical URL and the (system, code) pairs it includes."""

    url: str
    id: str
    title: str
    codes: frozenset[tuple[str, str]]
    displays: dict[tuple[str, str], str] = field(compare=False, hash=False)
    path: Path | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Library:
    """Every module (schema-valid dicts, keyed by id) and every value set (keyed by URL)."""

    modules: dict[str, dict]
    value_sets: dict[str, ValueSet]
    module_paths: dict[str, Path] = field(default_factory=dict, compare=False)


def load_library(content_dir: Path, *, validate: bool = True) -> Library:
    """Load all value sets and modules; raise LibraryError on the first problem."""
    value_set_files = sorted_files(content_dir, "valuesets")
    value_sets = {vs.url: vs for vs in map(load_value_set, value_set_files)}
    modules: dict[str, dict] = {}
    paths: dict[str, Path] = {}
    validator = module_validator(content_dir) if validate else None
    for path in sorted_files(content_dir, "modules"):
        module = load_module(path, validator)
        if module["id"] in modules:
            raise LibraryError(
                f"{path}: id {module['id']!r} is also used by {paths[module['id']]}."
            )
        modules[module["id"]] = module
        paths[module["id"]] = path
    return Library(modules=modules, value_sets=value_sets, module_paths=paths)


def load_module(path: Path, validator: jsonschema.Validator | None = None) -> dict:
    """Read one module YAML file, validating it against the schema when a validator is given."""
    try:
        module = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise LibraryError(f"{path}: cannot be read as YAML ({error}).") from None
    if not isinstance(module, dict):
        raise LibraryError(f"{path}: a module must be a YAML mapping.")
    if validator is not None and not validator.is_valid(module):
        error = jsonschema.exceptions.best_match(validator.iter_errors(module))
        if error is not None:
            raise LibraryError(f"{path}: {describe_schema_error(error)}")
    return module


def load_value_set(path: Path) -> ValueSet:
    """Read one FHIR ValueSet JSON file and flatten its compose.include concepts."""
    try:
        resource = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise LibraryError(f"{path}: cannot be read as JSON ({json_problem(error)}).") from None
    if not isinstance(resource, dict) or resource.get("resourceType") != "ValueSet":
        raise LibraryError(f"{path}: is not a FHIR ValueSet.")
    if not isinstance(resource.get("url"), str):
        raise LibraryError(f"{path}: a ValueSet needs a canonical url.")
    displays = dict(iter_concepts(path, resource))
    return ValueSet(
        url=resource["url"],
        id=resource.get("id", path.stem),
        title=resource.get("title") or resource.get("name") or path.stem,
        codes=frozenset(displays),
        displays=displays,
        path=path,
    )


def json_problem(error: BaseException) -> str:
    """Why a JSON (Schema) file cannot be used, in a few words, without a traceback's detail."""
    if isinstance(error, jsonschema.SchemaError):
        return error.message
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    if isinstance(error, ValueError | RecursionError):
        return json_fault(error)
    return str(error)


def iter_concepts(path: Path, resource: dict):
    """Yield ((system, code), display) for every concept in compose.include."""
    compose = resource.get("compose")
    includes = compose.get("include") if isinstance(compose, dict) else None
    for include in includes if isinstance(includes, list) else []:
        system, concepts = listed_concepts(path, include)
        for concept in concepts:
            code = concept.get("code") if isinstance(concept, dict) else None
            if not isinstance(code, str | int) or isinstance(code, bool) or not str(code).strip():
                raise LibraryError(f"{path}: a concept of {system} has no code.")
            yield (system, str(code)), concept.get("display", "")


def listed_concepts(path: Path, include: object) -> tuple[str, list]:
    """An include's system and its concept list, or LibraryError when either is missing."""
    system = include.get("system") if isinstance(include, dict) else None
    concepts = include.get("concept") if isinstance(include, dict) else None
    if not isinstance(system, str) or not system or not isinstance(concepts, list) or not concepts:
        raise LibraryError(f"{path}: every compose.include needs a system and listed concepts.")
    return system, concepts


@cache
def read_schema(schema_path: Path) -> dict:
    """Read a JSON Schema file and check it against its metaschema, once (the check: ~60 ms)."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def schema_file_validator(schema_path: Path) -> jsonschema.Validator:
    """A Draft 2020-12 validator for a schema file; SchemaFileError naming the file if unusable."""
    try:
        schema = read_schema(schema_path)
    except (OSError, ValueError, RecursionError, jsonschema.SchemaError) as error:
        raise SchemaFileError(schema_path, json_problem(error)) from None
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def module_validator(content_dir: Path) -> jsonschema.Validator:
    """Build a validator for the module schema shipped with the content."""
    return schema_file_validator(content_dir.joinpath(*SCHEMA_PATH))


def describe_schema_error(error: jsonschema.ValidationError) -> str:
    """Say where in the module a schema error is, in the module's own field names."""
    where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"{where}: {error.message}."


def sorted_files(content_dir: Path, folder: str) -> list[Path]:
    """List a content folder's files in a stable order."""
    directory = content_dir / folder
    suffixes = {"valuesets": {".json"}, "modules": {".yaml", ".yml"}}[folder]
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.suffix in suffixes)
