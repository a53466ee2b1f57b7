"""Give a test client a stored SMART session, as a completed launch would (no OAuth round trip)."""

from __future__ import annotations

from app.smart.sessions import COOKIE_NAME, SmartSession


def sign_in(app, client, fhir_user: str | None, issuer: str, id_claims: dict | None = None) -> str:
    """Store a session for this user at this EHR, set its cookie on client; return the cookie."""
    session = smart_session(issuer, fhir_user=fhir_user, id_claims=id_claims)
    session_id, _ = app.extensions["smart"].sessions.create(session)
    client.set_cookie(COOKIE_NAME, session_id)
    return session_id


def smart_session(
    issuer: str,
    *,
    fhir_user: str | None = None,
    id_claims: dict | None = None,
    access_token: str = "not-a-real-token",
) -> SmartSession:
    """A launched session at this EHR, as the OAuth exchange would leave it (no refresh token)."""
    return SmartSession(
        issuer=issuer,
        client_id="bedside",
        token_endpoint=f"{issuer}/token",
        scope="launch openid fhirUser",
        access_token=access_token,
        refresh_token=None,
        access_expires_at=None,
        fhir_user=fhir_user,
        id_claims=id_claims or {},
    )
