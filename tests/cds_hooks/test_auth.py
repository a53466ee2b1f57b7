"""CDS client JWT verification: real keys, real signatures, a real JWKS server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from joserfc.jwk import OctKey

from cds_hooks.auth import AuthError, ClientAuthenticator, VerifiedClient
from cds_hooks.clients import TrustedClient
from tests.cds_hooks.jwt_helpers import (
    OMIT,
    JwksServer,
    b64url,
    client_claims,
    compact_token,
    make_ec_key,
    make_rsa_key,
    public_jwks,
    sign_client_token,
    signing_input,
)

AUD = "https://bedside.example/cds-services/bedside-cme"
INLINE_ISS = "https://ehr.example"
JKU_ISS = "https://sandbox.cds-hooks.org"


@pytest.fixture(scope="module")
def keys():
    """Signing keys, generated once (RSA is slow); `impostor` shares the EC key's kid."""
    return SimpleNamespace(
        ec=make_ec_key("ec-1"),
        ec256=make_ec_key("ec256-1", "P-256"),
        rsa=make_rsa_key("rsa-1"),
        impostor=make_ec_key("ec-1"),
        rotated=make_ec_key("ec-2"),
    )


class FakeClock:
    """An injectable clock the tests move forward by hand."""

    def __init__(self):
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


class ReplayStore:
    """An in-memory claim_jti: True the first time an (iss, jti) is seen."""

    def __init__(self):
        self.seen: dict[tuple[str, str], int] = {}

    def claim(self, iss: str, jti: str, exp: int) -> bool:
        if (iss, jti) in self.seen:
            return False
        self.seen[(iss, jti)] = exp
        return True

    def was_claimed(self, iss: str, jti: str) -> bool:
        return (iss, jti) in self.seen


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store():
    return ReplayStore()


@pytest.fixture
def server(keys):
    jwks_server = JwksServer(public_jwks(keys.ec, keys.rsa))
    yield jwks_server
    jwks_server.close()


@pytest.fixture
def auth(keys, server, clock, store):
    """An authenticator trusting one inline-JWKS client and one jku client (the real server)."""
    clients = [
        TrustedClient(iss=INLINE_ISS, jwks=public_jwks(keys.ec, keys.ec256, keys.rsa)),
        TrustedClient(iss=JKU_ISS, jku=server.url),
    ]
    return authenticator(clients, store, clock)


def authenticator(clients, store: ReplayStore, clock, **options) -> ClientAuthenticator:
    """An authenticator over the in-memory replay store and the fake clock."""
    return ClientAuthenticator(
        clients, claim_jti=store.claim, jti_seen=store.was_claimed, clock=clock, **options
    )


def bearer(token: str) -> str:
    return f"Bearer {token}"


def token_for(key, clock, *, iss=INLINE_ISS, aud=AUD, alg="ES384", **options) -> str:
    """A token signed by key (kid from the key) at the fake clock's time."""
    options.setdefault("kid", key.kid)
    options.setdefault("now", clock.now)
    return sign_client_token(key, iss=iss, aud=aud, alg=alg, **options)


# --- valid tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_name", "alg"), [("ec", "ES384"), ("rsa", "RS384"), ("ec256", "ES256")]
)
def test_valid_token_gives_the_verified_client(auth, keys, clock, store, key_name, alg):
    key = getattr(keys, key_name)
    token = token_for(key, clock, alg=alg, sub="Practitioner/1", tenant="t-1", jti="j-1")
    verified = auth.verify(bearer(token), AUD)
    expires_at = int(clock.now) + 300
    assert verified == VerifiedClient(INLINE_ISS, "Practitioner/1", "t-1", "j-1", expires_at)
    assert store.seen == {(INLINE_ISS, "j-1"): expires_at}


def test_verifying_without_claiming_leaves_the_jti_to_the_caller_but_refuses_a_used_one(
    auth, keys, clock, store
):
    token = bearer(token_for(keys.ec, clock, jti="j-2"))
    assert auth.verify(token, AUD, claim=False).jti == "j-2"
    assert store.seen == {}  # nothing claimed: the hook endpoint claims it with the call
    assert auth.verify(token, AUD).jti == "j-2"  # claims it now
    with pytest.raises(AuthError):
        auth.verify(token, AUD, claim=False)


