"""The wire format between the box and the platform: the one definition both sides validate.

msgspec structs: strict typing and fast, low-memory decoding on a small gateway.
Energy in Wh, power in W, times as timezone-aware UTC datetimes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

PROTOCOL_VERSION = 1

NonNegativeWh = Annotated[int, msgspec.Meta(ge=0)]
Watts = Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
Serial = Annotated[str, msgspec.Meta(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]


class Heartbeat(msgspec.Struct, forbid_unknown_fields=True):
    serial: Serial
    firmware_version: Annotated[str, msgspec.Meta(max_length=32)]
    uptime_s: Annotated[int, msgspec.Meta(ge=0)]
    connectivity: Literal["dsl", "3g"]
    signal_dbm: int | None = None
    latency_ms: Annotated[int, msgspec.Meta(ge=0)] | None = None
    outbox_depth: Annotated[int, msgspec.Meta(ge=0)] = 0


class MeterReading(msgspec.Struct, forbid_unknown_fields=True):
    """One meter telegram, normalised across P1, TIC and SMETS2."""

    meter_time: datetime
    meter_id: Annotated[str, msgspec.Meta(max_length=64)]
    import_wh: dict[str, NonNegativeWh]  # cumulative per tariff register
    export_wh: dict[str, NonNegativeWh] = {}
    import_w: Annotated[int, msgspec.Meta(ge=0)] = 0
    export_w: Annotated[int, msgspec.Meta(ge=0)] = 0
    voltage_v: list[float] = []  # per phase, where the meter gives it
    current_a: list[float] = []


class DeviceReading(msgspec.Struct, forbid_unknown_fields=True):
    device_id: uuid.UUID
    time: datetime
    power_w: Watts
    energy_wh: NonNegativeWh | None = None
    on: bool | None = None


class TelemetryBatch(msgspec.Struct, forbid_unknown_fields=True):
    """What the agent uploads; `batch_id` makes a re-sent batch idempotent."""

    batch_id: uuid.UUID
    serial: Serial
    meter: list[MeterReading] = []
    devices: list[DeviceReading] = []
    protocol_version: int = PROTOCOL_VERSION


def decode_batch(body: bytes) -> TelemetryBatch:
    """Decode and validate; raises msgspec.ValidationError naming the bad field."""
    return msgspec.json.decode(body, type=TelemetryBatch)


def encode(message: msgspec.Struct) -> bytes:
    return msgspec.json.encode(message)
