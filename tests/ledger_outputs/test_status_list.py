"""Badge revocation: Bitstring Status List slots, the served list, and verify-badge's checks."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from datetime import UTC, datetime

import pytest
from joserfc.jwk import ECKey
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.db import close_stores
from app.ledger import badge_status
from app.ledger.ledger_commands import export_command, verify_badge_command
from app.ledger.outputs import badges, status_list
from app.ledger.store import ledger_database
from tests.ledger.helpers import KEY
from tests.ledger_outputs.test_commands import invoke
from tests.ledger_outputs.world import BASE_URL
from tests.support.live_server import LiveServer

ISSUER = badges.issuer_for(BASE_URL, "Bedside demo provider (not accredited)")
# The W3C Recommendation's own example encodedList: an empty 16 KB list.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


@pytest.fixture
def served_app(db_path, ledger_url, database_url, world):
    """A Bedside app on the filled ledger with no configured URL: it answers as its own host."""
    server = {} if ledger_url.sqlite_path is not None else {"DATABASE_URL": database_url}
    app = create_app(
        {"TESTING": True, "DATABASE": str(db_path), "LEDGER_IDENTITY_KEY": KEY.decode(), **server},
        instance_path=db_path.parent,
    )
    yield app
    close_stores(app)


def export_badges(app, base_url: str, target) -> list[str]:
    """Export every standing credit's badge through the CLI; return the tokens."""
    result = invoke(
        export_command, "--format", "badge", "--base-url", base_url, "-o", str(target), app=app
    )
    assert result.exit_code == 0, result.output
    return target.read_text().split()


