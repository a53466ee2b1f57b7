"""Suggestion resource templates: the compiled filler equals the plain one on any template."""

from hypothesis import given
from hypothesis import strategies as st

from cds_hooks.card_resources import compile_resource, fill_resource

NAMES = ("patientId", "encounterId", "userId")
strings = st.one_of(
    st.sampled_from(["", "Patient/{{context.patientId}}", "{{ context.encounterId }}", "plain"]),
    st.builds(lambda name: f"{{{{context.{name}}}}}", st.sampled_from([*NAMES, "missing"])),
    st.text(max_size=8),
)
leaves = st.one_of(strings, st.integers(), st.booleans(), st.none())
templates = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from("abcde"), inner, max_size=4)
    ),
    max_leaves=20,
)
contexts = st.dictionaries(st.sampled_from(NAMES), st.sampled_from(["", "p-1", "Practitioner/9"]))


@given(templates, contexts)
def test_compiled_filler_matches_fill_resource(template, context):
    assert compile_resource(template)(context) == fill_resource(template, context)


def test_missing_context_drops_the_element_and_empty_parents():
    template = {"subject": {"reference": "Patient/{{context.patientId}}"}, "status": "draft"}
    filled = compile_resource(template)
    assert filled({"patientId": "p-1"}) == {
        "subject": {"reference": "Patient/p-1"},
        "status": "draft",
    }
    assert filled({}) == {"status": "draft"}


def test_token_free_parts_are_filled_once():
    template = {"code": {"coding": [{"system": "http://loinc.org", "code": "2524-7"}]}}
    filled = compile_resource(template)
    assert filled({}) is filled({"patientId": "x"})
