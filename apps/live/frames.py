"""The live frame: a household's power flows at the newest reading of an ingested batch.

Same balance as the energy flows (apps/energy/flows.py), in watts at one instant:
house = grid import + PV - grid export - battery (+ charging, - discharging).
Self-consumption is the PV power used at home (directly or into the battery).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.devices.models import DeviceKind
from gateway_agent.protocol import DeviceReading, MeterReading, TelemetryBatch

PRODUCER_KINDS = {DeviceKind.PV_INVERTER, DeviceKind.BATTERY}


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    kind: str
    controllable: bool
    rated_power_w: int


def newest_readings(batch: TelemetryBatch) -> tuple[MeterReading | None, dict[str, DeviceReading]]:
    meter = max(batch.meter, key=lambda r: r.timestamp, default=None)
    devices: dict[str, DeviceReading] = {}
    for reading in batch.devices:
        key = str(reading.device_id)
        if key not in devices or reading.timestamp >= devices[key].timestamp:
            devices[key] = reading
    return meter, devices


def chart_points(batch: TelemetryBatch, devices: Mapping[str, DeviceInfo]) -> list[dict[str, Any]]:
    """A point per meter reading of the batch for the live chart: the meter's import and
    export, with the PV and battery power last read at or before it (same balance as above)."""
    producers = sorted(
        (r for r in batch.devices
         if (info := devices.get(str(r.device_id))) and info.kind in PRODUCER_KINDS),
        key=lambda r: r.timestamp,
    )  # fmt: skip
    latest: dict[str, DeviceReading] = {}
    points, index = [], 0
    for meter in sorted(batch.meter, key=lambda r: r.timestamp):
        while index < len(producers) and producers[index].timestamp <= meter.timestamp:
            latest[str(producers[index].device_id)] = producers[index]
            index += 1
        pv_w = sum(
            max(r.power_w, 0)
            for k, r in latest.items()
            if devices[k].kind == DeviceKind.PV_INVERTER
        )
        battery_w = sum(
            r.power_w for k, r in latest.items() if devices[k].kind == DeviceKind.BATTERY
        )
        points.append(
            {
                "t": meter.timestamp.isoformat(),
                "house": max(meter.import_w + pv_w - meter.export_w - battery_w, 0),
                "import": meter.import_w,
                "export": meter.export_w,
                "pv": pv_w,
            }
        )
    return points


def flows_frame(
    *,
    household_id: str,
    batch: TelemetryBatch,
    devices: Mapping[str, DeviceInfo],
    last_seen: datetime | None,
) -> dict[str, Any] | None:
    """The frame pushed to the household's sockets; None when the batch has no meter reading."""
    meter, readings = newest_readings(batch)
    if meter is None:
        return None
    pv_w = battery_w = 0
    soc: float | None = None
    loads = []
    for device_id, reading in readings.items():
        info = devices.get(device_id)
        if info is None:
            continue
        if info.kind == DeviceKind.PV_INVERTER:
            pv_w += max(reading.power_w, 0)
        elif info.kind == DeviceKind.BATTERY:
            battery_w += reading.power_w
            soc = reading.soc_pct
        else:
            loads.append(
                {"id": device_id, "name": info.name, "kind": info.kind,
                 "power_w": max(reading.power_w, 0), "on": reading.on}
            )  # fmt: skip
    house_w = max(meter.import_w + pv_w - meter.export_w - battery_w, 0)
    self_w = min(max(pv_w - meter.export_w, 0), pv_w)
    return {
        "type": "flows",
        "household": household_id,
        "batch_id": str(batch.batch_id),
        "time": meter.timestamp.isoformat(),
        "grid_import_w": meter.import_w,
        "grid_export_w": meter.export_w,
        "pv_w": pv_w,
        "battery_w": battery_w,
        "battery_soc_pct": soc,
        "house_w": house_w,
        "self_consumption_w": self_w,
        "devices": sorted(loads, key=lambda d: -d["power_w"]),
        "points": chart_points(batch, devices),
        "actions": [
            {
                "time": a.timestamp.isoformat(),
                "action": a.action,
                "device": devices[str(a.device_id)].name if str(a.device_id) in devices else None,
                "device_power_w": a.device_power_w,
                "load_va": a.load_va,
                "limit_va": a.limit_va,
            }
            for a in sorted(batch.actions, key=lambda a: a.timestamp)
        ],
        "last_seen": last_seen.isoformat() if last_seen else None,
    }
