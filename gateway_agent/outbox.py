"""Store and forward: every reading, command and ack goes through one SQLite file first.

Why it is safe to kill the agent at any point (kill -9, power cut):
- WAL journal with synchronous=FULL: a committed transaction is on disk, an uncommitted one
  is rolled back on the next open; each step below is one transaction.
- A reading is appended as it is read (msgspec JSON, exactly what will be sent); so is each
  action of the overload guard (`actions`), which rides with the next batch.
- A batch is *formed* before its first send: a batch id is drawn and written onto the oldest
  unsent readings. A crash after the send but before the receipt was recorded re-sends the
  same id, which the platform answers as a duplicate: each reading is stored exactly once.
- Only a receipt (201, or 200 duplicate) deletes a batch's readings. A batch the platform
  refuses for good (400/422, or 403 on a meter the box is not paired with) moves, as sent,
  to `dead_letters`: kept for an operator, never sent again, never silently deleted.

Disk bound (`max_bytes`, counted as the stored JSON): a meter reading is the household's
bill, a device reading is a convenience. So
- up to 80 % of the bound everything is accepted;
- from 80 % device readings are refused (counted and logged), meter readings still accepted;
- from 100 % one meter reading per quarter hour is still accepted, into a 10 % reserve:
  registers are cumulative, so the energy per register and the 15-minute settlement period
  survive a long outage; only the resolution in between is lost;
- past the reserve everything is refused, logged as an error with the count.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import msgspec

from gateway_agent.protocol import (
    PROTOCOL_VERSION,
    Command,
    CommandAck,
    DeviceReading,
    LoadAction,
    MeterReading,
)

log = logging.getLogger(__name__)

FILE_NAME = "outbox.sqlite3"
METER: Final = 0
DEVICE: Final = 1
DEVICE_SHARE = 0.8  # device readings are refused beyond this share of max_bytes
METER_RESERVE = 1.1  # quarter-hourly meter readings may still use up to this share
QUARTER_HOUR_S = 900

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind INTEGER NOT NULL,  -- 0 meter, 1 device
    body BLOB NOT NULL,     -- msgspec JSON of the reading, embedded as is in the batch
    batch_id TEXT           -- set when the batch is formed, before its first send
);
CREATE INDEX IF NOT EXISTS readings_by_batch ON readings (batch_id, seq);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    first_seq INTEGER NOT NULL  -- oldest first
);
CREATE TABLE IF NOT EXISTS actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    body BLOB NOT NULL,     -- msgspec JSON of the protocol.LoadAction
    batch_id TEXT           -- the batch it is sent with, set when that batch is formed
);
CREATE INDEX IF NOT EXISTS actions_by_batch ON actions (batch_id, seq);
CREATE TABLE IF NOT EXISTS acks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id TEXT NOT NULL,
    status TEXT NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (command_id, status)
);
CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    due REAL NOT NULL,      -- not_before as POSIX seconds (0: at once)
    state TEXT NOT NULL,    -- pending, running, finished
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,     -- batch, ack
    ref TEXT NOT NULL,      -- the batch id or command id
    body BLOB NOT NULL,     -- exactly what was sent
    http_status INTEGER,
    error TEXT NOT NULL,
    field TEXT,
    dead_at TEXT NOT NULL
);
"""


class _BatchBody(msgspec.Struct, omit_defaults=True):
    """TelemetryBatch's wire form, with the stored readings embedded without re-encoding
    (`actions` only when there are some)."""

    batch_id: uuid.UUID
    serial: str
    meter: list[msgspec.Raw]
    devices: list[msgspec.Raw]
    protocol_version: int
    actions: list[msgspec.Raw] = []


@dataclass(frozen=True)
class PendingBatch:
    batch_id: uuid.UUID
    body: bytes  # the TelemetryBatch JSON to send, the same bytes at every attempt
    meter_count: int
    device_count: int
    action_count: int = 0


@dataclass(frozen=True)
class PendingAck:
    seq: int
    ack: CommandAck
    body: bytes


@dataclass
class RefusedCounts:
    meter: int = 0
    device: int = 0


