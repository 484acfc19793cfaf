"""The agent's configuration: one TOML file, read with the standard library's tomllib.

Every mistake is reported as a `ConfigError` naming the key (`meter.baud`, `devices[2].kind`),
and unknown keys are refused with a suggestion, so a typo never silently means "default".
See gateway_agent/example.toml for every key.
"""

from __future__ import annotations

import difflib
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROTOCOLS: Final = ("p1-be", "p1-nl", "linky-historic", "linky-standard", "smets2-cad")
SOURCES: Final = ("serial", "file", "stream", "mqtt", "simulated")
DEVICE_KINDS: Final = (
    "appliance",
    "smart_plug",
    "pv_inverter",
    "battery",
    "ev_charger",
    "heat_pump",
    "water_heater",
)
APPLIANCES: Final = ("washing_machine", "dishwasher", "oven", "tumble_dryer")
LIMIT_KINDS: Final = ("linky", "fuse")
# What the overload guard may switch off, first shed first. An appliance running a programme
# is not in the default (pausing a washing machine loses its programme); a battery or a PV
# inverter is never a shed target.
SHED_PRIORITY: Final = ("ev_charger", "water_heater", "heat_pump", "smart_plug")
SHEDDABLE: Final = (*SHED_PRIORITY, "appliance")
CONNECTIVITY: Final = ("dsl", "3g")
_REQUIRED: Final = object()


class ConfigError(ValueError):
    """A bad configuration; the message names the key."""


@dataclass(frozen=True)
class MeterConfig:
    protocol: str = "p1-be"
    source: str = "serial"
    path: Path | None = None  # file source
    loop: bool = False  # replay the file again and again (simulation and benchmarks)
    device: str = "/dev/ttyUSB0"  # serial source
    baud: int = 115200
    host: str = ""  # stream source: a TCP bridge (ser2net), else stdin; mqtt: the broker
    port: int = 0  # mqtt: 1883 when 0
    topic: str = ""  # MQTT topic
    frame_interval_s: float = 1.0  # replayed and simulated sources: one frame per this
    sample_every_s: float = 10.0  # keep one frame per this; registers are cumulative
    meter_id: str = "SIM0000000001"  # the simulated meter's id


@dataclass(frozen=True)
class DeviceConfig:
    id: uuid.UUID
    kind: str
    rated_w: int
    name: str = ""
    appliance: str = "washing_machine"  # kind "appliance" only
    capacity_wh: int | None = None  # battery (default 10 kWh), the EV's battery (60 kWh)
    kwp: float = 4.0  # pv_inverter: panel peak power; rated_w is the inverter's AC limit
    tilt_deg: float = 35.0
    azimuth_deg: float = 180.0  # 180 = south


@dataclass(frozen=True)
class LocationConfig:
    latitude: float = 50.85  # Brussels
    longitude: float = 4.35
    altitude_m: float = 60.0
    timezone: str = "Europe/Brussels"


@dataclass(frozen=True)
class IntervalsConfig:
    upload_every_s: float = 60.0
    heartbeat_every_s: float = 300.0
    commands_every_s: float = 60.0
    device_every_s: float = 60.0
    max_batch_readings: int = 1000


@dataclass(frozen=True)
class SimulationConfig:
    speed: float = 1.0  # simulated seconds per real second; 1 = real time
    start: datetime | None = None  # simulated start time; default: now
    seed: int = 0
    annual_kwh: float = 3500.0  # the household's base load, without the listed devices
    clear_sky: bool = False  # PV without clouds
    run_for_s: float | None = None  # stop after this much agent time (benchmarks, tests)


@dataclass(frozen=True)
class OutboxConfig:
    max_mb: float = 64.0


@dataclass(frozen=True)
class OverloadConfig:
    """The overload guard (overload.py): shed loads before the supply trips."""

    enabled: bool = True
    limit_va: float | None = None  # the contract's limit; None: the platform's (heartbeat)
    kind: str = "linky"  # linky | fuse (tripmodel.CURVES)
    phases: int = 1
    shed_ratio: float = 0.95  # shed when the load stays at this share of the limit ...
    confirm_s: float = 5.0  # ... this long (a kettle's inrush is shorter)
    trip_margin_s: float = 60.0  # shed at once when the breaker would trip sooner than this
    settle_s: float = 5.0  # after a shed, wait this long for the meter before the next
    restore_ratio: float = 0.8  # restore when load + the device's power fits under this share
    min_off_s: float = 60.0  # a shed device stays off at least this long
    restore_gap_s: float = 30.0  # between two restores
    min_power_w: float = 100.0  # a device drawing less is not worth shedding
    priority: tuple[str, ...] = SHED_PRIORITY