def test_optional_claims_may_be_absent_and_unknown_claims_are_accepted(auth, keys, clock):
    token = token_for(keys.ec, clock, fhirUser="Practitioner/9", nbf=int(clock.now))
    verified = auth.verify(bearer(token), AUD)
    assert (verified.sub, verified.tenant) == (None, None)


def test_audience_list_containing_ours_is_accepted(auth, keys, clock):
    token = token_for(keys.ec, clock, aud=["https://other.example", AUD])
    assert auth.verify(bearer(token), AUD).iss == INLINE_ISS


def test_clock_skew_within_leeway_is_accepted(auth, keys, clock):
    token = token_for(keys.ec, clock, now=clock.now - 330)  # expired 30 s ago
    assert auth.verify(bearer(token), AUD).iss == INLINE_ISS
    token = token_for(keys.ec, clock, now=clock.now + 30)  # issued 30 s "in the future"
    assert auth.verify(bearer(token), AUD).iss == INLINE_ISS


def test_lowercase_bearer_scheme_and_typ_are_accepted(auth, keys, clock):
    token = token_for(keys.ec, clock, header={"typ": "jwt"})
    assert auth.verify(f"bearer {token}", AUD).iss == INLINE_ISS


def test_lifetime_of_exactly_one_hour_is_accepted(auth, keys, clock):
    assert auth.verify(bearer(token_for(keys.ec, clock, lifetime=3600)), AUD).iss == INLINE_ISS


# --- rejected tokens ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer ...",
    ],
)
def test_missing_or_malformed_header_is_rejected(auth, header):
    with pytest.raises(AuthError):
        auth.verify(header, AUD)


def test_token_without_bearer_scheme_is_rejected(auth, keys, clock):
    with pytest.raises(AuthError):
        auth.verify(token_for(keys.ec, clock), AUD)


def test_oversized_token_is_rejected(auth, keys, clock):
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, padding="x" * 10_000)), AUD)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_rejected(auth, keys, clock, store, alg):
    claims = client_claims(iss=INLINE_ISS, aud=AUD, now=clock.now)
    token = compact_token({"alg": alg, "typ": "JWT", "kid": keys.ec.kid}, claims)
    with pytest.raises(AuthError):
        auth.verify(bearer(token), AUD)
    assert store.seen == {}


def test_hs256_signed_with_a_secret_is_rejected(auth, keys, clock):
    secret = OctKey.import_key(b"a-shared-secret-long-enough-for-hmac")
    token = token_for(secret, clock, alg="HS256", kid=keys.ec.kid)
    with pytest.raises(AuthError):
        auth.verify(bearer(token), AUD)


@pytest.mark.parametrize(("alg", "digest"), [("HS256", hashlib.sha256), ("HS384", hashlib.sha384)])
def test_hmac_with_the_public_key_as_secret_is_rejected(auth, keys, clock, alg, digest):
    """The algorithm-confusion attack: HMAC keyed with the (public) verification key."""
    claims = client_claims(iss=INLINE_ISS, aud=AUD, now=clock.now)
    for secret in (keys.ec.as_pem(private=False), json.dumps(keys.ec.as_dict()).encode()):
        unsigned = compact_token({"alg": alg, "typ": "JWT", "kid": keys.ec.kid}, claims)
        mac = hmac.new(secret, signing_input(unsigned), digest).digest()
        with pytest.raises(AuthError):
            auth.verify(bearer(f"{unsigned.rsplit('.', 1)[0]}.{b64url(mac)}"), AUD)


@pytest.mark.parametrize("alg", ["PS256", "EdDSA", "ES256K", "RS1", ""])
def test_other_algorithms_are_rejected(auth, keys, clock, alg):
    claims = client_claims(iss=INLINE_ISS, aud=AUD, now=clock.now)
    token = compact_token({"alg": alg, "kid": keys.ec.kid}, claims, b"sig")
    with pytest.raises(AuthError):
        auth.verify(bearer(token), AUD)


