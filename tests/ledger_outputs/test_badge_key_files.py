"""Issuer and checkpoint key files: loaded once per version, made on any file system, announced."""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import time

import pytest
from joserfc.jwk import ECKey, RSAKey

from app.ledger import checkpoints
from app.ledger.outputs import badges

KEY_MAKERS = {
    "badge issuer key": (badges.issuer_key, badges.KEY_FILE),
    "ledger checkpoint key": (checkpoints.checkpoint_key, checkpoints.KEY_FILE),
}


def no_hard_links(source, target, **options):
    """os.link on a file system without hard links (vfat, some CIFS/FUSE mounts)."""
    raise PermissionError(errno.EPERM, "Operation not permitted")


def test_the_issuer_key_is_imported_once_until_its_file_is_replaced(tmp_path):
    first = badges.issuer_key(tmp_path)
    assert badges.issuer_key(tmp_path) is first
    assert badges.published_key(tmp_path, first.thumbprint()) is first

    replacement = RSAKey.generate_key(2048, private=True)
    draft = tmp_path / "replacement.json"
    draft.write_text(json.dumps(replacement.as_dict(private=True)))
    os.replace(draft, tmp_path / badges.KEY_FILE)
    second = badges.issuer_key(tmp_path)
    assert second is not first and second.thumbprint() == replacement.thumbprint()
    assert badges.issuer_key(tmp_path) is second


def test_an_unknown_status_list_is_404_without_reading_the_issuer_key(outputs_app):
    key_file = outputs_app.instance_path + "/" + badges.KEY_FILE
    os.mkdir(key_file)  # any read of the key would fail (IsADirectoryError)
    response = outputs_app.test_client().get("/ledger/badges/status/999999")
    assert response.status_code == 404
    assert os.path.isdir(key_file)


@pytest.mark.parametrize("kind", KEY_MAKERS)
def test_a_key_is_made_once_where_the_file_system_has_no_hard_links(kind, tmp_path, monkeypatch):
    make, file_name = KEY_MAKERS[kind]
    monkeypatch.setattr(os, "link", no_hard_links)
    made = make(tmp_path)
    path = tmp_path / file_name
    assert [entry.name for entry in tmp_path.iterdir()] == [file_name]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = path.read_bytes()
    assert make(tmp_path).thumbprint() == made.thumbprint()
    assert path.read_bytes() == kept


def test_a_reader_meeting_a_half_written_key_file_waits_for_the_writer(tmp_path, monkeypatch):
    key = ECKey.generate_key("P-256", private=True)
    path = tmp_path / checkpoints.KEY_FILE
    whole = json.dumps(key.as_dict(private=True))
    path.write_text(whole[: len(whole) // 2])  # another process is still writing it

    def writer_finishes(seconds: float) -> None:
        """While the reader waits, the writing process finishes the file."""
        path.write_text(whole)

    monkeypatch.setattr(time, "sleep", writer_finishes)
    assert checkpoints.checkpoint_key(tmp_path).thumbprint() == key.thumbprint()


def test_a_key_file_that_stays_unreadable_fails_with_a_sentence(tmp_path):
    path = tmp_path / badges.KEY_FILE
    path.write_text("")  # e.g. a crash while writing it without hard links
    with pytest.raises(badges.UnreadableKey) as refusal:
        badges.issuer_key(tmp_path)
    assert str(path) in str(refusal.value) and "delete it" in str(refusal.value)


@pytest.mark.parametrize("kind", KEY_MAKERS)
def test_making_a_key_logs_one_warning_naming_the_file_and_no_key_material(kind, tmp_path, caplog):
    make, file_name = KEY_MAKERS[kind]
    caplog.set_level(logging.DEBUG, logger=badges.__name__)
    key = make(tmp_path)
    make(tmp_path)
    (made,) = caplog.records
    assert made.levelno == logging.WARNING
    assert str(tmp_path / file_name) in made.getMessage()
    assert "docs/deploy.md" in made.getMessage()
    private = key.as_dict(private=True)
    for member in set(private) - set(key.as_dict(private=False)):
        assert private[member] not in caplog.text
