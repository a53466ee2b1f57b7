"""Open Badges 3.0 VC-JWT: issue, verify, and refuse tampering, wrong keys and bad claims."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jws
from joserfc.jwk import OctKey, RSAKey

from app.ledger.chain import canonical_json
from app.ledger.outputs import badges
from app.ledger.outputs.badges import verify_badge
from tests.ledger_outputs.world import BASE_URL, modules

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ISSUED = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture
def key(tmp_path):
    """The issuer key of a test instance."""
    return badges.issuer_key(tmp_path / "instance")


@pytest.fixture
def kid(key):
    """The key's URL id."""
    return badges.key_id(BASE_URL, key)


@pytest.fixture
def jwks(key, kid):
    """The issuer's public JWKS."""
    return badges.public_jwks(key, kid)


ISSUER = badges.issuer_for(BASE_URL, "Bedside demo provider (not accredited)")


def issue(store, key, kid) -> list[str]:
    """Sign badges for every standing credit of the ledger."""
    return list(
        badges.issue_badges(
            store.iter_chain(),
            key=key,
            kid=kid,
            issuer=ISSUER,
            base_url=BASE_URL,
            library=modules(),
            issued_at=ISSUED,
        )
    )


def parts(token: str) -> tuple[dict, dict]:
    """Decode a token's header and payload without verifying."""
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


def b64(value: dict) -> str:
    """Base64url-encode JSON without padding."""
    return base64.urlsafe_b64encode(canonical_json(value).encode()).decode().rstrip("=")


def test_every_standing_credit_gets_a_badge_that_verifies(store, world, key, kid, jwks):
    tokens = issue(store, key, kid)
    standing = [r for r in store.iter_chain() if r.kind == "credit"]
    assert len(tokens) == len(standing) - 1  # the reversed sepsis credit gets none
    for token in tokens:
        report = verify_badge(token, jwks, now=NOW, issuer=ISSUER.id)
        assert report.ok, report.problems
        assert report.summary().startswith("Valid Open Badge ")


def test_header_and_payload_follow_the_ob3_jwt_convention(store, world, key, kid):
    header, payload = parts(issue(store, key, kid)[0])
    assert header == {"alg": "RS256", "kid": kid, "typ": "JWT"}
    assert payload["@context"] == list(badges.CONTEXTS)
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["iss"] == payload["issuer"]["id"] == f"{BASE_URL}/ledger/badges/issuer"
    assert payload["issuer"]["type"] == ["Profile"] and payload["issuer"]["name"]
    assert payload["jti"] == payload["id"] and payload["id"].startswith("urn:uuid:")
    assert payload["sub"] == payload["credentialSubject"]["id"]
    assert payload["sub"] == f"urn:bedside:learner:{world.learners['alice']}"
    assert payload["nbf"] == int(datetime.fromisoformat(payload["validFrom"]).timestamp())
    assert payload["iat"] == int(ISSUED.timestamp())
    assert "vc" not in payload
    subject = payload["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"] and subject["creditsEarned"] == 0.25
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    activity = f"{BASE_URL}/activities/case/af-anticoagulation/1.2.0"
    assert achievement["id"] == f"{activity}#ama-pra-category-1"
    assert achievement["name"].startswith("Atrial fibrillation")
    assert "0.25 AMA PRA Category 1 Credit™" in achievement["description"]
    assert "75%" in achievement["criteria"]["narrative"]


def test_a_tampered_payload_fails(store, world, key, kid, jwks):
    token = issue(store, key, kid)[0]
    header, _, signature = token.split(".")
    claims = parts(token)[1]
    claims["credentialSubject"]["creditsEarned"] = 25.0
    report = verify_badge(f"{header}.{b64(claims)}.{signature}", jwks, now=NOW)
    assert not report.ok and "signature does not verify" in report.problems[0]


