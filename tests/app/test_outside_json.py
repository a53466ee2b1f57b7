"""JSON from outside (an EHR, a Bulk server, a badge issuer) never makes a reader raise.

Wrong types, missing parts and junk items become nothing shown, nothing matched or a refusal in
words; each reader is given any JSON in the fields it reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_babel import Babel
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.case_conferences.deidentify import record_identifiers
from app.case_conferences.vignette import quantity_text
from app.ledger.outputs.badges import Invalid, check_signature, claim_problems, time_problems
from app.ledger.outputs.status_list import list_problem
from app.library.loader import ValueSet
from app.outcomes.bulk_client import issue_text
from app.smart.discovery import oauth_uris
from app.ui.facts import fact_for, observation_value
from app.ui.learner_profile import CertificateName, name_from_practitioner
from app.ui.page_context import age_in_years, patient_name

SYSTEM = "http://loinc.org"
text = st.sampled_from(["", "x", "final", "active", "2524-7", SYSTEM, "2026-01-02T03:04:05Z"])
#: The names the readers look up, so that odd values land where they are read.
FIELD_NAMES = st.sampled_from(
    [
        "x", "coding", "code", "system", "display", "text", "value", "unit", "given", "family",
        "use", "line", "city", "url", "valueUri", "extension", "security", "issue",
        "diagnostics", "details", "manifestation", "valueQuantity", "component", "start",
    ]
)  # fmt: skip
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELD_NAMES, inner, max_size=3),
    max_leaves=10,
)
FIELDS = (
    "status", "code", "component", "valueQuantity", "valueString", "valueCodeableConcept",
    "effectiveDateTime", "effectivePeriod", "issued", "clinicalStatus", "verificationStatus",
    "onsetDateTime", "medicationCodeableConcept", "medicationReference", "dosageInstruction",
    "authoredOn", "reaction",
)  # fmt: skip
resource = st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=6)
TYPES = ("Observation", "Condition", "MedicationRequest", "AllergyIntolerance")
VALUE_SET = ValueSet(
    url="https://fhir.bedside.example/ValueSet/lactate",
    id="lactate",
    title="Lactate",
    codes=frozenset({(SYSTEM, "2524-7")}),
    displays={},
)
TRANSLATING = Flask(__name__)  # what the readers need of an app: gettext and number formats
Babel(TRANSLATING)


def app_context():
    """A request context of a bare app with Babel, in English."""
    return TRANSLATING.test_request_context("/")


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({kind: st.lists(resource, max_size=3) for kind in TYPES}))
def test_the_patient_facts_panel_reads_any_json_without_an_error(resources):
    """Every resource list of the record, any JSON in any field: a Fact, with text or nothing."""
    with app_context():
        fact = fact_for(VALUE_SET, resources)
        for item in fact.items:
            assert isinstance(item.display, str)
            assert item.value is None or isinstance(item.value, str)


@settings(max_examples=300, deadline=None)
@given(resource)
@example({"component": True})
@example({"component": [{"valueQuantity": {"value": "92"}, "code": {"coding": 5}}]})
@example({"valueQuantity": {"value": 1e25}})
@example({"valueQuantity": {"value": 10**400}})
def test_an_observation_value_is_text_or_nothing_whatever_its_fields(observation):
    with app_context():
        value = observation_value(observation)
    assert value is None or isinstance(value, str)


@pytest.mark.parametrize(
    ("value", "on_the_page", "in_a_vignette"),
    [
        (5.2, "5.2", "5.2 Cel"),
        (1200, "1,200", "1200 Cel"),
        (1e25, "1e+25", "1e+25 Cel"),
        (-1e300, "-1e+300", "-1e+300 Cel"),
        (10**400, None, ""),
        (True, None, ""),
    ],
)
def test_a_quantity_too_large_for_babel_is_shown_plainly_and_one_past_a_float_not_at_all(
    value, on_the_page, in_a_vignette
):
    """Babel raised InvalidOperation from 1e25 up, a case page's 500; a vignette overflowed."""
    with app_context():
        assert observation_value({"valueQuantity": {"value": value}}) == on_the_page
    assert quantity_text({"value": value, "unit": "Cel"}) == in_a_vignette


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["name", "identifier", "qualification"]), json_value, max_size=3
    ).map(lambda fields: {"resourceType": "Practitioner", **fields})
)
def test_a_practitioner_of_any_shape_gives_a_name_or_nothing(practitioner):
    name = name_from_practitioner(practitioner)
    assert name is None or isinstance(name, CertificateName)
    if name is not None:
        assert all(isinstance(part, str) for part in (name.first_name, name.last_name, name.npi))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["name", "address", "telecom", "birthDate", "contact", "identifier"]),
        json_value,
        max_size=4,
    ).map(lambda fields: {"resourceType": "Patient", "id": "p1", **fields})
)
@example({"resourceType": "Patient", "name": [{"given": 5}], "address": [{"line": True}]})
def test_the_identifiers_of_a_patient_of_any_shape_are_gathered_without_an_error(patient):
    identifiers = record_identifiers([patient])
    assert all(isinstance(term, str) for term in identifiers.terms)


