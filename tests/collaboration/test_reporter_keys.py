"""Which CDS keys are a clinician's: only those of the CDS caller that is their own EHR."""

from __future__ import annotations

from app.collaboration import CdsCaller, Collaboration
from app.collaboration.roles import NO_GRANTS
from app.collaboration.store import CollaborationStore

EHR_A, EHR_B = "https://ehr-a.example", "https://ehr-b.example"
SMART_A = "https://ehr-a.example/fhir"


def collaboration(store: CollaborationStore, *callers: CdsCaller) -> Collaboration:
    """Collaboration with these CDS callers; a CDS key spells out its caller and user."""
    return Collaboration(store, NO_GRANTS, callers, lambda caller, _, user: f"{caller}|{user}")


def test_the_same_relative_user_at_two_ehrs_gets_only_its_own_ehrs_key(database):
    store = CollaborationStore(database)
    mapped = collaboration(store, CdsCaller(EHR_A, (SMART_A,)), CdsCaller(EHR_B, ()))
    unmapped = collaboration(store, CdsCaller(EHR_A, ()), CdsCaller(EHR_B, ()))
    only_one = collaboration(store, CdsCaller(EHR_B, ()))

    keys = mapped.reporter_keys("L1", SMART_A + "/", "Practitioner/123")
    assert {key.split("|")[0] for key in keys - {"L1"}} == {"cds:" + EHR_A}
    assert unmapped.reporter_keys("L1", SMART_A, "Practitioner/123") == {"L1"}  # whose? unknown
    assert {key.split("|")[0] for key in only_one.reporter_keys("L1", SMART_A, "x/1")} == {
        "L1",
        "cds:" + EHR_B,
    }


def test_a_key_linked_to_one_learner_is_never_taken_over_by_another(database):
    store = CollaborationStore(database)
    store.note_keys("A", {"A", "cds:k1"})
    store.note_keys("B", {"B", "cds:k1", "cds:k2"})
    assert store.linked_keys("A") == ["cds:k1"]
    assert store.linked_keys("B") == ["cds:k2"]
    store.forget_display_name("B")  # B's erasure leaves A's key and its notices alone
    assert store.linked_keys("A") == ["cds:k1"]


def test_erasure_detaches_items_under_the_sessions_cds_keys_even_if_never_noted(database):
    store = CollaborationStore(database)
    module = {"id": "sepsis-hour-1-bundle", "version": "2.0.0"}
    mine = store.file_item(module, "error", "Never noted.", "cds:mine", source_ref="p:1")
    theirs = store.file_item(module, "error", "Another's.", "cds:theirs", source_ref="p:2")
    store.note_keys("B", {"B", "cds:theirs"})

    store.forget_display_name("A", {"A", "cds:mine", "cds:theirs"})

    assert store.item(mine).reporter_key == ""  # A's own key, from A's session
    assert store.item(theirs).reporter_key == "cds:theirs"  # linked to B: not A's to erase
    assert store.linked_keys("B") == ["cds:theirs"]
