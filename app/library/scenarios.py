"""Branching case scenarios as pure data: walk a module's `scenario` block along chosen decisions.

A scenario is a directed graph without cycles: steps offer choices, each choice leads to another
step or to a terminal outcome and changes the patient's state (named vitals and labs, the clock).
`walk` replays a learner's decisions from the start; `guideline_walk` follows the guideline's
choice at every step, so the debrief can set the two paths side by side. No Flask, no SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

State = Mapping[str, float]
Content = Mapping[str, Any]  # a scenario, step or choice as loaded from the module YAML
Node = dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """One step of a path: the choice made there and the patient's state before and after it."""

    step: Node
    choice: Node
    before: State
    after: State
    time_before: int
    time_after: int

    @property
    def followed_guideline(self) -> bool:
        """Tell whether the choice was the guideline's."""
        return bool(self.choice.get("guideline"))

    def changes(self) -> list[tuple[str, float, float]]:
        """(variable id, before, after) for every variable the choice changed."""
        return [
            (name, self.before[name], value)
            for name, value in self.after.items()
            if self.before.get(name) != value
        ]


@dataclass(frozen=True)
class Walk:
    """A path through a scenario: the decisions made, then the waiting step or the outcome."""

    decisions: tuple[Decision, ...]
    current_step: Node | None
    outcome: Node | None
    state: State
    time: int

    @property
    def finished(self) -> bool:
        """Tell whether the path reached a terminal outcome."""
        return self.outcome is not None

    @property
    def guideline_choices(self) -> int:
        """How many decisions on the path were the guideline's."""
        return sum(1 for decision in self.decisions if decision.followed_guideline)

    @property
    def last(self) -> Decision | None:
        """The latest decision, if any."""
        return self.decisions[-1] if self.decisions else None


def walk(scenario: Content, chosen: Mapping[str, str]) -> Walk:
    """Follow `chosen` (step id → choice id) from the start until a step without a valid choice."""
    steps, outcomes = steps_by_id(scenario), outcomes_by_id(scenario)
    state: dict[str, float] = initial_state(scenario)
    time = int(scenario.get("time", {}).get("start", 0))
    decisions: list[Decision] = []
    step = steps.get(scenario["start"])
    while step is not None:
        choice = choice_by_id(step, chosen.get(step["id"]))
        if choice is None:
            return Walk(tuple(decisions), step, None, state, time)
        after = {**state, **choice.get("changes", {})}
        elapsed = time + int(choice.get("after", 0))
        decisions.append(Decision(step, choice, state, after, time, elapsed))
        state, time = after, elapsed
        if choice["next"] in outcomes:
            return Walk(tuple(decisions), None, outcomes[choice["next"]], state, time)
        step = steps.get(choice["next"])
    return Walk(tuple(decisions), None, None, state, time)  # a broken link: content check refuses


def guideline_walk(scenario: Content) -> Walk:
    """The path that takes the guideline's choice at every step."""
    chosen = {}
    for step in scenario["steps"]:
        choice = guideline_choice(step)
        if choice is not None:
            chosen[step["id"]] = choice["id"]
    return walk(scenario, chosen)


def guideline_choice(step: Content) -> Node | None:
    """The step's guideline choice (the first, if content check was ignored)."""
    return next((choice for choice in step["choices"] if choice.get("guideline")), None)


def choice_by_id(step: Content, choice_id: str | None) -> Node | None:
    """The step's choice with this id, or None."""
    return next((choice for choice in step["choices"] if choice["id"] == choice_id), None)


def initial_state(scenario: Content) -> dict[str, float]:
    """Every variable's starting value, by id."""
    return {variable["id"]: variable["value"] for variable in scenario.get("variables", [])}


def steps_by_id(scenario: Content) -> dict[str, Node]:
    """The scenario's steps by id."""
    return {step["id"]: step for step in scenario.get("steps", [])}


def outcomes_by_id(scenario: Content) -> dict[str, Node]:
    """The scenario's terminal outcomes by id."""
    return {outcome["id"]: outcome for outcome in scenario.get("outcomes", [])}


def links(scenario: Content) -> Iterator[tuple[int, int, str]]:
    """(step index, choice index, next id) for every choice of every step."""
    for step_index, step in enumerate(scenario.get("steps", [])):
        for choice_index, choice in enumerate(step.get("choices", [])):
            yield step_index, choice_index, choice.get("next")


def reachable(scenario: Content) -> set[str]:
    """Ids of the steps and outcomes a path from the start can reach."""
    steps = steps_by_id(scenario)
    seen: set[str] = set()
    waiting = [scenario.get("start")]
    while waiting:
        node = waiting.pop()
        if not isinstance(node, str) or node in seen:
            continue
        seen.add(node)
        waiting.extend(choice.get("next") for choice in steps.get(node, {}).get("choices", []))
    return seen


def cycle(scenario: Content) -> list[str] | None:
    """Step ids forming a loop (the first found, closed on its first id), or None."""
    steps = steps_by_id(scenario)
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> list[str] | None:
        """Depth-first search that reports the trail back to a step already on it."""
        if node in trail:
            return [*trail[trail.index(node) :], node]
        if node in done or node not in steps:
            return None
        for choice in steps[node].get("choices", []):
            found = visit(choice.get("next"), [*trail, node])
            if found:
                return found
        done.add(node)
        return None

    for step_id in steps:
        found = visit(step_id, [])
        if found:
            return found
    return None