@given(st.dictionaries(st.sampled_from(["rest", "security", "extension"]), json_value))
@example({"rest": [{"security": [1]}]})
def test_a_capability_statement_of_any_shape_gives_oauth_uris_or_none(statement):
    uris = oauth_uris(statement)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in uris.items())


def test_oauth_uris_are_read_past_junk_and_a_security_that_is_not_an_object():
    extension = {
        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
        "extension": [5, {"url": 7, "valueUri": "x"}, {"url": "token", "valueUri": "https://t"}],
    }
    statement = {"rest": [{"security": {"extension": [5, extension]}}]}
    assert oauth_uris(statement) == {"token": "https://t"}
    assert oauth_uris({"rest": [{"security": [extension]}]}) == {}
    assert oauth_uris({"rest": 5}) == {}


@given(json_value)
def test_an_operation_outcome_of_any_shape_is_told_in_words(issues):
    assert isinstance(issue_text({"resourceType": "OperationOutcome", "issue": issues}), str)


def test_a_jwks_whose_keys_are_not_a_list_of_objects_is_a_refusal_not_an_error():
    for keys in (5, "x", [5, "y"], {"kid": "k1"}):
        try:
            check_signature("a.b.c", {"alg": "ES256", "kid": "k1"}, {"keys": keys})
        except Invalid as refusal:
            assert "no key with kid 'k1'" in str(refusal)
        else:
            raise AssertionError(f"keys {keys!r} were accepted")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "x"]), json_value))
@example({"name": "Smith"})
@example({"name": [{"given": 5}]})
@example({"name": [{"given": [1], "family": {"a": 1}}]})
def test_the_banner_name_of_a_patient_of_any_shape_is_text_or_nothing(patient):
    name = patient_name(patient)
    assert name is None or isinstance(name, str)


def test_the_banner_age_is_whole_years_or_nothing_whatever_the_birth_date():
    today = date(2026, 12, 7)
    assert age_in_years("1980-12-08", today) == 45 and age_in_years("1980", today) == 46
    for odd in ("99999999999999999999-01-01", "1980-13-01", "x", "2030-01-01", "", None):
        assert age_in_years(odd, today) is None


@given(json_value, json_value, json_value)
@example({"a": 1}, ["VerifiableCredential", {"a": 1}], "tomorrow")
@example(5, "VerifiableCredential", None)
def test_badge_claims_of_any_shape_get_problems_in_words(context, kinds, expires):
    """@context, type and exp of any JSON: a list of problems, never an exception."""
    claims = {"@context": context, "type": kinds, "exp": expires, "validFrom": "2026-01-01T00:00Z"}
    problems = claim_problems(claims, datetime.now(UTC), None)
    assert problems and all(isinstance(problem, str) for problem in problems)


def test_a_badge_whose_exp_is_not_a_number_says_so():
    claims = {"validFrom": "2026-01-01T00:00:00Z", "nbf": 1767225600, "exp": "tomorrow"}
    assert time_problems(claims, datetime(2026, 6, 1, tzinfo=UTC)) == [
        "exp 'tomorrow' is not a number of seconds"
    ]


@given(st.dictionaries(st.sampled_from(["issuer", "type", "id", "credentialSubject"]), json_value))
@example({"type": ["BitstringStatusListCredential"], "id": "https://b.example/s/1"})
@example({"type": "BitstringStatusListCredential", "id": "u", "issuer": {"name": "x"}})
def test_a_status_list_of_any_shape_is_refused_in_words(claims):
    problem = list_problem(claims, "https://b.example/s/1", "https://b.example", datetime.now(UTC))
    assert isinstance(problem, str)
