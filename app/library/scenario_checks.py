"""Checks of a module's branching scenario: its graph, guideline choices, state and sources.

The schema already fixes the shape; these rules need the whole scenario at once: every link leads
somewhere, everything is reachable, no loop keeps a learner from an outcome, each step has exactly
one guideline choice, choices change only declared variables, and each step cites the module's
guideline. Spanish (or any listed language) is checked for every text by text_checks.
"""

from __future__ import annotations

from collections import Counter

from app.library.findings import Finding, ModuleFile, get, items
from app.library.scenarios import cycle, links, outcomes_by_id, reachable, steps_by_id

SCENARIO = "scenario"


def check_scenario(entry: ModuleFile) -> list[Finding]:
    """Run every scenario rule on a module that declares a scenario."""
    scenario = entry.data.get(SCENARIO)
    if not isinstance(scenario, dict):
        return []
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(entry, scenario))
    return findings


def check_unique_ids(entry: ModuleFile, scenario: dict) -> list[Finding]:
    """Step and outcome ids are unique together; variable ids and a step's choice ids too."""
    nodes = [("steps", i, s.get("id")) for i, s in items(scenario.get("steps"))]
    nodes += [("outcomes", i, o.get("id")) for i, o in items(scenario.get("outcomes"))]
    variables = [("variables", i, v.get("id")) for i, v in items(scenario.get("variables"))]
    findings = repeated(entry, nodes, "step or outcome id")
    findings += repeated(entry, variables, "variable id")
    for index, step in items(scenario.get("steps")):
        choices = [
            ("steps", index, "choices", i, c.get("id")) for i, c in items(step.get("choices"))
        ]
        findings += repeated(entry, choices, "choice id in this step")
    return findings


def check_links(entry: ModuleFile, scenario: dict) -> list[Finding]:
    """`start` names a step; every choice's `next` names a step or an outcome."""
    steps, outcomes = steps_by_id(scenario), outcomes_by_id(scenario)
    findings = []
    if scenario.get("start") not in steps:
        message = f"start {scenario.get('start')!r} is not a step id; name the first step."
        findings.append(entry.error([SCENARIO, "start"], message))
    for step_index, choice_index, target in links(scenario):
        if target not in steps and target not in outcomes:
            path = [SCENARIO, "steps", step_index, "choices", choice_index, "next"]
            message = f"next {target!r} is neither a step nor an outcome; add it or fix the id."
            findings.append(entry.error(path, message))
    return findings


def check_reachable(entry: ModuleFile, scenario: dict) -> list[Finding]:
    """Every step and outcome can be reached from the start."""
    seen = reachable(scenario)
    findings = []
    for kind in ("steps", "outcomes"):
        for index, node in items(scenario.get(kind)):
            if node.get("id") not in seen:
                message = f"{node.get('id')!r} is unreachable from the start; link it or drop it."
                findings.append(entry.error([SCENARIO, kind, index, "id"], message))
    return findings


def check_no_cycle(entry: ModuleFile, scenario: dict) -> list[Finding]:
    """No path loops back to a step it passed: every path ends at an outcome."""
    loop = cycle(scenario)
    if loop is None:
        return []
    message = f"the steps loop ({' → '.join(loop)}); every path must end at an outcome."
    return [entry.error([SCENARIO, "steps"], message)]


def check_one_guideline_choice(entry: ModuleFile, scenario: dict) -> list[Finding]:
    """Each step marks exactly one choice as the guideline's."""
    findings = []
    for index, step in items(scenario.get("steps")):
        count = sum(1 for choice in step.get("choices", []) if choice.get("guideline"))
        if count != 1:
            message = (
                f"{count} choices are marked `guideline: true`; mark exactly one, "
                "the choice the module's guideline recommends."
            )
            findings.append(entry.error([SCENARIO, "steps", index, "choices"], message))
    return findings


def check_known_variables(entry: ModuleFile, scenario: dict) -> list[Finding]:
    """A choice changes only variables the scenario declares."""
    known = {variable.get("id") for _, variable in items(scenario.get("variables"))}
    findings = []
    for step_index, step in items(scenario.get("steps")):
        for choice_index, choice in items(step.get("choices")):
            for name in choice.get("changes", {}) or {}:
                if name not in known:
                    path = [SCENARIO, "steps", step_index, "choices", choice_index, "changes", name]
                    message = f"{name!r} is not a declared variable ({', '.join(sorted(known))})."
                    findings.append(entry.error(path, message))
    return findings


def check_guideline_reference(entry: ModuleFile, scenario: dict) -> list[Finding]:
    """Each step's reference names the module's guideline (by its year), tying rationales to it."""
    year = get(entry.data, "guideline", "year")
    findings = []
    for index, step in items(scenario.get("steps")):
        reference = step.get("reference")
        if isinstance(reference, str) and str(year) not in reference:
            message = (
                f"the reference does not cite the module's guideline ({year}); a scenario "
                "teaches from the module's own source."
            )
            findings.append(entry.error([SCENARIO, "steps", index, "reference"], message))
    return findings


def repeated(entry: ModuleFile, entries: list[tuple], what: str) -> list[Finding]:
    """One error for every repeat of an id (entries end with the id; the rest is the path)."""
    counts = Counter(entry_id for *_, entry_id in entries)
    findings = []
    for *path, entry_id in entries:
        if counts[entry_id] > 1:
            message = f"{what} {entry_id!r} is used {counts[entry_id]} times; ids must be unique."
            findings.append(entry.error([SCENARIO, *path, "id"], message))
    return findings


RULES = (
    check_unique_ids,
    check_links,
    check_reachable,
    check_no_cycle,
    check_one_guideline_choice,
    check_known_variables,
    check_guideline_reference,
)
