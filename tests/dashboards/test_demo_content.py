"""The demo's synthetic content tallies: deterministic, labelled, the modules' own codes."""

from __future__ import annotations

from app.devtools.demo_content import MODULES, SyntheticContent


def test_synthetic_content_is_deterministic_and_labelled(demo_app):
    """Two generators give the same tallies; every key says synthetic; no patient key exists."""
    with demo_app.app_context():
        first, second = SyntheticContent()(), SyntheticContent()()
    assert first == second and first.synthetic
    assert {module_id for module_id, _ in first.cards} == set(MODULES)
    clinicians = {who for tally in first.cards.values() for who, _ in tally.weeks}
    learners = {who for tally in first.cases.values() for who in tally.completed}
    assert all(clinician.startswith("synthetic-clinician-") for clinician in clinicians)
    assert all(learner.startswith("synthetic-learner-") for learner in learners)
    assert {learner for tally in first.cases.values() for learner in tally.firsts} <= learners
    assert not any("patient" in name for tally in first.cards.values() for name in vars(tally))


def test_override_reasons_and_questions_are_the_modules_own(demo_app):
    """No invented code: each reason is one the module offers, each item one of its questions."""
    with demo_app.app_context():
        tallies = SyntheticContent()()
    modules = demo_app.extensions["cds"].engine.library.modules
    for (module_id, _), tally in tallies.cards.items():
        offered = modules[module_id]["card"]["override_reasons"]
        assert {code for code, _ in tally.overrides} <= {reason["code"] for reason in offered}
    for (module_id, module_version), tally in tallies.cases.items():
        questions = modules[module_id]["case"]["questions"]
        for _, answers in tally.firsts.values():
            assert set(answers) == {question["id"] for question in questions}
        assert module_version == str(modules[module_id]["version"])