@pytest.mark.parametrize(
    "options",
    [
        {"now": "expired"},
        {"nbf": "future"},
        {"now": "future"},
        {"aud": "https://bedside.example/cds-services/other"},
        {"aud": AUD + "/"},
        {"aud": ["https://other.example"]},
        {"aud": OMIT},
        {"iss": "https://unknown.example"},
        {"jti": OMIT},
        {"jti": ""},
        {"jti": 42},
        {"exp": OMIT},
        {"iat": OMIT},
        {"lifetime": 3601},
        {"sub": 7},
        {"tenant": ["t-1"]},
        {"kid": None},
        {"kid": "unknown-kid"},
        {"header": {"typ": "at+jwt"}},
    ],
    ids=lambda options: ",".join(f"{name}={value!r}"[:30] for name, value in options.items()),
)
def test_bad_claims_or_header_are_rejected(auth, keys, clock, store, options):
    times = {"expired": clock.now - 1000, "future": clock.now + 600}
    options = {
        name: times.get(value, value) if isinstance(value, str) else value
        for name, value in options.items()
    }
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, **options)), AUD)
    assert store.seen == {}


def test_keys_are_those_of_the_client_named_in_iss(keys, clock, store):
    """A token signed with client B's key but naming client A in iss is rejected."""
    clients = [
        TrustedClient(iss=INLINE_ISS, jwks=public_jwks(keys.rotated)),
        TrustedClient(iss="https://other-ehr.example", jwks=public_jwks(keys.ec)),
    ]
    auth = authenticator(clients, store, clock)
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, iss=INLINE_ISS)), AUD)


def test_signature_by_another_key_with_the_same_kid_is_rejected(auth, keys, clock):
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.impostor, clock)), AUD)


def test_tampered_payload_is_rejected(auth, keys, clock):
    header, _, signature = token_for(keys.ec, clock).split(".")
    claims = client_claims(iss=INLINE_ISS, aud=AUD, now=clock.now, sub="Practitioner/admin")
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(AuthError):
        auth.verify(bearer(forged), AUD)


def test_key_type_or_curve_must_fit_the_algorithm(auth, keys, clock):
    es256_claiming_p384_kid = token_for(keys.ec256, clock, alg="ES256", kid=keys.ec.kid)
    rs384_claiming_ec_kid = token_for(keys.rsa, clock, alg="RS384", kid=keys.ec.kid)
    for token in (es256_claiming_p384_kid, rs384_claiming_ec_kid):
        with pytest.raises(AuthError):
            auth.verify(bearer(token), AUD)


def test_replayed_jti_is_rejected(auth, keys, clock):
    token = token_for(keys.ec, clock, jti="once")
    auth.verify(bearer(token), AUD)
    with pytest.raises(AuthError, match="replayed jti"):
        auth.verify(bearer(token), AUD)
    same_jti_other_key = token_for(keys.rsa, clock, alg="RS384", jti="once")
    with pytest.raises(AuthError, match="replayed jti"):
        auth.verify(bearer(same_jti_other_key), AUD)


def test_invalid_token_does_not_burn_its_jti(auth, keys, clock, store):
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.impostor, clock, jti="shared-jti")), AUD)
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, jti="shared-jti", aud="https://x")), AUD)
    assert store.seen == {}
    assert auth.verify(bearer(token_for(keys.ec, clock, jti="shared-jti")), AUD).jti == "shared-jti"


def test_error_messages_never_contain_the_token(auth, keys, clock):
    token = token_for(keys.impostor, clock)
    with pytest.raises(AuthError) as raised:
        auth.verify(bearer(token), AUD)
    assert token not in str(raised.value)
    assert all(part not in str(raised.value) for part in token.split("."))
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


# --- keys from a jku (real HTTP) ------------------------------------------------------------


def test_jwks_is_fetched_once_and_cached(auth, keys, clock, server):
    for _ in range(5):
        auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
        auth.verify(bearer(token_for(keys.rsa, clock, iss=JKU_ISS, alg="RS384")), AUD)
    assert server.requests == 1


def test_header_jku_equal_to_the_allow_listed_one_is_accepted(auth, keys, clock, server):
    token = token_for(keys.ec, clock, iss=JKU_ISS, jku=server.url)
    assert auth.verify(bearer(token), AUD).iss == JKU_ISS


@pytest.mark.parametrize(
    "jku",
    ["https://evil.example/jwks.json", "{url}?x=1", "{url}/", "http://localhost:{port}/jwks.json"],
)
def test_header_jku_not_allow_listed_is_rejected_without_fetching(auth, keys, clock, server, jku):
    port = server.httpd.server_address[1]
    token = token_for(keys.ec, clock, iss=JKU_ISS, jku=jku.format(url=server.url, port=port))
    with pytest.raises(AuthError):
        auth.verify(bearer(token), AUD)
    assert server.requests == 0


