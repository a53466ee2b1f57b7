"""The benchmark's hook call: the demo sepsis patient, ~30 prefetched resources, signed JWTs."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey

from app.devtools.fhir_store import FixtureStore
from app.settings import REPO_ROOT
from cds_hooks.prefetch import render_template
from cds_hooks.services import PREFETCH

PATIENTS_DIR = REPO_ROOT / "fhir_fixtures" / "patients"
PATIENT_ID = "sepsis-adult"
ENCOUNTER_ID = "sepsis-adult-ed-visit"
SERVICE_PATH = "/cds-services/bedside-order-select"
FLOOR_PATH = "/cds-services/_floor/bedside-order-select"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CEFTRIAXONE = ("1665021", "ceftriaxone 1000 MG Injection")
ISSUER = "https://ehr.bench.bedside.example"
ALGORITHMS = ("RS384", "ES384")  # the two algorithms CDS Hooks clients sign with
TARGET_RESOURCES = 30
VITAL_IDS = ("temp", "hr", "rr", "bp", "spo2")
USER_MARK, INSTANCE_MARK = "@@BENCH-USER@@", "@@BENCH-INSTANCE@@"


def make_key(alg: str = "ES384") -> Key:
    """A fresh signing key for the benchmark's EHR (its public half goes to a temp file only)."""
    parameters = {"kid": f"bench-{alg.lower()}", "alg": alg}
    if alg == "RS384":
        return RSAKey.generate_key(2048, parameters=parameters)
    return ECKey.generate_key("P-384", parameters=parameters)


def clients_document(keys: Iterable[Key]) -> list[dict]:
    """The BEDSIDE_CDS_CLIENTS file content: one EHR trusted with these keys' public halves."""
    return [{"iss": ISSUER, "jwks": {"keys": [key.as_dict(private=False) for key in keys]}}]


def sign_tokens(key: Key, audience: str, count: int, lifetime: int = 900) -> list[str]:
    """Pre-sign `count` client JWTs for one URL, each with its own jti (alg from the key)."""
    now = int(time.time())
    alg = key.alg
    header = {"alg": alg, "typ": "JWT", "kid": key.kid}
    tokens = []
    for _ in range(count):
        claims = {
            "iss": ISSUER,
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        tokens.append(jwt.encode(header, claims, key, algorithms=[alg]))
    return tokens


def patient_prefetch(now: datetime | None = None) -> dict:
    """Answer every prefetch template from the fixtures (time-shifted to now), padded to ~30."""
    store = FixtureStore.from_directory(PATIENTS_DIR, now=now or datetime.now(UTC))
    prefetch: dict = {}
    for key, template in PREFETCH.items():
        query = render_template(template, {"patientId": PATIENT_ID})
        if "?" not in query:
            prefetch[key] = store.read(*query.split("/"))
            continue
        resource_type, params = query.split("?", 1)
        prefetch[key] = searchset(store.search(resource_type, parse_qsl(params)))
    pad_observations(prefetch["observations"], TARGET_RESOURCES - count_resources(prefetch))
    return prefetch


def pad_observations(bundle: dict, missing: int) -> None:
    """Add earlier repeats of the vital signs (every 4 h back over 24 h), `missing` of them."""
    current = [entry["resource"] for entry in bundle["entry"]]
    vitals = [r for r in current if r["id"].removeprefix(f"{PATIENT_ID}-")[:-2] in VITAL_IDS]
    extra: list[dict] = []
    for step in range(1, 7):
        for vital in vitals:
            if len(extra) >= missing:
                break
            extra.append(earlier_copy(vital, hours=4 * step, number=step + 1))
    resources = sorted(current + extra, key=lambda r: r["effectiveDateTime"], reverse=True)
    bundle["entry"] = [{"resource": resource} for resource in resources]
    bundle["total"] = len(resources)


def earlier_copy(observation: dict, *, hours: int, number: int) -> dict:
    """The same vital sign measured `hours` earlier (values nudged so they differ)."""
    copied = copy.deepcopy(observation)
    copied["id"] = f"{observation['id'][:-2]}-{number}"
    taken = datetime.fromisoformat(observation["effectiveDateTime"]) - timedelta(hours=hours)
    copied["effectiveDateTime"] = taken.isoformat().replace("+00:00", "Z")
    for quantity in [copied.get("valueQuantity")] + [
        c.get("valueQuantity") for c in copied.get("component", [])
    ]:
        if quantity:
            quantity["value"] = round(quantity["value"] * (1 - 0.02 * number), 1)
    return copied


def searchset(resources: list[dict]) -> dict:
    """Wrap resources in a searchset Bundle."""
    entries = [{"resource": resource} for resource in resources]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def count_resources(prefetch: dict) -> int:
    """How many FHIR resources the prefetch carries (Bundles counted by their entries)."""
    return sum(
        len(value.get("entry", [])) if value.get("resourceType") == "Bundle" else 1
        for value in prefetch.values()
        if value
    )


def draft_ceftriaxone() -> dict:
    """The drafted order: ceftriaxone 1 g injection."""
    code, display = CEFTRIAXONE
    return {
        "resourceType": "MedicationRequest",
        "id": "bench-draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "encounter": {"reference": f"Encounter/{ENCOUNTER_ID}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": display}],
            "text": display,
        },
    }


def order_select_body(prefetch: dict, *, user_id: str, hook_instance: str) -> dict:
    """The order-select request body an EHR sends while ceftriaxone is drafted."""
    order = draft_ceftriaxone()
    return {
        "hook": "order-select",
        "hookInstance": hook_instance,
        "context": {
            "userId": user_id,
            "patientId": PATIENT_ID,
            "encounterId": ENCOUNTER_ID,
            "selections": [f"MedicationRequest/{order['id']}"],
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": order}],
            },
        },
        "prefetch": prefetch,
    }


class BodyFactory:
    """Encoded request bodies that differ only in userId and hookInstance (cheap to make)."""

    def __init__(self, prefetch: dict):
        body = order_select_body(prefetch, user_id=USER_MARK, hook_instance=INSTANCE_MARK)
        text = json.dumps(body, separators=(",", ":"))
        self.size = len(text.encode())
        head, rest = text.split(INSTANCE_MARK)
        middle, tail = rest.split(USER_MARK)
        self._parts = (head.encode(), middle.encode(), tail.encode())

    def body(self, number: int) -> bytes:
        """Body number n: a new hookInstance and one of many users (both fatigue lookups run)."""
        head, middle, tail = self._parts
        user = f"Practitioner/bench-user-{number % 997}".encode()
        return head + str(uuid.uuid4()).encode() + middle + user + tail

    def bodies(self, count: int) -> list[bytes]:
        """count distinct bodies."""
        return [self.body(number) for number in range(count)]
