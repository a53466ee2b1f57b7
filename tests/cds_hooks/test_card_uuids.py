"""Card uuids are random (version 4); suggestion uuids derive from their card's (version 5)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from cds_hooks.cards import name_uuid, new_card_uuid, uuid_text


@given(st.uuids(), st.text())
def test_name_uuid_is_exactly_uuid5(namespace, name):
    assert uuid_text(name_uuid(namespace.bytes, name)) == str(uuid.uuid5(namespace, name))


def test_card_uuids_are_random_version_4_and_never_repeat():
    made = {new_card_uuid() for _ in range(1000)}
    assert len(made) == 1000
    assert {uuid.UUID(uuid_text(raw)).version for raw in made} == {4}
