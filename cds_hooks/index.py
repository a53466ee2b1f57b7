"""Compile the content library once into a (system, code) → modules index for matching."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from app.library.loader import Library, ValueSet
from cds_hooks.matching import INDICATOR_WEIGHT, CompiledModule, Criterion, LibraryIndexLike
from cds_hooks.patient_context import PatientContext


class UnknownValueSet(Exception):
    """A module refers to something the library does not have (e.g. an unknown value set)."""


@dataclass
class LibraryIndex(LibraryIndexLike):
    """Compiled modules plus the lookup from a code to the modules it may trigger."""

    modules: Mapping[str, CompiledModule]
    by_code: Mapping[tuple[str, str], frozenset[str]]
    criterion_codes: frozenset[tuple[str, str]] = frozenset()

    def candidates(self, codes: Iterable[tuple[str, str]]) -> set[str]:
        """Return the ids of modules indexed under any of the codes."""
        found: set[str] = set()
        for code in codes:
            found.update(self.by_code.get(code, ()))
        return found


def compile_library(library: Library) -> LibraryIndex:
    """Compile every module's triggers and index its positive codes."""
    modules: dict[str, CompiledModule] = {}
    by_code: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for module_id, module in library.modules.items():
        compiled = compile_module(module, library.value_sets)
        modules[module_id] = compiled
        for criterion in (*compiled.all_of, *compiled.any_of):
            for code in criterion.codes:
                by_code[code].add(module_id)
    frozen = {code: frozenset(ids) for code, ids in by_code.items()}
    return LibraryIndex(modules=modules, by_code=frozen, criterion_codes=codes_in(modules))


def codes_in(modules: Mapping[str, CompiledModule]) -> frozenset[tuple[str, str]]:
    """Every code any criterion (including exclusions) can match: nothing else can matter."""
    criteria = (c for m in modules.values() for c in (*m.all_of, *m.any_of, *m.none_of))
    return frozenset(code for criterion in criteria for code in codes_of(criterion))


def codes_of(criterion: Criterion) -> frozenset[tuple[str, str]]:
    """A criterion's own codes and those of its `unless` criteria."""
    return criterion.codes.union(*(codes_of(other) for other in criterion.unless))


def compile_module(module: dict, value_sets: Mapping[str, ValueSet]) -> CompiledModule:
    """Compile one schema-valid module dict."""
    triggers = module["triggers"]
    age = triggers.get("age", {})

    def criteria(key: str) -> tuple[Criterion, ...]:
        return tuple(compile_criterion(item, value_sets) for item in triggers.get(key, ()))

    return CompiledModule(
        module_id=module["id"],
        hooks=frozenset(triggers["hooks"]),
        all_of=criteria("all_of"),
        any_of=criteria("any_of"),
        none_of=criteria("none_of"),
        min_years=age.get("min_years"),
        max_years=age.get("max_years"),
        sex=triggers.get("sex"),
        indicator_weight=INDICATOR_WEIGHT[module["card"]["indicator"]],
        fhirpath=compile_fhirpath(triggers.get("fhirpath")),
    )


def compile_criterion(item: dict, value_sets: Mapping[str, ValueSet]) -> Criterion:
    """Compile one `{kind: {value_set, …}}` criterion."""
    ((kind, spec),) = item.items()
    value_set = value_sets.get(spec["value_set"])
    if value_set is None:
        raise UnknownValueSet(f"unknown value set {spec['value_set']}")
    return Criterion(
        kind=kind,
        codes=value_set.codes,
        name=spec.get("as"),
        comparator=spec.get("comparator"),
        value=spec.get("value"),
        unit=spec.get("unit"),
        also_units=dict(spec.get("also_units", {})),
        within_hours=spec.get("within_hours"),
        any_status=bool(spec.get("any_status", False)),
        persistent_days=spec.get("persistent_days"),
        unless=tuple(compile_criterion(other, value_sets) for other in spec.get("unless", ())),
    )


def compile_fhirpath(spec: dict | None) -> Callable[[PatientContext], bool] | None:
    """Compile an optional FHIRPath condition evaluated over a Bundle of the context's data."""
    if not spec:
        return None
    from fhirpathpy import compile as compile_expression

    expression = compile_expression(spec["expression"])

    def holds(context: PatientContext) -> bool:
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": resource} for resource in context.resources],
        }
        return expression(bundle) == [True]

    return holds
