"""Read per-patient resource groups from a FHIR R4 server by search (paging, bearer token).

Patients are listed with `Patient?_count=100` (following `next` links lazily) and each patient's
resources are searched per type with `patient=<id>`. Memory holds one page of patients and one
patient's resources. A type whose `patient` search the server refuses (400) is read once with a
type-level search and indexed by patient in memory instead (noted in `fallback_types`).
Medications referenced by `medicationReference` are read with `Medication?_id=...` (once each,
kept in `medications` by id) and added to the groups that use them.
The token may be a callable (a renewing system token). Plain http is accepted only on
loopback; the token never appears in errors, and `next` links are
followed (with the token) only on the base URL's own scheme, host and port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlencode, urlsplit

import requests

from app.fhir_json import as_str, dicts_in
from app.http_bodies import BodyTooLarge, bounded_json
from app.outcomes.bulk import patient_id_of
from app.outcomes.medications import MedicationLookup, referenced_ids, remember, with_medications
from app.security import is_https_or_loopback
from cds_hooks.fhir_fetch import same_origin

FHIR_JSON = "application/fhir+json"
PAGE_SIZE = 100
MAX_PAGE_BYTES = 64 * 1024 * 1024  # one search page; servers may ignore _count
ID_BATCH = 50
TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
PATIENT_TYPES = (
    "Encounter",
    "Condition",
    "Observation",
    "MedicationRequest",
    "MedicationAdministration",
    "Procedure",
    "ServiceRequest",
    "AllergyIntolerance",
)
MEASURE_TYPES = ("Patient", *PATIENT_TYPES, "Medication")  # every type the measures read
Progress = Callable[[int, int | None], None]
Credential = str | Callable[[], str] | None  # a bearer token, or a callable giving the current one


class FhirIngestError(Exception):
    """Data could not be read from the FHIR server; the message is one readable line."""


class RefusedSearch(FhirIngestError):
    """The server answered 400 to a search (e.g. an unsupported parameter)."""


class FhirSource:
    """Per-patient resource groups from one FHIR server, read with one bearer token."""

    def __init__(
        self,
        base_url: str,
        token: Credential = None,
        *,
        types: tuple[str, ...] = PATIENT_TYPES,
        timeout: tuple[float, float] = TIMEOUT,
    ):
        if not is_https_or_loopback(base_url):
            raise FhirIngestError("the FHIR server URL must be https (plain http only on loopback)")
        self.base_url = base_url.rstrip("/")
        self.types = types
        self.timeout = timeout
        self.fallback_types: set[str] = set()
        self.medications: MedicationLookup = {}
        self._unknown_medications: set[str] = set()
        self._token = token
        self._session = requests.Session()
        self._by_patient: dict[str, dict[str, list[dict]]] = {}

    def close(self) -> None:
        """Release the connection pool."""
        self._session.close()

    def __enter__(self) -> FhirSource:
        """Use as a context manager."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close on exit."""
        self.close()

    def patient_groups(self, progress: Progress | None = None) -> Iterator[list[dict]]:
        """Yield each patient's resources (Patient first); `progress(done, total)` per patient."""
        for done, (patient, total) in enumerate(self._patients(), start=1):
            group = [patient, *self.resources_of(patient["id"])]
            self._read_medications(referenced_ids(group))
            group = with_medications(group, self.medications)
            if progress is not None:
                progress(done, total)
            yield group

    def resources_of(self, patient_id: str) -> Iterator[dict]:
        """Every resource of the configured types that belongs to one patient."""
        for resource_type in self.types:
            if resource_type in self.fallback_types:
                yield from self._by_patient[resource_type].get(patient_id, [])
                continue
            params = {"patient": patient_id, "_count": PAGE_SIZE}
            try:
                found = [r for r, _ in self.search(resource_type, params)]
            except RefusedSearch:  # possibly on a later page: nothing of this type was kept
                self._index_type(resource_type)
                found = self._by_patient[resource_type].get(patient_id, [])
            yield from found

    def search(self, resource_type: str, params: dict) -> Iterator[tuple[dict, int | None]]:
        """Yield (resource, Bundle.total) for every match, following `next` links lazily."""
        url: str | None = f"{self.base_url}/{resource_type}?{urlencode(params)}"
        while url:
            page = self.get_json(url)
            if page.get("resourceType") != "Bundle":
                raise FhirIngestError(f"{resource_type} search did not answer with a Bundle")
            total = bundle_total(page)
            for entry in dicts_in(page.get("entry")):
                resource = entry.get("resource")
                if isinstance(resource, dict) and resource.get("resourceType") == resource_type:
                    yield resource, total
            url = next_link(page)
            if url and not same_origin(url, self.base_url):
                raise FhirIngestError(
                    "the FHIR server's next link leaves its base URL's scheme, host or port"
                )

    def get_json(self, url: str) -> dict:
        """GET one URL as FHIR JSON; every failure becomes a one-line FhirIngestError."""
        headers = {"Accept": FHIR_JSON, **bearer_header(self._token)}
        try:
            response = self._session.get(url, headers=headers, timeout=self.timeout, stream=True)
        except requests.RequestException as error:
            message = f"FHIR server {self.base_url} unreachable ({type(error).__name__})"
            raise FhirIngestError(message) from None
        with response:
            status = response.status_code
            if status in {401, 403}:
                raise FhirIngestError(f"FHIR server refused the token ({status})")
            if status == 400:
                raise RefusedSearch(f"FHIR server refused the search {urlsplit(url).path}")
            if status != 200:
                raise FhirIngestError(f"FHIR server answered {status} for {urlsplit(url).path}")
            try:
                body = bounded_json(response, MAX_PAGE_BYTES)
            except BodyTooLarge:
                raise FhirIngestError(
                    f"FHIR server answered more than {MAX_PAGE_BYTES // 2**20} MiB "
                    f"for {urlsplit(url).path}"
                ) from None
            except ValueError:
                raise FhirIngestError("FHIR server did not answer with JSON") from None
        if not isinstance(body, dict) or "resourceType" not in body:
            raise FhirIngestError("FHIR server did not answer with a FHIR resource")
        return body

    def _patients(self) -> Iterator[tuple[dict, int | None]]:
        """Yield (Patient, total) page by page."""
        for patient, total in self.search("Patient", {"_count": PAGE_SIZE}):
            if as_str(patient.get("id")):
                yield patient, total

    def _read_medications(self, wanted: set[str]) -> None:
        """Read the referenced Medications not read yet, a batch of ids per search."""
        missing = sorted(wanted - self.medications.keys() - self._unknown_medications)
        for first in range(0, len(missing), ID_BATCH):
            batch = missing[first : first + ID_BATCH]
            params = {"_id": ",".join(batch), "_count": len(batch)}
            for medication, _ in self.search("Medication", params):
                remember(self.medications, medication)
            self._unknown_medications.update(set(batch) - self.medications.keys())

    def _index_type(self, resource_type: str) -> None:
        """Read a whole type once and index it by patient (fallback when `patient=` is refused)."""
        index: dict[str, list[dict]] = {}
        for resource, _ in self.search(resource_type, {"_count": PAGE_SIZE}):
            patient = patient_id_of(resource)
            if patient:
                index.setdefault(patient, []).append(resource)
        self._by_patient[resource_type] = index
        self.fallback_types.add(resource_type)


def bearer_header(credential: Credential) -> dict[str, str]:
    """The Authorization header for a token or a token callable (none without a credential)."""
    token = credential() if callable(credential) else credential
    return {"Authorization": f"Bearer {token}"} if token else {}


def next_link(bundle: dict) -> str | None:
    """The `next` link of a searchset page, or None."""
    for link in dicts_in(bundle.get("link")):
        if link.get("relation") == "next" and as_str(link.get("url")):
            return link["url"]
    return None


def bundle_total(bundle: dict) -> int | None:
    """Bundle.total when it is a count (a server may send anything)."""
    total = bundle.get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None
