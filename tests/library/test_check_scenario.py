"""`bedside content check` on branching scenarios: one test per rule, each naming the field."""

from __future__ import annotations

from tests.library.helpers import MODULE_FILE, assert_fails, good_module, listing, run_check

REFERENCE = "Surviving Sepsis Campaign 2021, recommendation 1."


def text(words: str) -> dict:
    """A translatable text in both of the corpus module's languages."""
    return {"en": words, "es": f"{words} (es)"}


def choice(choice_id: str, next_id: str, *, guideline: bool = False, **extra) -> dict:
    """A scenario choice leading to next_id."""
    return {
        "id": choice_id,
        "text": text(f"Choice {choice_id}"),
        "next": next_id,
        "consequence": text("What happened"),
        "rationale": text("Why"),
        "guideline": guideline,
        **extra,
    }


def scenario_module() -> dict:
    """The corpus module with a small valid scenario: first → second → done (or worse)."""
    module = good_module()
    module["scenario"] = {
        "title": text("A scenario"),
        "intro": text("The patient"),
        "drafted_by": "software",
        "review": {"status": "draft"},
        "time": {"unit": "hours", "start": 0},
        "variables": [
            {"id": "lactate", "label": text("Lactate"), "value": 4.1, "unit": "mmol/L"},
        ],
        "start": "first",
        "steps": [
            {
                "id": "first",
                "prompt": text("First decision"),
                "reference": REFERENCE,
                "choices": [
                    choice("a", "second", guideline=True, after=1, changes={"lactate": 2.5}),
                    choice("b", "worse"),
                ],
            },
            {
                "id": "second",
                "prompt": text("Second decision"),
                "reference": REFERENCE,
                "choices": [choice("a", "done", guideline=True), choice("b", "worse")],
            },
        ],
        "outcomes": [
            {"id": "done", "title": text("Done"), "text": text("All well")},
            {"id": "worse", "title": text("Worse"), "text": text("Not well")},
        ],
    }
    return module


def steps(module: dict) -> list[dict]:
    """The scenario's steps, to break one thing in."""
    return module["scenario"]["steps"]


def test_a_valid_scenario_passes(tmp_path):
    report = run_check(tmp_path, scenario_module())
    assert report.ok, listing(report)


def test_next_must_name_a_step_or_an_outcome(tmp_path):
    module = scenario_module()
    steps(module)[1]["choices"][1]["next"] = "nowhere"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.steps[1].choices[1].next", "'nowhere'")


def test_start_must_name_a_step(tmp_path):
    module = scenario_module()
    module["scenario"]["start"] = "done"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.start", "not a step id")


def test_every_step_and_outcome_is_reachable(tmp_path):
    module = scenario_module()
    steps(module)[0]["choices"][0]["next"] = "done"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.steps[1].id", "unreachable from the start")


def test_no_loop_without_a_way_out(tmp_path):
    module = scenario_module()
    steps(module)[1]["choices"][1]["next"] = "first"
    steps(module)[1]["choices"].append(choice("c", "worse"))  # keep `worse` reachable
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.steps", "first → second → first")


def test_each_step_has_exactly_one_guideline_choice(tmp_path):
    module = scenario_module()
    steps(module)[0]["choices"][1]["guideline"] = True
    steps(module)[1]["choices"][0]["guideline"] = False
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.steps[0].choices", "2 choices are marked")
    assert_fails(report, MODULE_FILE, "scenario.steps[1].choices", "0 choices are marked")


def test_choices_change_only_declared_variables(tmp_path):
    module = scenario_module()
    steps(module)[0]["choices"][0]["changes"] = {"heart_rate": 120}
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.steps[0].choices[0].changes.heart_rate", "lactate")


def test_spanish_is_required_when_the_module_has_spanish(tmp_path):
    module = scenario_module()
    del steps(module)[1]["choices"][0]["rationale"]["es"]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.steps[1].choices[0].rationale.es", "missing")


def test_each_step_cites_the_modules_guideline(tmp_path):
    module = scenario_module()
    steps(module)[1]["reference"] = "A textbook, chapter 4."
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.steps[1].reference", "guideline (2021)")


def test_ids_are_unique(tmp_path):
    module = scenario_module()
    module["scenario"]["outcomes"][1]["id"] = "second"
    steps(module)[0]["choices"][1]["next"] = "second"
    steps(module)[1]["choices"][1]["next"] = "done"
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.outcomes[1].id", "used 2 times")


def test_the_schema_requires_a_rationale_and_a_review_status(tmp_path):
    module = scenario_module()
    del steps(module)[0]["choices"][1]["rationale"]
    del module["scenario"]["review"]
    report = run_check(tmp_path, module)
    assert_fails(report, MODULE_FILE, "scenario.steps[0].choices[1].rationale", "required")
    assert_fails(report, MODULE_FILE, "scenario.review", "required")
