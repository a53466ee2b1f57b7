"""Badges and status lists are signed RS256 (OB 3.0 §8.2); badges signed ES256 keep verifying."""

from __future__ import annotations

import base64
import json
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

from joserfc.jwk import ECKey, RSAKey

from app.ledger import badge_status, checkpoints
from app.ledger.badge_status import StatusSlot
from app.ledger.ledger_commands import verify_badge_command
from app.ledger.outputs import badges, status_list
from app.ledger.outputs.badges import verify_badge
from tests.ledger_outputs.test_commands import invoke
from tests.ledger_outputs.test_status_list import ISSUER, export_badges, world_records
from tests.ledger_outputs.world import BASE_URL

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth"}


def header_of(token: str) -> dict:
    """Decode a compact JWS's JOSE header without verifying it."""
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))


def modulus_bits(jwk: dict) -> int:
    """Return the size in bits of an RSA JWK's modulus `n`."""
    n = base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4))
    return int.from_bytes(n, "big").bit_length()


def served_jwks(app) -> dict:
    """GET the issuer's JWKS as a verifier would."""
    return app.test_client().get("/ledger/badges/jwks.json").json


def test_a_badge_export_is_rs256_and_verifies_against_the_served_rsa_key(
    outputs_app, world, tmp_path
):
    tokens = export_badges(outputs_app, BASE_URL, tmp_path / "badges.jwt")
    jwks = served_jwks(outputs_app)
    (public,) = jwks["keys"]
    assert public["kty"] == "RSA" and public["alg"] == "RS256" and public["use"] == "sig"
    assert modulus_bits(public) >= 2048 and not PRIVATE_MEMBERS & set(public)
    for token in tokens:
        assert header_of(token) == {"alg": "RS256", "kid": public["kid"], "typ": "JWT"}
        report = verify_badge(token, jwks, issuer=ISSUER.id)
        assert report.ok, report.problems
    client = outputs_app.test_client()
    assert client.get(public["kid"].removeprefix(BASE_URL)).json == public
    assert json.loads((tmp_path / badges.JWKS_FILE).read_text()) == jwks


def test_a_fresh_instance_publishes_only_the_rsa_key_and_makes_no_p256_key(outputs_app):
    (public,) = served_jwks(outputs_app)["keys"]
    assert public["kty"] == "RSA" and public["alg"] == "RS256"
    assert not (Path(outputs_app.instance_path) / "badge_issuer_key.json").exists()


def test_the_served_status_list_is_rs256_under_the_issuer_rsa_key(outputs_app, world, tmp_path):
    tokens = export_badges(outputs_app, BASE_URL, tmp_path / "badges.jwt")
    jwks = served_jwks(outputs_app)
    served = outputs_app.test_client().get("/ledger/badges/status/1").get_data(as_text=True)
    assert header_of(served) == {"alg": "RS256", "kid": jwks["keys"][0]["kid"], "typ": "JWT"}
    entry = verify_badge(tokens[0], jwks).credential["credentialStatus"]
    assert status_list.check_status(entry, served, jwks, ISSUER.id).revoked is False


def old_es256_badge(app, world) -> tuple[ECKey, str, StatusSlot]:
    """Make the P-256 key as ES256 Bedside did, and sign Alice's first credit's badge with it."""
    old_key = badges.p256_key_file(Path(app.instance_path) / "badge_issuer_key.json")
    afib = world.sequences["alice-af"][0]
    record = next(record for record in world_records(app) if record.sequence == afib)
    database = app.extensions["ledger"].store.database
    (slot,) = badge_status.allocate(database, [record.sequence]).values()
    old_badge = next(
        badges.issue_badges(
            [record],
            key=old_key,
            kid=badges.key_id(BASE_URL, old_key),
            issuer=ISSUER,
            base_url=BASE_URL,
            statuses={record.sequence: status_list.entry(BASE_URL, slot)},
        )
    )
    return old_key, old_badge, slot


def old_jwks_beside(folder: Path, old_key: ECKey) -> None:
    """Write the issuer-jwks.json an ES256 export wrote: the P-256 key only."""
    old_jwks = badges.public_jwks(old_key, badges.key_id(BASE_URL, old_key))
    (folder / badges.JWKS_FILE).write_text(json.dumps(old_jwks))