class Outbox:
    def __init__(self, state_dir: Path, max_bytes: int = 64_000_000) -> None:
        self.path = state_dir / FILE_NAME
        self.max_bytes = max_bytes
        self.refused = RefusedCounts()
        self._lock = threading.RLock()
        self._db = _open(self.path)
        self._bytes, self._depth = self._measure()
        self._reserve_slot = -1  # the last quarter hour that used the reserve

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _measure(self) -> tuple[int, int]:
        size, depth = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(body)), 0), COUNT(*) FROM readings"
        ).fetchone()
        (dead,) = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM dead_letters"
        ).fetchone()
        (actions,) = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM actions"
        ).fetchone()
        return int(size) + int(dead) + int(actions), int(depth)

    # -- readings ---------------------------------------------------------------------------

    def append_meter(self, reading: MeterReading) -> bool:
        """Store a meter reading; False (logged and counted) when the disk bound refuses it."""
        return self._append(METER, msgspec.json.encode(reading), reading.timestamp)

    def append_device(self, reading: DeviceReading) -> bool:
        return self._append(DEVICE, msgspec.json.encode(reading), reading.timestamp)

    def _append(self, kind: int, body: bytes, timestamp: datetime) -> bool:
        with self._lock:
            if not self._admit(kind, len(body), timestamp):
                self._count_refusal(kind)
                return False
            with self._transaction() as db:
                db.execute("INSERT INTO readings (kind, body) VALUES (?, ?)", (kind, body))
            self._bytes += len(body)
            self._depth += 1
            return True

    def _admit(self, kind: int, size: int, timestamp: datetime) -> bool:
        after = self._bytes + size
        if kind == DEVICE:
            return after <= self.max_bytes * DEVICE_SHARE
        if after <= self.max_bytes:
            return True
        slot = int(timestamp.timestamp()) // QUARTER_HOUR_S
        if slot != self._reserve_slot and after <= self.max_bytes * METER_RESERVE:
            self._reserve_slot = slot
            return True
        return False

    def _count_refusal(self, kind: int) -> None:
        if kind == DEVICE:
            self.refused.device += 1
            count, what, level = self.refused.device, "device", logging.WARNING
        else:
            self.refused.meter += 1
            count, what, level = self.refused.meter, "meter", logging.ERROR
        if count == 1 or count % 1000 == 0:
            log.log(
                level,
                "outbox full (%d of %d bytes): %d %s readings refused so far",
                self._bytes,
                self.max_bytes,
                count,
                what,
            )

    def append_action(self, action: LoadAction) -> None:
        """Store an overload guard action; always admitted (a few a day, each one matters)."""
        body = msgspec.json.encode(action)
        with self._transaction() as db:
            db.execute("INSERT INTO actions (body) VALUES (?)", (body,))
        with self._lock:
            self._bytes += len(body)

    def pending_actions(self) -> int:
        """Actions stored and not yet receipted."""
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM actions").fetchone()
        return int(count)

    def depth(self) -> int:
        """Readings stored and not yet receipted (the heartbeat's outbox_depth)."""
        with self._lock:
            return self._depth

    def stored_bytes(self) -> int:
        with self._lock:
            return self._bytes

    # -- batches ----------------------------------------------------------------------------

    def next_batch(self, serial: str, max_readings: int) -> PendingBatch | None:
        """The oldest formed batch, or a new one formed (and committed) from the oldest readings."""
        with self._transaction() as db:
            row = db.execute("SELECT batch_id FROM batches ORDER BY first_seq LIMIT 1").fetchone()
            batch_id = row[0] if row else _form_batch(db, max_readings)
            if batch_id is None:
                return None
            rows = db.execute(
                "SELECT kind, body FROM readings WHERE batch_id = ? ORDER BY seq", (batch_id,)
            ).fetchall()
            action_rows = db.execute(
                "SELECT body FROM actions WHERE batch_id = ? ORDER BY seq", (batch_id,)
            ).fetchall()
        meter = [msgspec.Raw(body) for kind, body in rows if kind == METER]
        devices = [msgspec.Raw(body) for kind, body in rows if kind == DEVICE]
        actions = [msgspec.Raw(body) for (body,) in action_rows]
        body = msgspec.json.encode(
            _BatchBody(uuid.UUID(batch_id), serial, meter, devices, PROTOCOL_VERSION, actions)
        )
        return PendingBatch(uuid.UUID(batch_id), body, len(meter), len(devices), len(actions))

    def confirm(self, batch_id: uuid.UUID) -> None:
        """The platform holds the batch (receipt or duplicate): forget it."""
        with self._transaction() as db:
            self._delete_batch_readings(db, str(batch_id), kinds=(METER, DEVICE))
            self._delete_batch_actions(db, str(batch_id))
            db.execute("DELETE FROM batches WHERE batch_id = ?", (str(batch_id),))

    def reject(
        self,
        batch: PendingBatch,
        *,
        http_status: int,
        error: str,
        field: str | None,
        meter_only: bool = False,
    ) -> None:
        """Move a refused batch to the dead letters.

        `meter_only` (a 403 on the meter id): only the meter readings are dead; the device
        readings and the guard's actions become a batch of their own under a new id, sent
        next (the platform wrote
        nothing of the refused batch, so a new id cannot duplicate anything; and alone they
        cannot be refused again for the meter's sake).
        """
        key = str(batch.batch_id)
        with self._transaction() as db:
            body = batch.body if not meter_only else _meter_only_body(db, batch)
            self._add_dead_letter(db, "batch", key, body, http_status, error, field)
            kinds = (METER,) if meter_only else (METER, DEVICE)
            self._delete_batch_readings(db, key, kinds=kinds)
            if not meter_only:
                self._delete_batch_actions(db, key)
            db.execute("DELETE FROM batches WHERE batch_id = ?", (key,))
            _rebatch_what_is_left(db, key)
        log.error(
            "batch %s refused for good (%d %s, field %s): kept in the dead letters",
            key,
            http_status,
            error,
            field,
        )

    def _delete_batch_readings(
        self, db: sqlite3.Connection, batch_id: str, kinds: tuple[int, ...]
    ) -> None:
        first, last = kinds[0], kinds[-1]  # (METER,) or (METER, DEVICE)
        size, count = db.execute(
            "SELECT COALESCE(SUM(LENGTH(body)), 0), COUNT(*) FROM readings"
            " WHERE batch_id = ? AND kind IN (?, ?)",
            (batch_id, first, last),
        ).fetchone()
        db.execute(
            "DELETE FROM readings WHERE batch_id = ? AND kind IN (?, ?)", (batch_id, first, last)
        )
        self._bytes -= int(size)
        self._depth -= int(count)

    def _delete_batch_actions(self, db: sqlite3.Connection, batch_id: str) -> None:
        (size,) = db.execute(
            "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM actions WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        db.execute("DELETE FROM actions WHERE batch_id = ?", (batch_id,))
        self._bytes -= int(size)

    def _add_dead_letter(
        self,
        db: sqlite3.Connection,
        kind: str,
        ref: str,
        body: bytes,
        http_status: int | None,
        error: str,
        field: str | None,
    ) -> None:
        db.execute(
            "INSERT INTO dead_letters (kind, ref, body, http_status, error, field, dead_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, ref, body, http_status, error, field, datetime.now(UTC).isoformat()),
        )
        self._bytes += len(body)

    def dead_letters(self) -> list[dict[str, object]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, ref, body, http_status, error, field FROM dead_letters ORDER BY id"
            ).fetchall()
        keys = ("kind", "ref", "body", "http_status", "error", "field")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # -- commands and their acks ------------------------------------------------------------

    def store_commands(self, commands: list[Command], now: datetime) -> list[Command]:
        """Keep commands not seen before, each with its "received" ack; returns the new ones."""
        new: list[Command] = []
        with self._transaction() as db:
            for command in commands:
                due = command.not_before.timestamp() if command.not_before else 0.0
                inserted = db.execute(
                    "INSERT OR IGNORE INTO commands (command_id, body, due, state, updated)"
                    " VALUES (?, ?, ?, 'pending', ?)",
                    (str(command.id), msgspec.json.encode(command), due, now.timestamp()),
                ).rowcount
                if inserted:
                    _insert_ack(db, CommandAck(command.id, "received", now))
                    new.append(command)
        return new

    def due_commands(self, now: datetime) -> list[Command]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM commands WHERE state = 'pending' AND due <= ? ORDER BY due",
                (now.timestamp(),),
            ).fetchall()
        return [msgspec.json.decode(body, type=Command) for (body,) in rows]

    def running_commands(self) -> list[Command]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM commands WHERE state = 'running'").fetchall()
        return [msgspec.json.decode(body, type=Command) for (body,) in rows]

    def command_state(self, command_id: uuid.UUID) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM commands WHERE command_id = ?", (str(command_id),)
            ).fetchone()
        return row[0] if row else None

    def advance_command(self, ack: CommandAck, state: str) -> None:
        """Move a command to `state` and queue its ack, in one transaction."""
        with self._transaction() as db:
            db.execute(
                "UPDATE commands SET state = ?, updated = ? WHERE command_id = ?",
                (state, ack.timestamp.timestamp(), str(ack.command_id)),
            )
            _insert_ack(db, ack)

    def prune_commands(self, older_than: datetime) -> None:
        """Finished commands are kept a while so that a re-listed one is not run twice."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM commands WHERE state = 'finished' AND updated < ?",
                (older_than.timestamp(),),
            )

    def next_ack(self) -> PendingAck | None:
        with self._lock:
            row = self._db.execute("SELECT seq, body FROM acks ORDER BY seq LIMIT 1").fetchone()
        if row is None:
            return None
        return PendingAck(row[0], msgspec.json.decode(row[1], type=CommandAck), row[1])

    def ack_sent(self, pending: PendingAck) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM acks WHERE seq = ?", (pending.seq,))

    def reject_ack(
        self, pending: PendingAck, *, http_status: int, error: str, field: str | None
    ) -> None:
        with self._transaction() as db:
            ref = str(pending.ack.command_id)
            self._add_dead_letter(db, "ack", ref, pending.body, http_status, error, field)
            db.execute("DELETE FROM acks WHERE seq = ?", (pending.seq,))
        log.error(
            "ack %s refused for good (%d %s): kept in the dead letters", ref, http_status, error
        )


def _open(path: Path) -> sqlite3.Connection:
    try:
        return _connect(path)
    except sqlite3.DatabaseError as error:
        # A file that is not a database any more (a flash fault): keep it aside, start anew.
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        log.error("outbox %s unreadable (%s): moved to %s", path, error, aside)
        path.rename(aside)
        return _connect(path)


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    db.execute("PRAGMA quick_check").fetchone()
    return db


def _form_batch(db: sqlite3.Connection, max_readings: int) -> str | None:
    """A new batch of the oldest unsent readings, with every unsent action (up to the
    same count). A batch of actions alone is formed too: the platform hears of a shed
    without waiting for readings."""
    rows = db.execute(
        "SELECT seq FROM readings WHERE batch_id IS NULL ORDER BY seq LIMIT ?", (max_readings,)
    ).fetchall()
    actions = db.execute(
        "SELECT seq FROM actions WHERE batch_id IS NULL ORDER BY seq LIMIT ?", (max_readings,)
    ).fetchall()
    if not rows and not actions:
        return None
    batch_id = str(uuid.uuid4())
    if rows:
        first_seq = rows[0][0]
    else:  # after any formed batch (none is formed while one waits, see next_batch)
        (first_seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM readings").fetchone()
    db.execute("INSERT INTO batches (batch_id, first_seq) VALUES (?, ?)", (batch_id, first_seq))
    if rows:
        db.execute(
            "UPDATE readings SET batch_id = ? WHERE batch_id IS NULL AND seq <= ?",
            (batch_id, rows[-1][0]),
        )
    if actions:
        db.execute(
            "UPDATE actions SET batch_id = ? WHERE batch_id IS NULL AND seq <= ?",
            (batch_id, actions[-1][0]),
        )
    return batch_id


def _rebatch_what_is_left(db: sqlite3.Connection, old_batch_id: str) -> None:
    (first_seq,) = db.execute(
        "SELECT MIN(seq) FROM readings WHERE batch_id = ?", (old_batch_id,)
    ).fetchone()
    (actions,) = db.execute(
        "SELECT COUNT(*) FROM actions WHERE batch_id = ?", (old_batch_id,)
    ).fetchone()
    if first_seq is None and not actions:
        return
    if first_seq is None:
        (first_seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM readings").fetchone()
    new_batch_id = str(uuid.uuid4())
    db.execute("INSERT INTO batches (batch_id, first_seq) VALUES (?, ?)", (new_batch_id, first_seq))
    db.execute("UPDATE readings SET batch_id = ? WHERE batch_id = ?", (new_batch_id, old_batch_id))
    db.execute("UPDATE actions SET batch_id = ? WHERE batch_id = ?", (new_batch_id, old_batch_id))


def _meter_only_body(db: sqlite3.Connection, batch: PendingBatch) -> bytes:
    rows = db.execute(
        "SELECT body FROM readings WHERE batch_id = ? AND kind = ? ORDER BY seq",
        (str(batch.batch_id), METER),
    ).fetchall()
    serial = msgspec.json.decode(batch.body, type=_BatchBody).serial
    meter = [msgspec.Raw(body) for (body,) in rows]
    return msgspec.json.encode(_BatchBody(batch.batch_id, serial, meter, [], PROTOCOL_VERSION))


def _insert_ack(db: sqlite3.Connection, ack: CommandAck) -> None:
    db.execute(
        "INSERT OR IGNORE INTO acks (command_id, status, body) VALUES (?, ?, ?)",
        (str(ack.command_id), ack.status, msgspec.json.encode(ack)),
    )
