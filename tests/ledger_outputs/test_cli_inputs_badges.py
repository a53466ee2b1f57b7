"""Bad input to `bedside ledger export --format badge` and `verify-badge`: one sentence each."""

from __future__ import annotations

import base64
import json

from sqlalchemy import inspect, text

from app.ledger.ledger_commands import export_command, verify_badge_command
from app.ledger.outputs import badges
from tests.ledger_outputs.test_commands import invoke
from tests.ledger_outputs.test_status_list import ISSUER, claims_of, world_records
from tests.ledger_outputs.world import BASE_URL


def status_slots(app) -> int:
    """How many badge revocation slots the app's ledger holds (its table is made on first use)."""
    with app.extensions["ledger"].store.database.read() as connection:
        if not inspect(connection).has_table("ledger_badge_status"):
            return 0
        return connection.execute(text("SELECT count(*) FROM ledger_badge_status")).scalar()


def test_a_base_url_that_is_not_a_url_is_refused_before_anything_is_written(
    outputs_app, world, tmp_path
):
    target = tmp_path / "badges.jwt"
    result = export_badges(outputs_app, "notaurl", target)
    assert result.exit_code == 2
    assert result.output == "Error: --base-url must be an absolute http(s) URL, not 'notaurl'.\n"
    assert not target.exists() and not (tmp_path / badges.JWKS_FILE).exists()
    assert status_slots(outputs_app) == 0


def test_an_http_base_url_is_still_accepted(outputs_app, world, tmp_path):
    target = tmp_path / "badges.jwt"
    result = export_badges(outputs_app, "http://localhost:8000/", target)
    assert result.exit_code == 0, result.output
    issuer = claims_of(target.read_text().split()[0])["issuer"]["id"]
    assert issuer.startswith("http://localhost:8000/ledger/badges/")


def written_badge(tmp_path, token: str):
    """Write one token to badge.jwt; return its path."""
    badge = tmp_path / "badge.jwt"
    badge.write_text(token + "\n")
    return badge


def test_a_header_nested_too_deeply_is_an_invalid_badge(tmp_path):
    header = base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).rstrip(b"=").decode()
    (tmp_path / badges.JWKS_FILE).write_text('{"keys": []}')
    result = invoke(verify_badge_command, str(written_badge(tmp_path, f"{header}.e30.c2ln")))
    assert result.exit_code == 1
    assert result.output == "Invalid badge: the JOSE header cannot be read (nested too deeply)\n"


def test_a_status_index_of_five_thousand_digits_is_unchecked_in_words(outputs_app, tmp_path):
    key = badges.issuer_key(outputs_app.instance_path)
    kid = badges.key_id(BASE_URL, key)
    token = next(
        badges.issue_badges(
            world_records(outputs_app), key=key, kid=kid, issuer=ISSUER, base_url=BASE_URL
        )
    )
    claims = claims_of(token) | {
        "credentialStatus": {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListCredential": f"{BASE_URL}/ledger/badges/status/1",
            "statusListIndex": "1" * 5000,
        }
    }
    badge = written_badge(tmp_path, badges.sign(claims, key, kid))
    (tmp_path / badges.JWKS_FILE).write_text(json.dumps(badges.public_jwks(key, kid)))
    result = invoke(verify_badge_command, str(badge), "--status-list", str(badge))
    assert result.exit_code == 1
    assert result.output == (
        f"Unchecked badge {claims['name']!r}: statusListIndex has 5000 digits, beyond any "
        "status list.\n"
    )


def export_badges(app, base_url: str, target):
    """Run `ledger export --format badge --base-url BASE_URL -o TARGET` in the app."""
    args = ["--format", "badge", "--base-url", base_url, "-o", str(target)]
    return invoke(export_command, *args, app=app)
