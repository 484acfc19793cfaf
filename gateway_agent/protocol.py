"""The wire format between the box and the platform: the one definition both sides validate.

msgspec structs: strict typing and fast, low-memory decoding on a small gateway.
Energy in Wh, power in W, times as timezone-aware UTC datetimes.

Power directions: a meter's `import_w` / `export_w` are both >= 0. A device's `power_w`
is in the device's own direction: consumption for loads, production for a PV inverter,
charge (+) or discharge (-) for a battery.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

PROTOCOL_VERSION = 1
MAX_READINGS_PER_BATCH = 20_000  # bounds what one request may ask the server to hold

NonNegativeWh = Annotated[int, msgspec.Meta(ge=0)]
Watts = Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
Serial = Annotated[str, msgspec.Meta(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
MeterId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Register = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]


class Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Every message refuses fields it does not know: a typo is an error, not silence."""


class MeterReading(Struct):
    """One meter frame, normalised across P1 (BE/NL), Linky TIC and SMETS2 via a CAD."""

    timestamp: datetime  # the meter's own clock where it sends one, else the agent's
    meter_id: MeterId  # equipment id / serial: what pairing checks
    import_wh: dict[Register, NonNegativeWh]  # cumulative, per tariff register
    export_wh: dict[Register, NonNegativeWh] = {}
    import_w: Annotated[int, msgspec.Meta(ge=0)] = 0
    export_w: Annotated[int, msgspec.Meta(ge=0)] = 0
    voltage_v: list[Annotated[float, msgspec.Meta(ge=0, le=1000)]] = []  # per phase
    current_a: list[Annotated[float, msgspec.Meta(ge=0, le=1000)]] = []  # per phase
    tariff: Register | None = None  # the import_wh key running now (e.g. "1", "BBRHCJB")


class DeviceReading(Struct):
    device_id: uuid.UUID
    timestamp: datetime
    power_w: Watts
    energy_wh: NonNegativeWh | None = None  # cumulative, where the device counts it
    on: bool | None = None
    soc_pct: Percent | None = None  # batteries and EVs


class LoadAction(Struct):
    """The box's overload guard switched a load off ("shed") or back on ("restore")."""

    device_id: uuid.UUID
    timestamp: datetime
    action: Literal["shed", "restore"]
    load_va: Annotated[int, msgspec.Meta(ge=0)]  # the meter's load when the guard acted
    limit_va: Annotated[int, msgspec.Meta(ge=0)]
    device_power_w: Watts = 0  # what the device drew when shed (0 for a restore)
    reason: ShortText = ""


class TelemetryBatch(Struct):
    """What the agent uploads; `batch_id` makes a re-sent batch idempotent."""

    batch_id: uuid.UUID
    serial: Serial
    meter: Annotated[list[MeterReading], msgspec.Meta(max_length=MAX_READINGS_PER_BATCH)] = []
    devices: Annotated[list[DeviceReading], msgspec.Meta(max_length=MAX_READINGS_PER_BATCH)] = []
    actions: Annotated[list[LoadAction], msgspec.Meta(max_length=MAX_READINGS_PER_BATCH)] = []
    protocol_version: int = PROTOCOL_VERSION


class BatchReceipt(Struct):
    batch_id: uuid.UUID
    duplicate: bool  # true when this batch id was already stored: nothing written again
    meter_rows: int = 0
    device_rows: int = 0


class Heartbeat(Struct):
    serial: Serial
    firmware_version: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    uptime_s: Annotated[int, msgspec.Meta(ge=0)]
    connectivity: Literal["dsl", "3g"]
    signal_dbm: Annotated[int, msgspec.Meta(ge=-150, le=0)] | None = None
    latency_ms: Annotated[int, msgspec.Meta(ge=0)] | None = None
    outbox_depth: Annotated[int, msgspec.Meta(ge=0)] = 0
    meter_id: MeterId | None = None  # the meter the box sees on its port now


class Credential(Struct):
    """A gateway key. The secret travels once, over TLS, to the box that owns it."""

    key_id: str
    secret: str  # urlsafe base64 of 32 random bytes
    valid_from: datetime
    valid_until: datetime | None = None


class SupplyLimitMessage(Struct):
    """The household's supply limit (gateway_agent.tripmodel.SupplyLimit on the wire)."""

    limit_va: Annotated[int, msgspec.Meta(gt=0)]
    kind: Literal["linky", "fuse"] = "linky"
    phases: Annotated[int, msgspec.Meta(ge=1, le=3)] = 1


class HeartbeatReply(Struct):
    server_time: datetime
    pairing: Literal["none", "requested", "approved", "rejected"]
    paired_meter_id: MeterId | None = None  # readings from any other meter are refused
    pending_commands: int = 0
    new_credential: Credential | None = None  # set after a rotation: switch to it
    supply: SupplyLimitMessage | None = None  # the contract's limit, for the overload guard


class ProvisionRequest(Struct):
    serial: Serial
    claim_code: Annotated[str, msgspec.Meta(min_length=8, max_length=64)]


class ProvisionReply(Struct):
    credential: Credential
    household_id: uuid.UUID


# "cancel" withdraws a command the box holds but has not run (params: {"command_id": id}).
# "set_battery" drives a home battery (params: {"mode": "charge" | "discharge" | "auto",
# "power_w": int >= 0}): charge at power_w (PV surplus first, else the grid), discharge at
# up to power_w into the house's load (never exporting), or "auto", back to self-consumption
# (power_w not needed). The day-ahead plan (apps.scheduling.daily) sends it at block edges.
CommandKind = Literal[
    "switch_on", "switch_off", "start_program", "set_power_limit", "cancel", "set_battery"
]
BatteryMode = Literal["charge", "discharge", "auto"]
BATTERY_MODES: tuple[str, ...] = ("charge", "discharge", "auto")
ParamValue = int | float | str | bool


class Command(Struct):
    id: uuid.UUID
    kind: CommandKind
    device_id: uuid.UUID | None = None
    not_before: datetime | None = None  # run at this time, even if the link is down then
    not_after: datetime | None = None  # too late after this: report "expired"
    params: dict[str, ParamValue] = {}


class CommandList(Struct):
    commands: list[Command]


class CommandAck(Struct):
    command_id: uuid.UUID
    status: Literal["received", "started", "done", "failed", "expired"]
    timestamp: datetime
    message: ShortText = ""


class ErrorReply(Struct):
    error: str
    field: str | None = None


def decode_batch(body: bytes) -> TelemetryBatch:
    """Decode and validate; raises msgspec.ValidationError naming the bad field."""
    return msgspec.json.decode(body, type=TelemetryBatch)


def decode(body: bytes, message_type: type[msgspec.Struct]) -> msgspec.Struct:
    return msgspec.json.decode(body, type=message_type)


def encode(message: msgspec.Struct) -> bytes:
    return msgspec.json.encode(message)
