"""Who may do what in discussions and the editorial queue: roles from a configuration file.

`BEDSIDE_ROLES` names a JSON file (like `BEDSIDE_CDS_CLIENTS`):

    {"fhir_users": {"https://ehr.example/fhir/Practitioner/7": ["editor", "moderator"]},
     "ehr_roles": {"https://ehr.example/fhir": {"cme-editor": ["editor"]}},
     "role_claim": "bedside_roles"}

`fhir_users` grants roles by absolute fhirUser URL only: a relative `Practitioner/7` would name a
different person at every trusted EHR. `ehr_roles` grants roles, per EHR issuer, by a value of the
id_token claim named by `role_claim` (a string or a list of strings): a claim counts only from an
issuer the file names. Every signed-in clinician is a learner; `admin` holds every permission.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import ConfigError
from app.identity import fhir_user_forms, normalise_issuer
from app.json_files import JsonFileProblem, read_json_file

ROLES = ("learner", "moderator", "editor", "facilitator", "admin")
MODERATE, EDIT_QUEUE, FACILITATE = "moderate", "edit-queue", "facilitate"
PERMISSIONS = {
    "learner": frozenset(),
    "moderator": frozenset({MODERATE}),
    "editor": frozenset({EDIT_QUEUE}),
    "facilitator": frozenset({FACILITATE}),
    "admin": frozenset({MODERATE, EDIT_QUEUE, FACILITATE}),
}
DEFAULT_ROLE_CLAIM = "bedside_roles"


@dataclass(frozen=True)
class RoleMap:
    """The configured grants: roles by absolute fhirUser and, per issuer, by an EHR role value."""

    by_fhir_user: Mapping[str, frozenset[str]] = field(default_factory=dict)
    by_ehr_role: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    role_claim: str = DEFAULT_ROLE_CLAIM

    def roles_of(
        self, issuer: str, fhir_user: str | None, claims: Mapping[str, object]
    ) -> frozenset[str]:
        """The roles of a signed-in user: learner, plus what the file grants them."""
        roles = {"learner"}
        if fhir_user:
            absolute, _ = fhir_user_forms(issuer, fhir_user)
            roles |= self.by_fhir_user.get(absolute.rstrip("/"), frozenset())
        issuer_roles = self.by_ehr_role.get(normalise_issuer(issuer), {})
        for value in claim_values(claims.get(self.role_claim)):
            roles |= issuer_roles.get(value, frozenset())
        return frozenset(roles)


NO_GRANTS = RoleMap()


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    """Everything a set of roles may do."""
    return frozenset().union(*(PERMISSIONS.get(role, frozenset()) for role in roles))


def load_role_map(path: Path) -> RoleMap:
    """Read and check the roles file; ConfigError naming the file and the problem."""
    try:
        data = read_json_file(path)
    except JsonFileProblem as problem:
        raise roles_error(path, str(problem)) from None
    if not isinstance(data, dict):
        raise roles_error(path, "must hold a JSON object")
    unknown = set(data) - {"fhir_users", "ehr_roles", "role_claim"}
    if unknown:
        raise roles_error(path, f"has unknown keys {sorted(unknown)}")
    claim = data.get("role_claim", DEFAULT_ROLE_CLAIM)
    if not isinstance(claim, str) or not claim.strip():
        raise roles_error(path, "role_claim must be a claim name")
    return RoleMap(
        by_fhir_user=user_grants(path, data.get("fhir_users", {})),
        by_ehr_role=issuer_role_grants(path, data.get("ehr_roles", {})),
        role_claim=claim,
    )


def user_grants(path: Path, entries: object) -> dict[str, frozenset[str]]:
    """The fhir_users section, keyed by absolute fhirUser URL (a relative key is refused)."""
    checked = grants(path, "fhir_users", entries)
    relative = sorted(name for name in checked if not is_absolute_url(name))
    if relative:
        raise roles_error(
            path, f"fhir_users keys must be absolute fhirUser URLs, not {relative[0]!r}"
        )
    return {name.strip().rstrip("/"): roles for name, roles in checked.items()}


def issuer_role_grants(path: Path, entries: object) -> dict[str, dict[str, frozenset[str]]]:
    """The ehr_roles section: EHR issuer URL → role value → roles."""
    if not isinstance(entries, dict) or not all(is_absolute_url(iss) for iss in entries):
        raise roles_error(path, "ehr_roles must map EHR issuer URLs to role values")
    return {
        normalise_issuer(iss): grants(path, f"ehr_roles[{iss!r}]", values)
        for iss, values in entries.items()
    }


def grants(path: Path, key: str, entries: object) -> dict[str, frozenset[str]]:
    """One section of the file: name → list of known roles."""
    if not isinstance(entries, dict):
        raise roles_error(path, f"{key} must map names to lists of roles")
    checked = {}
    for name, roles in entries.items():
        if not isinstance(roles, list) or not all(role in ROLES for role in roles):
            raise roles_error(path, f"{key}[{name!r}] must be a list of roles from {ROLES}")
        checked[name] = frozenset(roles)
    return checked


def is_absolute_url(name: str) -> bool:
    """Whether a roles-file key is an absolute http(s) URL."""
    return name.strip().startswith(("https://", "http://"))


def fhir_user_names(issuer: str, fhir_user: str) -> list[str]:
    """The forms a fhirUser may be written in: absolute URL, as given, relative to the issuer."""
    forms = set(fhir_user_forms(issuer, fhir_user))
    base = normalise_issuer(issuer) + "/"
    forms |= {form[len(base) :] for form in forms if form.startswith(base)}
    return sorted(forms)


def claim_values(value: object) -> list[str]:
    """A role claim's values (a string or a list of strings; anything else is none)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def roles_error(path: Path, problem: str) -> ConfigError:
    """One sentence naming the roles file and what is wrong with it."""
    return ConfigError(f"The roles file (BEDSIDE_ROLES) {path} {problem}.")
