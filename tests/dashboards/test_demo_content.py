"""The demo's synthetic content records: deterministic, labelled, the modules' own codes."""

from __future__ import annotations

from app.devtools.demo_content import MODULES, SyntheticContent


def test_synthetic_content_is_deterministic_and_labelled(demo_app):
    """Two generators give the same records; every key says synthetic; no patient field exists."""
    with demo_app.app_context():
        first, second = SyntheticContent()(), SyntheticContent()()
    assert first == second and first.synthetic
    assert {card.module_id for card in first.shown} == set(MODULES)
    assert all(card.clinician.startswith("synthetic-clinician-") for card in first.shown)
    assert all(attempt.learner.startswith("synthetic-learner-") for attempt in first.attempts)
    assert not any("patient" in name for name in vars(first.shown[0]))


def test_override_reasons_and_questions_are_the_modules_own(demo_app):
    """No invented code: each reason is one the module offers, each item one of its questions."""
    with demo_app.app_context():
        records = SyntheticContent()()
    modules = demo_app.extensions["cds"].engine.library.modules
    module_of = {card.card_uuid: card.module_id for card in records.shown}
    for action in records.actions:
        if action.reason_code is not None:
            offered = modules[module_of[action.card_uuid]]["card"]["override_reasons"]
            assert action.reason_code in {reason["code"] for reason in offered}
    for attempt in records.attempts:
        questions = modules[attempt.module_id]["case"]["questions"]
        assert set(attempt.answers) == {question["id"] for question in questions}
        assert attempt.module_version == str(modules[attempt.module_id]["version"])