def test_an_instance_with_the_old_p256_key_keeps_its_es256_badges_verifying(
    outputs_app, world, tmp_path
):
    instance = Path(outputs_app.instance_path)
    old_key, old_badge, slot = old_es256_badge(outputs_app, world)
    kept = (instance / "badge_issuer_key.json").read_bytes()
    old_list = status_list.signed_status_list(BASE_URL, ISSUER, old_key, slot.status_list, [])
    assert header_of(old_badge)["alg"] == header_of(old_list)["alg"] == "ES256"

    new_badges = export_badges(outputs_app, BASE_URL, tmp_path / "badges.jwt")  # makes the RSA key
    jwks = served_jwks(outputs_app)
    assert {(key["kty"], key["alg"]) for key in jwks["keys"]} == {("RSA", "RS256"), ("EC", "ES256")}
    client = outputs_app.test_client()
    for public in jwks["keys"]:
        assert client.get(public["kid"].removeprefix(BASE_URL)).json == public
    assert verify_badge(old_badge, jwks, issuer=ISSUER.id).ok
    assert header_of(new_badges[0])["alg"] == "RS256" and verify_badge(new_badges[0], jwks).ok
    entry = verify_badge(old_badge, jwks).credential["credentialStatus"]
    assert status_list.check_status(entry, old_list, jwks, ISSUER.id).revoked is False
    assert (instance / "badge_issuer_key.json").read_bytes() == kept

    badge = tmp_path / "old.jwt"
    badge.write_text(old_badge + "\n")
    result = invoke(verify_badge_command, str(badge), app=outputs_app)  # issuer-jwks.json beside
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Valid Open Badge ") and "Status: not revoked" in result.output


def test_an_old_badge_checked_with_its_old_jwks_reads_this_instances_rs256_status_list(
    outputs_app, world, tmp_path
):
    old_key, old_badge, _ = old_es256_badge(outputs_app, world)
    (tmp_path / "old.jwt").write_text(old_badge + "\n")
    old_jwks_beside(tmp_path, old_key)
    result = invoke(verify_badge_command, str(tmp_path / "old.jwt"), app=outputs_app)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Valid Open Badge ") and "Status: not revoked" in result.output


def test_a_status_list_file_signed_by_a_key_the_old_jwks_lacks_says_where_the_current_one_is(
    outputs_app, world, tmp_path
):
    old_key, old_badge, _ = old_es256_badge(outputs_app, world)
    (tmp_path / "old.jwt").write_text(old_badge + "\n")
    old_jwks_beside(tmp_path, old_key)
    served = outputs_app.test_client().get("/ledger/badges/status/1").get_data(as_text=True)
    (tmp_path / "list.jwt").write_text(served + "\n")
    result = invoke(
        verify_badge_command, str(tmp_path / "old.jwt"), "--status-list", str(tmp_path / "list.jwt")
    )
    assert result.exit_code == 1 and result.output.startswith("Unchecked badge ")
    assert "no key with kid" in result.output
    assert f"fetch the issuer's current JWKS from {BASE_URL}/ledger/badges/jwks.json" in (
        result.output
    )


def test_racing_creators_of_a_key_file_keep_one_key(tmp_path):
    path = tmp_path / "instance" / badges.KEY_FILE
    racers = 6
    all_generated = threading.Barrier(racers)

    def generate() -> RSAKey:
        """Make a key, then wait until every racer has one (all passed the exists check)."""
        key = RSAKey.generate_key(2048, private=True)
        all_generated.wait(timeout=60)
        return key

    found: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: found.append(badges.key_file(path, RSAKey, generate).thumbprint())
        )
        for _ in range(racers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == racers and len(set(found)) == 1
    assert badges.issuer_key(path.parent).thumbprint() == found[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == [badges.KEY_FILE]


def test_ledger_checkpoints_keep_es256_and_their_own_key(tmp_path):
    key = checkpoints.checkpoint_key(tmp_path)
    (public,) = checkpoints.public_keys(key)["keys"]
    assert public["kty"] == "EC" and public["crv"] == "P-256" and public["alg"] == "ES256"
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [checkpoints.KEY_FILE]
    token = checkpoints.sign_checkpoint((3, "ab" * 32), key, datetime(2026, 5, 1, tzinfo=UTC))
    assert header_of(token)["alg"] == "ES256"
    assert checkpoints.read_checkpoint(token, checkpoints.public_keys(key)).sequence == 3