def claims_of(token: str) -> dict:
    """Decode a compact JWS's payload without verifying it."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_reversed_credits_badge_fails_verification_over_real_http(
    served_app, store, world, tmp_path
):
    with LiveServer(served_app) as server:
        tokens = export_badges(served_app, server.url, tmp_path / "badges.jwt")
        first = tmp_path / "first.jwt"
        first.write_text(tokens[0] + "\n")
        valid = invoke(verify_badge_command, str(first))  # no app: the list is fetched
        assert valid.exit_code == 0, valid.output
        assert "Status: not revoked, per " + server.url + "/ledger/badges/status/1" in valid.output

        store.append_reversal(world.sequences["alice-af"][0], "attestation withdrawn", "undo-af")
        revoked = invoke(verify_badge_command, str(first))
    assert revoked.exit_code == 1
    assert revoked.output.startswith("Revoked badge ") and "credit was reversed" in revoked.output
    assert len(revoked.output.splitlines()) == 1


def test_every_new_badge_names_its_own_bit(outputs_app, world, tmp_path):
    tokens = export_badges(outputs_app, BASE_URL, tmp_path / "badges.jwt")
    entries = [claims_of(token)["credentialStatus"] for token in tokens]
    url = f"{BASE_URL}/ledger/badges/status/1"
    for entry in entries:
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusPurpose"] == "revocation"
        assert entry["statusListCredential"] == url
        assert isinstance(entry["statusListIndex"], str) and entry["statusListIndex"].isdigit()
        assert int(entry["statusListIndex"]) < 131_072
        assert entry["id"] == f"{url}#{entry['statusListIndex']}" and entry["id"] != url
    assert len({entry["statusListIndex"] for entry in entries}) == len(entries)
    again = export_badges(outputs_app, BASE_URL, tmp_path / "again.jwt")
    assert [claims_of(token)["credentialStatus"] for token in again] == entries


def test_slots_are_allocated_once_and_never_shared_under_concurrency(ledger_url, store, world):
    sequences = [r for r in range(1, 12)]
    results: list[dict] = []
    barrier = threading.Barrier(4)
    hosts = [ledger_database(ledger_url) for _ in range(2)]  # two engines: two hosts' exports

    def export_in_a_thread(number: int) -> None:
        barrier.wait()
        results.append(badge_status.allocate(hosts[number % 2], sequences))

    threads = [threading.Thread(target=export_in_a_thread, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for host in hosts:
        host.dispose()
    assert len(results) == 4 and all(result == results[0] for result in results)
    slots = list(results[0].values())
    assert len(set(slots)) == len(sequences)
    with store.database.read() as connection:
        count = connection.execute(text("SELECT count(*) FROM ledger_badge_status")).scalar()
    assert count == 11
    slot = slots[0]
    duplicate = text("INSERT INTO ledger_badge_status VALUES (12, :list, :index, 'x')")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), store.database.write() as c:
        c.execute(duplicate, {"list": slot.status_list, "index": slot.status_index})
    with pytest.raises(IntegrityError, match="append-only"), store.database.write() as c:
        c.execute(text("UPDATE ledger_badge_status SET status_index = 0"))


def test_a_full_list_moves_on_to_the_next(store, world, monkeypatch):
    monkeypatch.setattr(badge_status, "LIST_SIZE", 4)
    slots = badge_status.allocate(store.database, range(1, 7))
    assert sorted(slot.status_list for slot in slots.values()) == [1, 1, 1, 1, 2, 2]
    assert {slot.status_index for slot in slots.values() if slot.status_list == 1} == {0, 1, 2, 3}


def test_encoded_list_is_gzip_base64url_multibase_of_16kb_left_most_bit_first():
    encoded = status_list.encode_bits({0, 9, 131_071})
    assert encoded.startswith("u") and "=" not in encoded
    assert set(encoded[1:]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16 * 1024
    assert raw[0] == 0x80 and raw[1] == 0x40 and raw[-1] == 0x01
    assert sum(bin(byte).count("1") for byte in raw) == 3
    assert status_list.decode_bits(encoded) == raw
    assert status_list.decode_bits(SPEC_EXAMPLE) == bytes(16 * 1024)


@pytest.mark.parametrize(
    "encoded",
    ["H4sIAAAA", "u" + base64.urlsafe_b64encode(b"not gzip").decode(), "uAAA=", 7],
)
def test_malformed_encoded_lists_are_refused(encoded):
    with pytest.raises(ValueError):
        status_list.decode_bits(encoded)


def test_the_served_list_is_signed_cacheable_and_reflects_reversals(
    outputs_app, store, world, tmp_path
):
    tokens = export_badges(outputs_app, BASE_URL, tmp_path / "badges.jwt")
    key = badges.issuer_key(outputs_app.instance_path)
    jwks = badges.public_jwks(key, badges.key_id(BASE_URL, key))
    client = outputs_app.test_client()
    response = client.get("/ledger/badges/status/1")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    served = response.get_data(as_text=True)
    list_claims = claims_of(served)
    assert list_claims["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert list_claims["issuer"] == list_claims["iss"] == ISSUER.id
    assert list_claims["credentialSubject"]["ttl"] == 300_000
    af_badge = claims_of(tokens[0])  # the first standing badge: alice's af case
    entry = af_badge["credentialStatus"]
    check = status_list.check_status(entry, served, jwks, ISSUER.id)
    assert check.revoked is False
    # the reversal in the world (alice's sepsis credit) had no badge: no bit is set yet
    assert status_list.decode_bits(list_claims["credentialSubject"]["encodedList"]) == bytes(
        16 * 1024
    )
    store.append_reversal(world.sequences["alice-af"][0], "attestation withdrawn", "undo-af")
    after = client.get("/ledger/badges/status/1").get_data(as_text=True)
    assert status_list.check_status(entry, after, jwks, ISSUER.id).revoked is True
    assert client.get("/ledger/badges/status/2").status_code == 404


def test_a_tampered_or_foreign_status_list_is_refused(outputs_app, world, tmp_path):
    tokens = export_badges(outputs_app, BASE_URL, tmp_path / "badges.jwt")
    served = outputs_app.test_client().get("/ledger/badges/status/1").get_data(as_text=True)
    header, _, signature = served.split(".")
    claims = claims_of(served)
    claims["credentialSubject"]["encodedList"] = status_list.encode_bits(range(131_072))
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    tampered = tmp_path / "tampered-list.jwt"
    tampered.write_text(f"{header}.{forged}.{signature}\n")
    badge = tmp_path / "one.jwt"
    badge.write_text(tokens[0] + "\n")
    result = invoke(verify_badge_command, str(badge), "--status-list", str(tampered))
    assert result.exit_code == 1
    assert (
        result.output.startswith("Unchecked badge ")
        and "signature does not verify" in result.output
    )

    stranger = ECKey.generate_key("P-256", private=True)
    foreign = tmp_path / "foreign-list.jwt"
    made = status_list.status_list_credential(BASE_URL, ISSUER, 1, [], datetime.now(UTC))
    foreign.write_text(badges.sign(made, stranger, badges.key_id(BASE_URL, stranger)) + "\n")
    refused = invoke(verify_badge_command, str(badge), "--status-list", str(foreign))
    assert refused.exit_code == 1 and "no key with kid" in refused.output

    genuine = tmp_path / "list.jwt"
    genuine.write_text(served + "\n")
    offline = invoke(verify_badge_command, str(badge), "--status-list", str(genuine))
    assert offline.exit_code == 0 and "Status: not revoked" in offline.output


def test_a_list_from_another_issuer_or_too_short_is_refused(tmp_path):
    key = badges.issuer_key(tmp_path)
    jwks = badges.public_jwks(key, badges.key_id(BASE_URL, key))
    entry = status_list.entry(BASE_URL, badge_status.StatusSlot(1, 5))
    other = badges.issuer_for("https://elsewhere.test", "Someone else")
    made = status_list.status_list_credential(BASE_URL, other, 1, [], datetime.now(UTC))
    with pytest.raises(status_list.StatusUnavailable, match="not the badge's issuer"):
        status_list.check_status(
            entry, badges.sign(made, key, jwks["keys"][0]["kid"]), jwks, ISSUER.id
        )
    short = status_list.status_list_credential(BASE_URL, ISSUER, 1, [], datetime.now(UTC))
    short["credentialSubject"]["encodedList"] = status_list.encode_bits([], size=8 * 1024)
    with pytest.raises(status_list.StatusUnavailable, match="fewer than 131072"):
        status_list.check_status(
            entry, badges.sign(short, key, jwks["keys"][0]["kid"]), jwks, ISSUER.id
        )


def test_a_badge_without_status_is_still_valid(outputs_app, world, tmp_path):
    key = badges.issuer_key(outputs_app.instance_path)
    kid = badges.key_id(BASE_URL, key)
    old = next(
        badges.issue_badges(
            world_records(outputs_app), key=key, kid=kid, issuer=ISSUER, base_url=BASE_URL
        )
    )
    assert "credentialStatus" not in claims_of(old)
    badge = tmp_path / "old.jwt"
    badge.write_text(old + "\n")
    (tmp_path / "issuer-jwks.json").write_text(json.dumps(badges.public_jwks(key, kid)))
    result = invoke(verify_badge_command, str(badge))
    assert result.exit_code == 0
    assert result.output.startswith("Valid Open Badge ") and "No revocation status" in result.output


def world_records(app):
    """Every record of the app's ledger."""
    return list(app.extensions["ledger"].store.iter_chain())
