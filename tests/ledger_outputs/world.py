"""A small ledger with several learners, built through the real store and claim functions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cache

from app.ledger.credit import claim_case_credit, claim_poc_credit
from app.ledger.models import Answer, ReportingIdentity
from app.ledger.rules import POC_STEPS, CreditPolicy
from app.ledger.store import SqlLedgerStore
from app.library.loader import Library, load_library
from app.settings import REPO_ROOT
from tests.ledger.helpers import ISSUER, Clock

POLICY = CreditPolicy()
BASE_URL = "https://bedside.test"
ALICE = ReportingIdentity("Alice", "Ng", board_id="ABIM-123456", birth_month_day="04/17")
BOB = ReportingIdentity(
    "Bob", "Okoro", licence_state="OR", licence_id="MD-98765", birth_month_day="09/02"
)
DAVE = ReportingIdentity("Dave", "Silva")  # consented, but gave no board or licence ID


@cache
def library() -> Library:
    """The shipped content library (titles, credit, pass marks)."""
    return load_library(REPO_ROOT / "content")


def modules() -> dict[str, dict]:
    """The content modules by id."""
    return library().modules


@dataclass
class World:
    """The learners' ids and the credit records each step produced."""

    learners: dict[str, str] = field(default_factory=dict)
    sequences: dict[str, list[int]] = field(default_factory=dict)


def attempt_id(*parts: object) -> str:
    """A deterministic attempt id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def pass_case(store, clock: Clock, learner: str, module_id: str, correct: int = 4) -> list[int]:
    """Complete and claim a case; return the new record sequences."""
    module = modules()[module_id]
    attempt = attempt_id(learner, module_id, clock.now.isoformat())
    store.record_attempt(learner, ("case", module_id, module["version"]), attempt, clock.now)
    clock.advance(minutes=12)
    store.complete_attempt(attempt, correct, 4, module["pass_mark_percent"])
    made = claim_case_credit(store, POLICY, module, learner, attempt, f"case-{attempt}")
    assert made.refusal is None, made.refusal
    return [record.sequence for record in made.records]


def poc_cycle(store, clock: Clock, learner: str, module_id: str) -> list[int]:
    """Record a complete point-of-care cycle and claim it; return the new record sequences."""
    version = modules()[module_id]["version"]
    attempt = attempt_id(learner, "poc", module_id, clock.now.isoformat())
    store.record_attempt(learner, ("poc", module_id, version), attempt, clock.now)
    for step in POC_STEPS:  # each cycle its own question, as each earns credit (rules.py)
        clock.advance(minutes=4)
        text = f"{step} for a dosing question about {module_id} at {clock.now:%H:%M}"
        store.record_answer(Answer(attempt, step, {"text": text}, clock.now))
    made = claim_poc_credit(store, POLICY, learner, attempt, f"poc-{attempt}", clock.now)
    assert made.refusal is None, made.refusal
    return [record.sequence for record in made.records]


def build_world(store: SqlLedgerStore, clock: Clock) -> World:
    """Alice (board ID), Bob (licence), Carol (no consent), Dave (no identifier), Erin (nothing)."""
    world = World()
    for name in ("alice", "bob", "carol", "dave", "erin"):
        world.learners[name] = store.ensure_learner(ISSUER, f"Practitioner/{name}")
    alice, bob, carol, dave = (world.learners[n] for n in ("alice", "bob", "carol", "dave"))
    world.sequences["alice-af"] = pass_case(store, clock, alice, "af-anticoagulation")
    world.sequences["alice-sepsis"] = pass_case(store, clock, alice, "sepsis-hour-1-bundle", 3)
    for module_id in ("sepsis-hour-1-bundle", "metformin-egfr", "hfref-gdmt"):
        clock.advance(hours=2)
        world.sequences.setdefault("alice-poc", []).extend(
            poc_cycle(store, clock, alice, module_id)
        )
    sepsis = world.sequences["alice-sepsis"][0]
    world.sequences["alice-reversal"] = [
        store.append_reversal(sepsis, "claimed twice by mistake", f"undo-{sepsis}")
        .records[0]
        .sequence
    ]
    clock.advance(days=1)
    world.sequences["bob-cap"] = pass_case(store, clock, bob, "cap-adults-outpatient")
    world.sequences["bob-poc"] = poc_cycle(store, clock, bob, "uri-antibiotics-adults")
    world.sequences["carol-aom"] = pass_case(store, clock, carol, "aom-children")
    world.sequences["dave-poc"] = poc_cycle(store, clock, dave, "opioids-acute-pain")
    store.set_reporting_identity(alice, ALICE)
    store.set_reporting_identity(bob, BOB)
    store.set_reporting_identity(dave, DAVE)
    store.update_profile(bob, language="es")
    return world
