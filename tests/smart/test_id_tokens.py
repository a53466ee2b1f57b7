"""id_token validation against keys served on a loopback socket: Authlib's OIDC claim rules hold."""

from __future__ import annotations

import time

import pytest
import requests
from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from app.smart.id_tokens import validate_id_token
from app.smart.smart_errors import SmartLaunchError
from tests.smart.loopback import serve

ISSUER = "https://ehr.example/fhir"
CLIENT_ID = "bedside"
NONCE = "n-42"
EHR_KEY = RSAKey.generate_key(2048, parameters={"kid": "ehr"})


def jwks_server() -> Flask:
    """An EHR that publishes only its public signing key."""
    app = Flask(__name__)

    @app.get("/jwks")
    def jwks():
        return KeySet([EHR_KEY]).as_dict(private=False)

    return app


def id_token(*, signer: RSAKey = EHR_KEY, **change) -> str:
    """A code-flow id_token for Bedside, with some claims changed (None removes one)."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "Practitioner/dr-ed-okafor",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        **change,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": "RS256", "kid": "ehr"}, claims, signer)


def validate(token: str) -> dict:
    """Validate a token with the keys fetched over real HTTP."""
    with serve(jwks_server()) as base, requests.Session() as http:
        return validate_id_token(
            http, token, jwks_uri=f"{base}/jwks", issuer=ISSUER, client_id=CLIENT_ID, nonce=NONCE
        )


def test_a_good_id_token_gives_its_claims():
    claims = validate(id_token(aud=[CLIENT_ID, "ehr-portal"], azp=CLIENT_ID))
    assert claims["sub"] == "Practitioner/dr-ed-okafor" and claims["nonce"] == NONCE
    assert type(claims) is dict


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "it has expired"),
        ({"aud": "someone-else"}, "Invalid claim: 'aud'"),
        ({"iss": "https://other-ehr.example/fhir"}, "Invalid claim: 'iss'"),
        ({"nonce": "replayed"}, "Invalid claim: 'nonce'"),
        ({"nonce": None}, "Missing claim: 'nonce'"),
        ({"sub": None}, "Missing claim: 'sub'"),
        ({"sub": ""}, "Invalid claim: 'sub'"),
        ({"iat": None}, "Missing claim: 'iat'"),
        ({"iat": 4_000_000_000}, "issued in the future"),
        # several audiences: Bedside must be named the authorized party
        ({"aud": [CLIENT_ID, "ehr-portal"]}, "Missing claim: 'azp'"),
        ({"aud": [CLIENT_ID, "ehr-portal"], "azp": "ehr-portal"}, "Invalid claim: 'azp'"),
        ({"azp": "ehr-portal"}, "Invalid claim: 'azp'"),
    ],
)
def test_a_wrong_claim_is_refused_with_its_reason(change, reason):
    with pytest.raises(SmartLaunchError) as refused:
        validate(id_token(**change))
    assert refused.value.title == "Sign-in could not be verified"
    assert reason in refused.value.message


def test_a_forged_signature_is_refused():
    forger = RSAKey.generate_key(2048, parameters={"kid": "ehr"})
    with pytest.raises(SmartLaunchError) as refused:
        validate(id_token(signer=forger))
    assert "signature could not be verified" in refused.value.message
