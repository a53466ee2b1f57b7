"""Card and suggestion uuids: RFC 4122 name-based (version 5), stable for retries of one call."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from cds_hooks.cards import card_uuid_from, name_uuid, uuid_text

INSTANCE = "0f0e0d0c-0b0a-4098-8765-43210fedcba9"


@given(st.uuids(), st.text())
def test_name_uuid_is_exactly_uuid5(namespace, name):
    assert uuid_text(name_uuid(namespace.bytes, name)) == str(uuid.uuid5(namespace, name))


def test_a_card_uuid_is_stable_for_one_call_and_differs_between_calls():
    first = card_uuid_from("sepsis-hour-1-bundle", "1.0.0", INSTANCE)
    assert first == card_uuid_from("sepsis-hour-1-bundle", "1.0.0", INSTANCE)
    other_call = card_uuid_from("sepsis-hour-1-bundle", "1.0.0", str(uuid.uuid4()))
    other_version = card_uuid_from("sepsis-hour-1-bundle", "1.1.0", INSTANCE)
    assert len({first, other_call, other_version}) == 3
    assert uuid.UUID(uuid_text(first)).version == 5