def test_header_jku_of_an_inline_jwks_client_is_never_fetched(auth, keys, clock, server):
    server.jwks = public_jwks(keys.rotated)
    assert auth.verify(bearer(token_for(keys.ec, clock, jku=server.url)), AUD).iss == INLINE_ISS
    with pytest.raises(AuthError):  # the header's jku serves this key, but it is not ours
        auth.verify(bearer(token_for(keys.rotated, clock, jku=server.url)), AUD)
    assert server.requests == 0


def test_jwks_is_refetched_after_its_ttl(auth, keys, clock, server):
    auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
    clock.now += 3600
    auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
    assert server.requests == 2


def test_key_rotation_is_picked_up_by_refetch_on_unknown_kid(auth, keys, clock, server):
    auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
    server.jwks = public_jwks(keys.rotated)
    clock.now += 61
    verified = auth.verify(bearer(token_for(keys.rotated, clock, iss=JKU_ISS)), AUD)
    assert verified.iss == JKU_ISS
    assert server.requests == 2


def test_refetch_on_unknown_kid_is_rate_limited(auth, keys, clock, server):
    auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
    clock.now += 61
    for number in range(20):
        with pytest.raises(AuthError):
            auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS, kid=f"spray-{number}")), AUD)
    assert server.requests == 2
    auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)  # known kids still work
    clock.now += 59
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS, kid="spray-again")), AUD)
    assert server.requests == 2
    clock.now += 2
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS, kid="spray-later")), AUD)
    assert server.requests == 3


def test_concurrent_verifications_share_one_fetch(auth, keys, clock, server):
    tokens = [bearer(token_for(keys.ec, clock, iss=JKU_ISS)) for _ in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda header: auth.verify(header, AUD), tokens))
    assert {result.iss for result in results} == {JKU_ISS}
    assert server.requests == 1


@pytest.mark.parametrize("status", [500, 404, 302])
def test_fetch_failure_is_rejected_and_retried_at_a_limited_rate(auth, keys, clock, server, status):
    server.status = status
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
    server.status = 200
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
    assert server.requests == 1
    clock.now += 61
    assert auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD).iss == JKU_ISS
    assert server.requests == 2


def test_failed_refetch_keeps_the_cached_keys(auth, keys, clock, server):
    auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
    server.status = 500
    clock.now += 61
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.rotated, clock, iss=JKU_ISS)), AUD)
    assert auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD).iss == JKU_ISS
    assert server.requests == 2


def test_server_down_is_rejected(keys, clock, store):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = TrustedClient(iss=JKU_ISS, jku=f"http://127.0.0.1:{port}/jwks.json")
    auth = authenticator([client], store, clock)
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)


@pytest.mark.parametrize("body", [["not", "a", "jwks"], {"keys": "nope"}, {}])
def test_jwks_that_is_not_a_key_set_is_rejected(auth, keys, clock, server, body):
    server.jwks = body
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)


def test_symmetric_key_in_fetched_jwks_is_ignored(auth, keys, clock, server):
    secret = OctKey.import_key(b"a-shared-secret-long-enough-for-hmac", {"kid": "sym-1"})
    server.jwks = {"keys": [secret.as_dict(private=True), keys.ec.as_dict(private=False)]}
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS, kid="sym-1")), AUD)
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(secret, clock, iss=JKU_ISS, alg="HS256")), AUD)


def test_private_key_in_fetched_jwks_is_ignored(auth, keys, clock, server):
    server.jwks = {"keys": [keys.rotated.as_dict(private=True)]}
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.rotated, clock, iss=JKU_ISS)), AUD)


def test_encryption_key_in_fetched_jwks_is_ignored(auth, keys, clock, server):
    server.jwks = {"keys": [{**keys.rotated.as_dict(private=False), "use": "enc"}]}
    with pytest.raises(AuthError):
        auth.verify(bearer(token_for(keys.rotated, clock, iss=JKU_ISS)), AUD)


def test_injected_fetcher_is_used(keys, clock, store):
    fetched = []

    def fetch(url):
        fetched.append(url)
        return public_jwks(keys.ec)

    client = TrustedClient(iss=JKU_ISS, jku="https://sandbox.cds-hooks.org/jwks")
    auth = authenticator([client], store, clock, fetch_jwks=fetch)
    auth.verify(bearer(token_for(keys.ec, clock, iss=JKU_ISS)), AUD)
    assert fetched == ["https://sandbox.cds-hooks.org/jwks"]
