"""The box's key, in one file of the state directory, readable by the agent's user only.

The file holds the current credential and, after a rotation, the previous one until the new
one has worked once (a rotation whose reply was lost must not lock the box out). Every write
is a new file with mode 0600, fsynced, then renamed over the old one: a crash leaves either
the old or the new file, never half of one.
"""

from __future__ import annotations

import base64
import logging
import os
import stat
import threading
import uuid
from pathlib import Path

import msgspec

from gateway_agent.protocol import Credential

log = logging.getLogger(__name__)

FILE_NAME = "credential.json"
FILE_MODE = 0o600


class StoredCredentials(msgspec.Struct, forbid_unknown_fields=True):
    current: Credential
    previous: Credential | None = None
    current_confirmed: bool = True  # False from a rotation until the new key worked once
    household_id: uuid.UUID | None = None


def secret_bytes(credential: Credential) -> bytes:
    """The HMAC key; tolerates a secret sent without base64 padding."""
    text = credential.secret
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CredentialStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME
        self._lock = threading.Lock()
        self._stored: StoredCredentials | None = self._load()

    def _load(self) -> StoredCredentials | None:
        if not self.path.exists():
            return None
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            log.warning("credential file %s had mode %o; narrowing to 0600", self.path, mode)
            self.path.chmod(FILE_MODE)
        return msgspec.json.decode(self.path.read_bytes(), type=StoredCredentials)

    @property
    def provisioned(self) -> bool:
        return self._stored is not None

    @property
    def current(self) -> Credential | None:
        return self._stored.current if self._stored else None

    @property
    def previous(self) -> Credential | None:
        return self._stored.previous if self._stored else None

    @property
    def household_id(self) -> uuid.UUID | None:
        return self._stored.household_id if self._stored else None

    def fallback(self) -> Credential | None:
        """The old key, while a freshly rotated one has not yet been accepted."""
        stored = self._stored
        if stored is None or stored.current_confirmed:
            return None
        return stored.previous

    def save_provisioned(self, credential: Credential, household_id: uuid.UUID) -> None:
        self._write(StoredCredentials(current=credential, household_id=household_id))

    def rotate(self, new: Credential) -> None:
        """Switch to `new` at once, keeping the current key until `new` has worked."""
        with self._lock:
            stored = self._stored
            if stored is None or stored.current.key_id == new.key_id:
                return
            log.info("key rotated: %s -> %s", stored.current.key_id, new.key_id)
            rotated = StoredCredentials(
                current=new,
                previous=stored.current,
                current_confirmed=False,
                household_id=stored.household_id,
            )
        self._write(rotated)

    def confirm_current(self) -> None:
        """The current key worked: forget the previous one."""
        stored = self._stored
        if stored is None or stored.current_confirmed:
            return
        log.info("key %s accepted; previous key forgotten", stored.current.key_id)
        self._write(
            StoredCredentials(
                current=stored.current, current_confirmed=True, household_id=stored.household_id
            )
        )

    def _write(self, stored: StoredCredentials) -> None:
        with self._lock:
            write_private_file(self.path, msgspec.json.encode(stored))
            self._stored = stored


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`, mode 0600 from the first byte on disk."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # O_CREAT's mode is narrowed by umask only, never widened
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
