"""Verify the JWT a CDS client (EHR) sends with each call: trusted issuers, keys and algs only."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, RSAKey
from joserfc.jws import CompactSignature, JWSRegistry, extract_compact, validate_compact
from joserfc.jwt import JWTClaimsRegistry

from cds_hooks.clients import TrustedClient
from cds_hooks.fhir_fetch import read_capped

log = logging.getLogger(__name__)

#: The only algorithms accepted, each with the key type it needs (no "none", no HS*).
ALGORITHM_KEY_TYPES = {
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
}
KEY_CLASSES = {"EC": ECKey, "RSA": RSAKey}
PRIVATE_KEY_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
MAX_LIFETIME_SECONDS = 3600
MAX_TOKEN_LENGTH = 8192
MAX_JWKS_BYTES = 256 * 1024
JWKS_FETCH_SECONDS = 4.0  # a whole JWKS fetch, however slowly its server sends
# How long a call waits for another call's fetch of the same JWKS: the whole fetch when nothing
# usable is cached (a cold start, the hourly refresh), briefly when cached keys can answer it.
WHOLE_FETCH_WAIT_SECONDS = JWKS_FETCH_SECONDS + 3.0  # connecting (2 s) and some slack
FETCH_WAIT_SECONDS = 1.0
ESSENTIAL = {"essential": True}
#: One signature registry per algorithm, each allowing only that algorithm (built once).
SIGNATURE_REGISTRIES = {alg: JWSRegistry(algorithms=[alg]) for alg in ALGORITHM_KEY_TYPES}

KeysByKid = dict[str, list[Key]]


class AuthError(Exception):
    """The caller is not authenticated; the message is for the server log only (never the token)."""


@dataclass(frozen=True)
class VerifiedClient:
    """Who called, as proven by a verified JWT."""

    iss: str
    sub: str | None
    tenant: str | None
    jti: str
    expires_at: int


@dataclass(frozen=True)
class CachedJwks:
    """The keys last fetched from one jku URL, when they were fetched, and the last attempt."""

    keys: KeysByKid | None
    fetched_at: float
    attempted_at: float


def fetch_jwks_over_http(url: str) -> dict:
    """GET a JWKS: no redirects, bounded size, read whole within JWKS_FETCH_SECONDS; its JSON."""
    deadline = time.monotonic() + JWKS_FETCH_SECONDS
    with requests.get(url, timeout=(2, 3), allow_redirects=False, stream=True) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP status {response.status_code}")
        return json.loads(read_capped(response, deadline, MAX_JWKS_BYTES))


def public_keys_by_kid(jwks: object) -> KeysByKid:
    """Import the public RSA/EC signing keys of a JWKS, grouped by kid; skip every other key."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("not a JWKS")
    keys: KeysByKid = {}
    for data in jwks["keys"]:
        key = import_public_key(data)
        if key is not None:
            keys.setdefault(data["kid"], []).append(key)
    return keys


def import_public_key(data: object) -> Key | None:
    """Import one JWK if it is a public RSA/EC signature key with a kid, else None."""
    if not isinstance(data, dict) or PRIVATE_KEY_MEMBERS & data.keys():
        return None
    kty, kid, use, ops = data.get("kty"), data.get("kid"), data.get("use"), data.get("key_ops")
    if kty not in ("EC", "RSA") or not isinstance(kid, str) or not kid or use not in (None, "sig"):
        return None
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    try:
        key = KEY_CLASSES[kty].import_key(data)
    except (JoseError, ValueError, TypeError):
        return None
    return None if key.is_private else key


