"""Compile the content library once into a (system, code) → modules index for matching."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.library.loader import Library, ValueSet
from cds_hooks.matching import (
    INDICATOR_WEIGHT,
    CompiledModule,
    Criterion,
    LibraryIndexLike,
    TimeBudgetExceeded,
    TimeCheck,
    no_time_limit,
)
from cds_hooks.patient_context import PatientContext

log = logging.getLogger(__name__)


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
        fhirpath=compile_fhirpath(triggers.get("fhirpath"), module["id"]),
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


def compile_fhirpath(spec: dict | None, module_id: str = "") -> FhirPathCondition | None:
    """Compile an optional FHIRPath condition evaluated over a Bundle of the context's data."""
    if not spec:
        return None
    return FhirPathCondition(spec["expression"], module_id)


class FhirPathCondition:
    """A module's FHIRPath condition; its `%variable` chains are evaluated once per call.

    Inside `where(…)` over the Observations, `%context.entry.resource.ofType(Patient)` would
    otherwise walk every resource again for each Observation: quadratic in the patient's data.
    """

    def __init__(self, expression: str, module_id: str):
        from fhirpathpy.parser import parse

        self.module_id = module_id
        self.tree = parse(expression)
        self.constants: dict[str, dict] = {}
        self.tree["children"] = [self.hoisted(child) for child in self.tree["children"]]

    def hoisted(self, node: dict) -> dict:
        """The node with each maximal chain that depends only on `%variables` made a variable."""
        if node.get("type") == "InvocationExpression" and is_constant_chain(node):
            name = f"bedside_constant_{len(self.constants)}"
            self.constants[name] = {"children": [node]}
            return variable_node(name)
        children = node.get("children")
        if children:
            node = {**node, "children": [self.hoisted(child) for child in children]}
        return node

    def __call__(self, context: PatientContext, check_time: TimeCheck = no_time_limit) -> bool:
        """Tell whether the condition holds; an error evaluating it means it does not."""
        from fhirpathpy import apply_parsed_path

        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": TimedResource(r, check_time)}
                for r in context.resources
                if is_resource(r)
            ],
        }
        raw = {"returnRawData": True}
        try:
            variables: dict[str, object] = {}
            for name, tree in self.constants.items():
                variables[name] = apply_parsed_path(bundle, tree, variables, options=raw)
            return apply_parsed_path(bundle, self.tree, variables) == [True]
        except TimeBudgetExceeded:
            raise
        except Exception as error:  # fhirpathpy raises bare Exception on malformed data
            log.warning(
                "FHIRPath condition of module %s not evaluable (%s): treated as not met",
                self.module_id,
                type(error).__name__,
            )
            return False


class TimedResource(dict):
    """A resource that checks the call's deadline each time FHIRPath reads one of its elements."""

    def __init__(self, resource: dict, check_time: TimeCheck):
        super().__init__(resource)
        self.check_time = check_time

    def get(self, key, default=None):
        """Check the deadline, then read the element as a dict does."""
        self.check_time()
        return super().get(key, default)


def is_resource(resource: object) -> bool:
    """Tell whether FHIRPath may read it: a JSON object whose resourceType is a string."""
    return isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)


ITERATING_FUNCTIONS = frozenset({"where", "select", "exists", "all", "repeat"})
FOCUS_READERS = frozenset(
    {"MemberInvocation", "FunctionInvocation", "ThisInvocation", "IndexInvocation"}
    | {"TotalInvocation"}
)


def is_constant_chain(node: dict) -> bool:
    """Tell whether the node is `%variable` followed by members and focus-free functions."""
    if node.get("type") == "TermExpression":
        return node["children"][0].get("type") == "ExternalConstantTerm"
    if node.get("type") != "InvocationExpression":
        return False
    left, invocation = node["children"]
    if not is_constant_chain(left):
        return False
    if invocation["type"] == "MemberInvocation":
        return True
    return invocation["type"] == "FunctionInvocation" and is_focus_free(invocation)


def is_focus_free(invocation: dict) -> bool:
    """Tell whether a function call's arguments never read the focus outside the chain."""
    from fhirpathpy.engine.invocations import invocation_registry

    name_node, *rest = invocation["children"][0]["children"]
    name = name_node["text"]
    params = rest[0]["children"] if rest else []
    known = invocation_registry.get(name)
    if known is None or "variadic" in known:
        return False
    types = known.get("arity", {}).get(len(params))
    if types is None:
        return not params
    return all(
        (kind == "Expr" and name in ITERATING_FUNCTIONS)
        or kind in ("TypeSpecifier", "Identifier")
        or not reads_focus(param)
        for kind, param in zip(types, params, strict=True)
    )


def reads_focus(node: dict) -> bool:
    """Tell whether evaluating the node may read the focus ($this, members, functions)."""
    if node.get("type") in FOCUS_READERS:
        return True
    return any(reads_focus(child) for child in node.get("children") or ())


def variable_node(name: str) -> dict:
    """The parsed form of `%name`."""
    from fhirpathpy.parser import parse

    return parse(f"%{name}")["children"][0]
