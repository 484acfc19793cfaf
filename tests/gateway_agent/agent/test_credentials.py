"""The credential file: 0600, atomic, and a rotation that cannot lock the box out."""

from __future__ import annotations

import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

from gateway_agent.credentials import CredentialStore, secret_bytes
from gateway_agent.protocol import Credential

HOUSEHOLD = uuid.UUID(int=42)


def credential(key_id: str) -> Credential:
    return Credential(key_id=key_id, secret="c2VjcmV0LWJ5dGVz", valid_from=datetime.now(UTC))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_file_is_readable_by_the_agent_only(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.save_provisioned(credential("k1"), HOUSEHOLD)
    assert mode(store.path) == 0o600
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed, not left


def test_a_stored_credential_is_read_back(tmp_path: Path) -> None:
    CredentialStore(tmp_path).save_provisioned(credential("k1"), HOUSEHOLD)
    again = CredentialStore(tmp_path)
    assert again.provisioned
    assert again.current is not None and again.current.key_id == "k1"
    assert again.household_id == HOUSEHOLD


def test_a_file_left_too_open_is_narrowed(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.save_provisioned(credential("k1"), HOUSEHOLD)
    store.path.chmod(0o644)
    CredentialStore(tmp_path)
    assert mode(store.path) == 0o600


def test_rotation_switches_at_once_and_keeps_the_old_key_until_the_new_works(
    tmp_path: Path,
) -> None:
    store = CredentialStore(tmp_path)
    store.save_provisioned(credential("old"), HOUSEHOLD)
    store.rotate(credential("new"))

    reopened = CredentialStore(tmp_path)  # the rotation survived a restart
    assert reopened.current is not None and reopened.current.key_id == "new"
    fallback = reopened.fallback()
    assert fallback is not None and fallback.key_id == "old"
    assert mode(reopened.path) == 0o600

    reopened.confirm_current()
    assert reopened.fallback() is None
    assert CredentialStore(tmp_path).previous is None


def test_the_same_key_again_is_no_rotation(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    store.save_provisioned(credential("k1"), HOUSEHOLD)
    store.rotate(credential("k1"))
    assert store.fallback() is None


def test_a_secret_without_base64_padding_is_accepted() -> None:
    assert secret_bytes(Credential("k", "YWJj", datetime.now(UTC))) == b"abc"
    assert secret_bytes(Credential("k", "YWI", datetime.now(UTC))) == b"ab"
