"""Load practice measures (content/measures/*.yaml) and resolve their value sets to code sets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import jsonschema
import yaml

from app.library.loader import (
    LibraryError,
    ValueSet,
    describe_schema_error,
    load_value_set,
    schema_file_validator,
)

MEASURES_FOLDER = "measures"
SCHEMA_FILE = "measure.schema.json"
VALUE_SET_FOLDERS = (("valuesets",), (MEASURES_FOLDER, "valuesets"))

Code = tuple[str, str]


class MeasureError(Exception):
    """A measure file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class MeasureDefinition:
    """One measure: metadata, computable criteria and the codes of every value set it uses."""

    id: str
    version: str
    kind: str
    title: Mapping[str, str]
    direction: str
    moore_level: int
    modules: tuple[str, ...]
    criteria: Mapping = field(hash=False)
    document: Mapping = field(hash=False, compare=False)
    value_sets: Mapping[str, frozenset[Code]] = field(hash=False, compare=False)
    path: Path | None = field(default=None, compare=False)

    def codes(self, *keys: str) -> frozenset[Code]:
        """Return the union of the value sets listed at criteria[keys...]['value_sets']."""
        return self.code_unions[keys]

    @cached_property
    def code_unions(self) -> dict[tuple[str, ...], frozenset[Code]]:
        """Each `value_sets` list's union of codes, by its key path in the criteria (made once).

        The measures ask for these unions per patient and encounter; building them on every call
        was the largest single cost of evaluating an export.
        """
        return {
            path: frozenset().union(*(self.value_sets[url] for url in urls))
            for path, urls in value_set_lists(self.criteria)
        }

    @property
    def higher_is_better(self) -> bool:
        """Whether a higher rate is the better one."""
        return self.direction == "higher-is-better"


def load_measures(content_dir: Path) -> dict[str, MeasureDefinition]:
    """Load and validate every measure under content_dir/measures, keyed by id."""
    content_dir = Path(content_dir)
    value_sets = load_measure_value_sets(content_dir)
    try:
        validator = measure_validator(content_dir)
    except LibraryError as error:
        raise MeasureError(str(error)) from None
    measures: dict[str, MeasureDefinition] = {}
    for path in sorted((content_dir / MEASURES_FOLDER).glob("*.yaml")):
        measure = load_measure(path, value_sets, validator)
        if measure.id in measures:
            raise MeasureError(
                f"{path}: id {measure.id!r} is also used by {measures[measure.id].path}."
            )
        measures[measure.id] = measure
    return measures


def load_measure(
    path: Path, value_sets: Mapping[str, ValueSet], validator: jsonschema.Validator
) -> MeasureDefinition:
    """Read one measure YAML file, validate it and resolve its value sets."""
    document = read_yaml(path)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise MeasureError(f"{path}: {describe_schema_error(error)}")
    if document["id"] != path.stem:
        raise MeasureError(f"{path}: id {document['id']!r} must match the file name.")
    used: dict[str, frozenset[Code]] = {}
    for url in value_set_urls(document["criteria"]):
        if url not in value_sets:
            raise MeasureError(f"{path}: value set {url} is not in the content library.")
        used[url] = value_sets[url].codes
    return MeasureDefinition(
        id=document["id"],
        version=document["version"],
        kind=document["kind"],
        title=document["title"],
        direction=document["direction"],
        moore_level=document["moore_level"],
        modules=tuple(document["modules"]),
        criteria=document["criteria"],
        document=document,
        value_sets=used,
        path=path,
    )


def load_measure_value_sets(content_dir: Path) -> dict[str, ValueSet]:
    """Load Bedside's value sets and the measure-only ones, keyed by canonical URL."""
    found: dict[str, ValueSet] = {}
    for folder in VALUE_SET_FOLDERS:
        for path in sorted(content_dir.joinpath(*folder).glob("*.json")):
            try:
                value_set = load_value_set(path)
            except LibraryError as error:
                raise MeasureError(str(error)) from None
            if value_set.url in found:
                raise MeasureError(
                    f"{path}: {value_set.url} is also defined by {found[value_set.url].path}."
                )
            found[value_set.url] = value_set
    return found


def value_set_urls(node: object) -> Iterator[str]:
    """Yield every URL listed under a `value_sets` key anywhere in the criteria."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "value_sets" and isinstance(value, list):
                yield from value
            else:
                yield from value_set_urls(value)


def value_set_lists(
    node: object, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], list[str]]]:
    """Yield (key path, URLs) for every `value_sets` list anywhere in the criteria."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "value_sets" and isinstance(value, list):
                yield path, value
            else:
                yield from value_set_lists(value, (*path, key))


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping or raise MeasureError."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MeasureError(f"{path}: cannot be read as YAML ({error}).") from None
    if not isinstance(document, dict):
        raise MeasureError(f"{path}: a measure must be a YAML mapping.")
    return document


def measure_validator(content_dir: Path) -> jsonschema.Validator:
    """Build a validator for the measure schema shipped with the content (else SchemaFileError)."""
    return schema_file_validator(content_dir / MEASURES_FOLDER / SCHEMA_FILE)
