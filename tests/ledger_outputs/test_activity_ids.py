"""A case and a point-of-care cycle on one module version are two activities in xAPI and OB 3.0."""

from __future__ import annotations

from app.ledger.outputs import badges, xapi
from tests.ledger_outputs.world import BASE_URL, modules


def sepsis_case_and_cycle(store, world):
    """Alice's case credit and point-of-care credit, both on sepsis-hour-1-bundle 2.0.0."""
    by_sequence = {r.sequence: r for r in store.credits_for(world.learners["alice"])}
    case = by_sequence[world.sequences["alice-sepsis"][0]]
    cycle = by_sequence[world.sequences["alice-poc"][0]]
    assert (case.module_id, case.module_version) == (cycle.module_id, cycle.module_version)
    return case, cycle


def test_a_case_and_a_cycle_on_one_module_version_have_their_own_xapi_activity_ids(store, world):
    case, cycle = sepsis_case_and_cycle(store, world)

    ids = [xapi.activity_id(record, BASE_URL) for record in (case, cycle)]

    assert ids == [
        f"{BASE_URL}/activities/case/sepsis-hour-1-bundle/2.0.0",
        f"{BASE_URL}/activities/poc/sepsis-hour-1-bundle/2.0.0",
    ]


def test_a_case_and_a_cycle_on_one_module_version_are_two_badge_achievements(store, world):
    case, cycle = sepsis_case_and_cycle(store, world)

    achievements = [
        badges.achievement(record, "Sepsis", modules(), BASE_URL, "en") for record in (case, cycle)
    ]

    case_id, cycle_id = (achievement["id"] for achievement in achievements)
    assert case_id == f"{BASE_URL}/activities/case/sepsis-hour-1-bundle/2.0.0#ama-pra-category-1"
    assert cycle_id == f"{BASE_URL}/activities/poc/sepsis-hour-1-bundle/2.0.0#ama-pra-category-1"