def bearer_token(authorization_header: str | None) -> str:
    """Take the compact JWS out of an `Authorization: Bearer <token>` header."""
    scheme, _, token = (authorization_header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthError("missing or malformed Bearer authorization header")
    return token


@dataclass(frozen=True)
class ParsedToken:
    """A compact JWS read once: its header and claims are NOT verified until verify_signature."""

    compact: CompactSignature
    header: dict
    claims: dict


def read_unverified(token: str) -> ParsedToken:
    """Read the JOSE header and the claims WITHOUT verifying them (only to choose the key)."""
    try:
        compact = extract_compact(token.encode("ascii"))
        header, claims = compact.headers(), json.loads(compact.payload)
    except (JoseError, ValueError, TypeError) as error:
        raise AuthError(f"unreadable token ({type(error).__name__})") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthError("token header or payload is not a JSON object")
    return ParsedToken(compact, header, claims)


def verify_signature(token: ParsedToken, key: Key, alg: str) -> None:
    """Check the token's signature with this key, allowing this one algorithm only."""
    try:
        valid = validate_compact(token.compact, key, registry=SIGNATURE_REGISTRIES[alg])
    except (JoseError, ValueError, TypeError) as error:
        raise AuthError(f"token rejected ({type(error).__name__})") from None
    if not valid:
        raise AuthError("token signature is not valid") from None


def check_header(header: dict) -> tuple[str, str]:
    """Require an allow-listed asymmetric alg, a kid and (if any) typ JWT; return alg and kid."""
    alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
    if not isinstance(alg, str) or alg not in ALGORITHM_KEY_TYPES:
        raise AuthError("token algorithm is not allowed")
    if not isinstance(kid, str) or not kid:
        raise AuthError("token header has no kid")
    if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
        raise AuthError("token typ is not JWT")
    return alg, kid


class ClientAuthenticator:
    """Verify CDS clients' Bearer JWTs against the trusted clients; shareable between threads."""

    def __init__(
        self,
        clients: list[TrustedClient],
        *,
        claim_jti: Callable[[str, str, int], bool],
        jti_seen: Callable[[str, str], bool],
        fetch_jwks: Callable[[str], dict] | None = None,
        leeway_seconds: int = 60,
        jwks_ttl_seconds: int = 3600,
        refetch_interval_seconds: int = 60,
        clock: Callable[[], float] = time.time,
    ):
        self._clients = {client.iss: client for client in clients}
        self._inline = {c.iss: public_keys_by_kid(c.jwks) for c in clients if c.jwks is not None}
        self._claim_jti = claim_jti
        self._jti_seen = jti_seen
        self._fetch_jwks = fetch_jwks or fetch_jwks_over_http
        self._leeway = leeway_seconds
        self._ttl = jwks_ttl_seconds
        self._refetch_interval = refetch_interval_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, CachedJwks] = {}
        self._fetch_locks: dict[str, threading.Lock] = {}

    def verify(
        self, authorization_header: str | None, expected_audience: str, *, claim: bool = True
    ) -> VerifiedClient:
        """Verify the header's JWT for this audience; raise AuthError on any failure.

        claim=False only checks that the jti is unused: the caller then MUST claim it (the hook
        endpoint does, in the transaction that records the call), or a replay would pass.
        """
        token = bearer_token(authorization_header)
        parsed = read_unverified(token)
        alg, kid = check_header(parsed.header)
        client = self._client_for(parsed.claims.get("iss"))
        key = self._key_for(client, parsed.header.get("jku"), kid, alg)
        verify_signature(parsed, key, alg)
        claims = self._checked_claims(parsed.claims, client.iss, expected_audience)
        jti, expires_at = claims["jti"], math.ceil(claims["exp"])
        if claim:
            replayed = not self._claim_jti(client.iss, jti, expires_at)
        else:
            replayed = self._jti_seen(client.iss, jti)
        if replayed:
            raise AuthError("replayed jti")
        return VerifiedClient(client.iss, claims.get("sub"), claims.get("tenant"), jti, expires_at)

    def _client_for(self, iss: object) -> TrustedClient:
        """The trusted client with this issuer."""
        client = self._clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise AuthError("token issuer is not a trusted client")
        return client

    def _key_for(self, client: TrustedClient, jku: object, kid: str, alg: str) -> Key:
        """The client's public key with this kid and a key type that fits alg."""
        if jku is not None and client.jku is not None and jku != client.jku:
            raise AuthError("token jku is not the client's allow-listed JWKS URL")
        for key in self._keys_with_kid(client, kid).get(kid, []):
            if key.key_type == ALGORITHM_KEY_TYPES[alg] and key.alg in (None, alg):
                return key
        raise AuthError("no public key for the token's kid and alg")

    def _keys_with_kid(self, client: TrustedClient, kid: str) -> KeysByKid:
        """The client's inline keys if they hold kid (no fetch), else those at its allow-listed jku.

        A header jku is never fetched: it only has to match the configured jku, if any. So a token
        naming a jku is safe to accept from an inline-only client (the CDS Hooks sandbox and Epic
        always send one): its signature must still verify with a key from our configuration.
        """
        inline = self._inline.get(client.iss, {})
        if kid in inline or client.jku is None:
            return inline
        return self._url_keys(client.jku, kid)

    def _url_keys(self, url: str, kid: str) -> KeysByKid:
        """The keys published at url: cached; re-fetched on an unknown kid, at a limited rate."""
        with self._lock:
            entry = self._cache.get(url)
            fetch_lock = self._fetch_locks.setdefault(url, threading.Lock())
        now = self._clock()
        # one fetch per URL at a time; a call waits for it (briefly if the cache can answer)
        wait = FETCH_WAIT_SECONDS if self._usable(entry, now) else WHOLE_FETCH_WAIT_SECONDS
        if self._should_fetch(entry, kid, now) and fetch_lock.acquire(timeout=wait):
            try:
                with self._lock:
                    entry = self._cache.get(url)
                now = self._clock()
                if self._should_fetch(entry, kid, now):
                    entry = self._fetch(url, entry, now)
                    with self._lock:
                        self._cache[url] = entry
            finally:
                fetch_lock.release()
        if entry is None or not self._usable(entry, now):
            raise AuthError("the client's JWKS is unavailable")
        return entry.keys

    def _usable(self, entry: CachedJwks | None, now: float) -> bool:
        """Keys cached and not past their time to live."""
        return entry is not None and entry.keys is not None and now - entry.fetched_at < self._ttl

    def _should_fetch(self, entry: CachedJwks | None, kid: str, now: float) -> bool:
        """Fetch if nothing is cached, or (once per interval at most) if stale or kid unknown."""
        if entry is None:
            return True
        if now - entry.attempted_at < self._refetch_interval:
            return False
        return entry.keys is None or now - entry.fetched_at >= self._ttl or kid not in entry.keys

    def _fetch(self, url: str, entry: CachedJwks | None, now: float) -> CachedJwks:
        """Fetch a JWKS; on failure keep any keys we had and remember the attempt."""
        try:
            keys = public_keys_by_kid(self._fetch_jwks(url))
        except Exception as error:  # any failure of the (injectable) fetcher is a failed fetch
            log.warning("Could not fetch the CDS client JWKS at %s: %s", url, type(error).__name__)
            if entry is None:
                return CachedJwks(keys=None, fetched_at=now, attempted_at=now)
            return dataclasses.replace(entry, attempted_at=now)
        return CachedJwks(keys=keys, fetched_at=now, attempted_at=now)

    def _checked_claims(self, claims: dict, iss: str, audience: str) -> dict:
        """Check every claim of a token whose signature was verified; return the claims."""
        registry = JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=self._leeway,
            iss={"essential": True, "value": iss},
            aud={"essential": True, "value": audience},
            exp=ESSENTIAL,
            iat=ESSENTIAL,
            jti=ESSENTIAL,
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise AuthError(f"token rejected ({error})") from None
        except (ValueError, TypeError) as error:
            raise AuthError(f"token rejected ({type(error).__name__})") from None
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
            raise AuthError("token lifetime is longer than one hour")
        if not all(isinstance(claims.get(name), str | None) for name in ("sub", "tenant")):
            raise AuthError("token sub or tenant is not a string")
        return claims
