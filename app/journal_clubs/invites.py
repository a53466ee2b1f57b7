"""Invite links to a journal club: a signed token naming the club, valid for a set time.

The token is signed with the app's secret key (itsdangerous, its own salt), so it cannot be
forged or pointed at another club; it expires after `INVITE_SECONDS`. It carries only the club id.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "bedside.journal-club-invite"
INVITE_SECONDS = 14 * 24 * 3600


class InviteRefused(Exception):
    """The invite link is forged, damaged or expired (the message says which)."""


def invite_token(secret_key: str, club_id: str) -> str:
    """A signed token inviting its holder to the club."""
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps({"club": club_id})


def invited_club(secret_key: str, token: str, max_age: int = INVITE_SECONDS) -> str:
    """The club id a valid token invites to; InviteRefused otherwise."""
    serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise InviteRefused("This invite link has expired.") from None
    except BadSignature:
        raise InviteRefused("This invite link is not valid.") from None
    club_id = payload.get("club") if isinstance(payload, dict) else None
    if not isinstance(club_id, str):
        raise InviteRefused("This invite link is not valid.")
    return club_id
