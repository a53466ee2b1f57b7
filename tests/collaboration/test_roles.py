"""Roles from the BEDSIDE_ROLES file: by fhirUser, by an EHR role claim; bad files fail clearly."""

from __future__ import annotations

import json

import pytest

from app.collaboration.queue import critique_kind, resolving_version
from app.collaboration.roles import (
    EDIT_QUEUE,
    FACILITATE,
    MODERATE,
    NO_GRANTS,
    load_role_map,
    permissions_of,
)
from app.errors import ConfigError

ISS = "https://ehr.example/fhir"
OTHER_ISS = "https://other-ehr.example/fhir"


def role_file(tmp_path, content) -> object:
    """Write a roles file."""
    path = tmp_path / "roles.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_roles_by_absolute_fhir_user_and_by_the_ehr_role_claim_of_its_issuer(tmp_path):
    roles = load_role_map(
        role_file(
            tmp_path,
            {
                "fhir_users": {
                    f"{ISS}/Practitioner/7": ["moderator"],
                    f"{ISS}/Practitioner/8/": ["editor"],
                },
                "ehr_roles": {ISS + "/": {"cme-admin": ["admin"]}},
                "role_claim": "groups",
            },
        )
    )
    assert roles.roles_of(ISS, "Practitioner/7", {}) == {"learner", "moderator"}
    assert roles.roles_of(ISS + "/", f"{ISS}/Practitioner/8", {}) == {"learner", "editor"}
    assert roles.roles_of(ISS, "Practitioner/9", {"groups": ["x", "cme-admin"]}) >= {"admin"}
    assert roles.roles_of(ISS, "Practitioner/9", {"groups": "cme-admin"}) >= {"admin"}
    assert roles.roles_of(ISS, "Practitioner/9", {"roles": "cme-admin"}) == {"learner"}


def test_a_user_at_another_ehr_with_the_same_id_gets_no_grant(tmp_path):
    roles = load_role_map(role_file(tmp_path, {"fhir_users": {f"{ISS}/Practitioner/7": ["admin"]}}))
    assert roles.roles_of(OTHER_ISS, "Practitioner/7", {}) == {"learner"}
    assert roles.roles_of(OTHER_ISS, f"{OTHER_ISS}/Practitioner/7", {}) == {"learner"}


def test_a_role_claim_from_an_issuer_the_file_does_not_name_is_ignored(tmp_path):
    roles = load_role_map(role_file(tmp_path, {"ehr_roles": {ISS: {"cme-admin": ["admin"]}}}))
    assert roles.roles_of(ISS, "Practitioner/9", {"bedside_roles": "cme-admin"}) >= {"admin"}
    assert roles.roles_of(OTHER_ISS, "Practitioner/9", {"bedside_roles": "cme-admin"}) == {
        "learner"
    }


def test_what_each_role_may_do():
    assert permissions_of({"learner"}) == set()
    assert permissions_of({"learner", "moderator"}) == {MODERATE}
    assert permissions_of({"editor"}) == {EDIT_QUEUE}
    assert permissions_of({"facilitator"}) == {FACILITATE}
    assert permissions_of({"admin"}) == {MODERATE, EDIT_QUEUE, FACILITATE}
    assert NO_GRANTS.roles_of(ISS, "Practitioner/7", {"bedside_roles": "admin"}) == {"learner"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ([], "must hold a JSON object"),
        ({"fhir_users": {f"{ISS}/Practitioner/1": ["owner"]}}, "must be a list of roles"),
        ({"fhir_users": {"Practitioner/1": ["admin"]}}, "must be absolute fhirUser URLs"),
        ({"ehr_roles": {"cme-admin": ["admin"]}}, "must map EHR issuer URLs"),
        ({"ehr_roles": {ISS: {"cme-admin": ["root"]}}}, "must be a list of roles"),
        ({"users": {}}, "unknown keys"),
        ({"role_claim": ""}, "role_claim"),
    ],
)
def test_a_bad_roles_file_fails_with_one_sentence(tmp_path, content, problem):
    with pytest.raises(ConfigError, match=problem):
        load_role_map(role_file(tmp_path, content))


def test_the_app_refuses_to_start_with_a_bad_roles_file(tmp_path):
    from app import create_app

    path = role_file(tmp_path, {"fhir_users": {"x": ["root"]}})
    with pytest.raises(ConfigError, match="BEDSIDE_ROLES"):
        create_app({"TESTING": True, "ROLES": str(path), "DATABASE": str(tmp_path / "b.db")})


def test_only_critiquing_override_reasons_file_items():
    system = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
    assert critique_kind("recipient-disagrees-evidence", system) == "evidence"
    assert critique_kind("does-not-align-latest-evidence", system) == "update"
    assert critique_kind("need-more-info", None) == "more-info"
    assert critique_kind("cds-not-applicable", system) is None
    assert critique_kind("recipient-disagrees-evidence", "https://other.example/codes") is None


def test_an_item_is_resolved_only_by_a_higher_version_that_cites_it():
    def module(version, entries):
        return {"version": version, "editorial": {"changelog": entries}}

    cited = [{"version": "2.1.0", "resolves": ["ed-0123456789"]}]
    assert resolving_version(module("2.1.0", cited), "ed-0123456789", "2.0.0") == "2.1.0"
    assert resolving_version(module("2.2.0", cited), "ed-0123456789", "2.0.0") == "2.2.0"
    assert resolving_version(module("2.0.0", cited), "ed-0123456789", "2.0.0") is None
    assert resolving_version(module("2.1.0", cited), "ed-9999999999", "2.0.0") is None
    assert resolving_version(module("2.1.0", []), "ed-0123456789", "2.0.0") is None
    assert resolving_version(module("2.1.0", cited), "ed-0123456789", "2.1.0") is None
