"""Keys, JWKS (and a loopback server for them) and signed CDS Hooks client tokens for tests."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey


class _Omit:
    """The type of OMIT."""

    def __repr__(self) -> str:
        return "OMIT"


#: Pass as a claim value to leave that claim out of the token (e.g. ``jti=OMIT``).
OMIT = _Omit()


def make_ec_key(kid: str, curve: str = "P-384") -> ECKey:
    """A new EC private key with this kid (P-256 for ES256, P-384 for ES384, P-521 for ES512)."""
    return ECKey.generate_key(curve, parameters={"kid": kid})


def make_rsa_key(kid: str, size: int = 2048) -> RSAKey:
    """A new RSA private key with this kid (slow: generate once per test module)."""
    return RSAKey.generate_key(size, parameters={"kid": kid})


def public_jwks(*keys: Key) -> dict:
    """The public JWKS (what an EHR publishes at its jku) of these keys."""
    return {"keys": [key.as_dict(private=False) for key in keys]}


def client_claims(
    *, iss: str, aud: object, lifetime: int = 300, now: float | None = None, **claims
):
    """The claims a CDS client sends: iss, aud, exp, iat, jti, plus extras; OMIT drops one."""
    issued_at = int(time.time() if now is None else now)
    base = {
        "iss": iss,
        "aud": aud,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": uuid.uuid4().hex,
    }
    merged = {**base, **claims}
    return {name: value for name, value in merged.items() if value is not OMIT}


def sign_client_token(
    key: Key,
    *,
    iss: str,
    aud: object,
    kid: str | None,
    alg: str = "ES384",
    jku: str | None = None,
    header: dict | None = None,
    **claims,
) -> str:
    """Sign a CDS Hooks client JWT; claims (exp, iat, jti, sub, tenant, lifetime, now…) override.

    ``kid=None`` leaves the kid out; ``header`` adds or overrides JOSE header members.
    """
    protected = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        protected["kid"] = kid
    if jku is not None:
        protected["jku"] = jku
    protected.update(header or {})
    payload = client_claims(iss=iss, aud=aud, **claims)
    return jwt.encode(protected, payload, key, algorithms=[alg])


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact_token(header: dict, claims: dict, signature: bytes = b"") -> str:
    """Assemble a compact JWS by hand (for forged tokens: alg none, HMAC confusion…)."""
    segments = (json.dumps(header).encode(), json.dumps(claims).encode(), signature)
    return ".".join(b64url(segment) for segment in segments)


def signing_input(token: str) -> bytes:
    """The bytes a compact JWS signature covers: header and payload segments."""
    return token.rsplit(".", 1)[0].encode("ascii")


class JwksServer:
    """A real HTTP server on 127.0.0.1 serving a JWKS and counting the requests it gets."""

    def __init__(self, jwks: dict):
        self.jwks, self.status, self.requests = jwks, 200, 0
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def _handler_class(self):
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with served._lock:
                    served.requests += 1
                body = json.dumps(served.jwks).encode()
                self.send_response(served.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if served.status == 302:
                    self.send_header("Location", served.url)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