@dataclass(frozen=True)
class AgentConfig:
    server_url: str
    serial: str
    claim_code: str
    state_dir: Path
    firmware_version: str = "0.1.0"
    connectivity: str = "dsl"
    ca_file: Path | None = None  # a private CA for the platform's TLS certificate
    timeout_s: float = 30.0
    meter: MeterConfig = field(default_factory=MeterConfig)
    devices: tuple[DeviceConfig, ...] = ()
    location: LocationConfig = field(default_factory=LocationConfig)
    intervals: IntervalsConfig = field(default_factory=IntervalsConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    overload: OverloadConfig = field(default_factory=OverloadConfig)

    @property
    def simulated(self) -> bool:
        """True when the simulator (and with it pandas, pvlib, demandlib) is needed."""
        return bool(self.devices) or self.meter.source == "simulated"


class _Table:
    """One TOML table, read key by key with errors that name `prefix.key`."""

    def __init__(self, data: Any, prefix: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{prefix or 'the file'}: expected a table")
        self.data = data
        self.prefix = prefix
        self.read: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def raw(self, key: str, default: Any) -> Any:
        self.read.add(key)
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            raise ConfigError(f"{self.name(key)}: required")
        return default

    def text(self, key: str, default: Any = _REQUIRED, choices: tuple[str, ...] = ()) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if not isinstance(value, str):
            raise ConfigError(f"{self.name(key)}: expected a string, got {value!r}")
        if choices and value not in choices:
            raise ConfigError(f"{self.name(key)}: {value!r} is not one of {', '.join(choices)}")
        return value

    def number(self, key: str, default: Any = _REQUIRED, *, minimum: float | None = None) -> Any:
        value = self.raw(key, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.name(key)}: expected a number, got {value!r}")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{self.name(key)}: must be >= {minimum}, got {value!r}")
        return float(value)

    def integer(self, key: str, default: Any = _REQUIRED, *, minimum: int | None = None) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{self.name(key)}: expected an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{self.name(key)}: must be >= {minimum}, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.name(key)}: expected true or false, got {value!r}")
        return value

    def table(self, key: str) -> _Table:
        return _Table(self.raw(key, {}), self.name(key))

    def refuse_unknown(self) -> None:
        for key in self.data:
            if key not in self.read:
                close = difflib.get_close_matches(key, self.read, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{self.name(key)}: unknown key{hint}")


def load(path: Path | str) -> AgentConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: no such file") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    return parse(data, base_dir=path.parent)


def parse(data: dict[str, Any], base_dir: Path = Path()) -> AgentConfig:
    top = _Table(data, "")
    server_url = top.text("server_url")
    if urlparse(server_url).scheme not in ("http", "https") or not urlparse(server_url).netloc:
        raise ConfigError(f"server_url: expected http(s)://host[:port], got {server_url!r}")
    ca_file = top.text("ca_file", None)
    config = AgentConfig(
        server_url=server_url.rstrip("/"),
        serial=top.text("serial"),
        claim_code=top.text("claim_code"),
        state_dir=base_dir / top.text("state_dir"),
        firmware_version=top.text("firmware_version", "0.1.0"),
        connectivity=top.text("connectivity", "dsl", CONNECTIVITY),
        ca_file=base_dir / ca_file if ca_file else None,
        timeout_s=top.number("timeout_s", 30.0, minimum=1),
        meter=_meter(top.table("meter"), base_dir),
        devices=_devices(top.raw("devices", [])),
        location=_location(top.table("location")),
        intervals=_intervals(top.table("intervals")),
        simulation=_simulation(top.table("simulation")),
        outbox=_outbox(top.table("outbox")),
        overload=_overload(top.table("overload")),
    )
    top.refuse_unknown()
    return config


def _outbox(t: _Table) -> OutboxConfig:
    outbox = OutboxConfig(max_mb=t.number("max_mb", 64.0, minimum=1))
    t.refuse_unknown()
    return outbox


def _overload(t: _Table) -> OverloadConfig:
    priority = t.raw("priority", list(SHED_PRIORITY))
    if not isinstance(priority, list) or not all(isinstance(kind, str) for kind in priority):
        raise ConfigError(f"overload.priority: expected a list of device kinds, got {priority!r}")
    for kind in priority:
        if kind not in SHEDDABLE:
            raise ConfigError(
                f"overload.priority: {kind!r} cannot be shed (one of {', '.join(SHEDDABLE)})"
            )
    if len(set(priority)) != len(priority):
        raise ConfigError("overload.priority: a kind is listed twice")
    overload = OverloadConfig(
        enabled=t.boolean("enabled", True),
        limit_va=t.number("limit_va", None, minimum=100),
        kind=t.text("kind", "linky", LIMIT_KINDS),
        phases=t.integer("phases", 1, minimum=1),
        shed_ratio=t.number("shed_ratio", 0.95, minimum=0.1),
        confirm_s=t.number("confirm_s", 5.0, minimum=0),
        trip_margin_s=t.number("trip_margin_s", 60.0, minimum=0),
        settle_s=t.number("settle_s", 5.0, minimum=0),
        restore_ratio=t.number("restore_ratio", 0.8, minimum=0),
        min_off_s=t.number("min_off_s", 60.0, minimum=0),
        restore_gap_s=t.number("restore_gap_s", 30.0, minimum=0),
        min_power_w=t.number("min_power_w", 100.0, minimum=0),
        priority=tuple(priority),
    )
    t.refuse_unknown()
    if overload.phases > 3:
        raise ConfigError(f"overload.phases: 1 to 3, got {overload.phases}")
    if overload.shed_ratio > 1.5:
        raise ConfigError(f"overload.shed_ratio: at most 1.5, got {overload.shed_ratio}")
    if overload.restore_ratio >= overload.shed_ratio:
        raise ConfigError("overload.restore_ratio: must be below overload.shed_ratio")
    return overload


def _meter(t: _Table, base_dir: Path) -> MeterConfig:
    source = t.text("source", "serial", SOURCES)
    path = t.text("path", None)
    meter = MeterConfig(
        protocol=t.text("protocol", "p1-be", PROTOCOLS),
        source=source,
        path=base_dir / path if path else None,
        loop=t.boolean("loop", False),
        device=t.text("device", "/dev/ttyUSB0"),
        baud=t.integer("baud", 115200, minimum=300),
        host=t.text("host", ""),
        port=t.integer("port", 0, minimum=0),
        topic=t.text("topic", ""),
        frame_interval_s=t.number("frame_interval_s", 1.0, minimum=0.01),
        sample_every_s=t.number("sample_every_s", 10.0, minimum=0),
        meter_id=t.text("meter_id", "SIM0000000001"),
    )
    t.refuse_unknown()
    _require_source_keys(meter)
    return meter


def _require_source_keys(meter: MeterConfig) -> None:
    if meter.source == "file" and meter.path is None:
        raise ConfigError("meter.path: required when meter.source is 'file'")
    if meter.source == "stream" and bool(meter.host) != bool(meter.port):
        raise ConfigError("meter.host, meter.port: both for a TCP stream, neither for stdin")
    if meter.source == "mqtt" and not (meter.host and meter.topic):
        raise ConfigError("meter.host, meter.topic: required when meter.source is 'mqtt'")


def _devices(raw: Any) -> tuple[DeviceConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError("devices: expected an array of tables ([[devices]])")
    return tuple(_device(_Table(item, f"devices[{index}]")) for index, item in enumerate(raw))


def _device(t: _Table) -> DeviceConfig:
    try:
        device_id = uuid.UUID(t.text("id"))
    except ValueError as error:
        raise ConfigError(f"{t.name('id')}: not a UUID") from error
    device = DeviceConfig(
        id=device_id,
        kind=t.text("kind", choices=DEVICE_KINDS),
        rated_w=t.integer("rated_w", minimum=1),
        name=t.text("name", ""),
        appliance=t.text("appliance", "washing_machine", APPLIANCES),
        capacity_wh=_optional_integer(t, "capacity_wh"),
        kwp=t.number("kwp", 4.0, minimum=0.1),
        tilt_deg=t.number("tilt_deg", 35.0, minimum=0),
        azimuth_deg=t.number("azimuth_deg", 180.0, minimum=0),
    )
    t.refuse_unknown()
    return device


def _optional_integer(t: _Table, key: str) -> int | None:
    return None if t.raw(key, None) is None else t.integer(key, minimum=1)


def _location(t: _Table) -> LocationConfig:
    location = LocationConfig(
        latitude=t.number("latitude", 50.85, minimum=-90),
        longitude=t.number("longitude", 4.35, minimum=-180),
        altitude_m=t.number("altitude_m", 60.0),
        timezone=t.text("timezone", "Europe/Brussels"),
    )
    t.refuse_unknown()
    if location.latitude > 90 or location.longitude > 180:
        raise ConfigError("location.latitude/longitude: out of range")
    try:
        ZoneInfo(location.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"location.timezone: unknown zone {location.timezone!r}") from error
    return location


def _intervals(t: _Table) -> IntervalsConfig:
    intervals = IntervalsConfig(
        upload_every_s=t.number("upload_every_s", 60.0, minimum=1),
        heartbeat_every_s=t.number("heartbeat_every_s", 300.0, minimum=1),
        commands_every_s=t.number("commands_every_s", 60.0, minimum=1),
        device_every_s=t.number("device_every_s", 60.0, minimum=1),
        max_batch_readings=t.integer("max_batch_readings", 1000, minimum=1),
    )
    t.refuse_unknown()
    if intervals.max_batch_readings > 20_000:
        raise ConfigError("intervals.max_batch_readings: the protocol allows at most 20000")
    return intervals


def _simulation(t: _Table) -> SimulationConfig:
    start = t.raw("start", None)
    if start is not None and not (isinstance(start, datetime) and start.tzinfo is not None):
        raise ConfigError(f"simulation.start: expected a TOML date-time with offset, got {start!r}")
    simulation = SimulationConfig(
        speed=t.number("speed", 1.0, minimum=0.001),
        start=start,
        seed=t.integer("seed", 0),
        annual_kwh=t.number("annual_kwh", 3500.0, minimum=0),
        clear_sky=t.boolean("clear_sky", False),
        run_for_s=t.number("run_for_s", None, minimum=0),
    )
    t.refuse_unknown()
    return simulation