def test_a_wrong_key_fails(store, world, key, kid):
    token = issue(store, key, kid)[0]
    other = RSAKey.generate_key(2048, private=True)
    report = verify_badge(token, badges.public_jwks(other, kid), now=NOW)
    assert not report.ok and "signature does not verify" in report.summary()
    unknown = verify_badge(token, badges.public_jwks(other, "https://x.test/k"), now=NOW)
    assert not unknown.ok and "no key with kid" in unknown.summary()


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ({"alg": "none"}, "algorithm 'none' is not allowed"),
        ({"alg": "HS256"}, "algorithm 'HS256' is not allowed"),
        ({"typ": "vc+jwt"}, "typ is 'vc+jwt'"),
        ({"jwk": {"kty": "EC"}}, "unexpected JOSE header parameters: jwk"),
    ],
)
def test_the_header_is_checked_before_the_signature(store, world, key, kid, jwks, header, problem):
    token = issue(store, key, kid)[0]
    _, payload, signature = token.split(".")
    forged = b64({"alg": "RS256", "kid": kid, "typ": "JWT", **header})
    report = verify_badge(f"{forged}.{payload}.{signature}", jwks, now=NOW)
    assert not report.ok and problem in report.problems[0]


def test_an_hmac_token_signed_with_the_public_key_is_refused(store, world, key, kid, jwks):
    claims = parts(issue(store, key, kid)[0])[1]
    secret = OctKey.import_key(json.dumps(jwks["keys"][0]).encode())
    header = {"alg": "HS256", "kid": kid, "typ": "JWT"}
    token = jws.serialize_compact(header, canonical_json(claims), secret, algorithms=["HS256"])
    assert not verify_badge(token, jwks, now=NOW).ok


def sign_claims(claims: dict, key, kid) -> str:
    """Sign arbitrary claims with the issuer key (to test claim checks past the signature)."""
    header = {"alg": "RS256", "kid": kid, "typ": "JWT"}
    return jws.serialize_compact(header, canonical_json(claims), key, algorithms=["RS256"])


def test_registered_claims_must_mirror_the_credential(store, world, key, kid, jwks):
    claims = parts(issue(store, key, kid)[0])[1]
    for name, value, problem in (
        ("iss", "https://evil.test/issuer", "iss 'https://evil.test/issuer' does not match"),
        ("sub", "urn:bedside:learner:other", "sub 'urn:bedside:learner:other' does not match"),
        ("jti", "urn:uuid:00000000-0000-4000-8000-000000000000", "jti "),
        ("nbf", claims["nbf"] + 1, "does not match validFrom"),
    ):
        report = verify_badge(sign_claims({**claims, name: value}, key, kid), jwks, now=NOW)
        assert not report.ok and any(problem in p for p in report.problems), report.problems
    wrong_issuer = verify_badge(sign_claims(claims, key, kid), jwks, now=NOW, issuer="https://x/")
    assert not wrong_issuer.ok and "not the expected" in wrong_issuer.problems[0]


def test_dates_are_checked(store, world, key, kid, jwks):
    token = issue(store, key, kid)[0]
    before = datetime(2026, 3, 1, tzinfo=UTC)
    report = verify_badge(token, jwks, now=before)
    assert not report.ok and "not valid before" in report.problems[0]
    claims = parts(token)[1]
    expired = {**claims, "exp": int((NOW - timedelta(days=1)).timestamp())}
    assert "expired" in verify_badge(sign_claims(expired, key, kid), jwks, now=NOW).summary()


def test_required_ob3_fields_are_checked(store, world, key, kid, jwks):
    claims = parts(issue(store, key, kid)[0])[1]
    broken = json.loads(json.dumps(claims))
    del broken["credentialSubject"]["achievement"]["criteria"]
    broken["@context"] = ["https://www.w3.org/2018/credentials/v1"]
    report = verify_badge(sign_claims(broken, key, kid), jwks, now=NOW)
    assert not report.ok
    assert any("@context" in p for p in report.problems)
    assert any("criteria" in p for p in report.problems)


def test_garbage_is_a_clear_failure(jwks):
    assert verify_badge("not-a-token", jwks).problems == (
        "not a compact JWS (expected three dot-separated parts)",
    )
    assert "JOSE header cannot be read" in verify_badge("%%%.a.b", jwks).problems[0]


def test_the_key_is_made_once_with_mode_0600_and_never_exported_private(tmp_path, key, jwks):
    path = tmp_path / "instance" / badges.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert badges.issuer_key(tmp_path / "instance").thumbprint() == key.thumbprint()
    (public,) = jwks["keys"]
    assert "d" not in public and public["alg"] == "RS256" and public["use"] == "sig"
    assert public["kid"].endswith("/ledger/badges/keys/" + key.thumbprint())
