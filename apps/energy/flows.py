"""Energy flows of one interval, derived from the rollups (computed, never stored).

house = grid import + PV - grid export + battery discharge - battery charge.
A figure that depends on a source with a gap is None, never estimated: the house needs the
meter, PV and battery complete; the untracked remainder also needs every measured device.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from apps.devices.models import DeviceKind
from apps.energy.models import DeviceEnergy, HouseholdEnergy

PRODUCER_KINDS = {DeviceKind.PV_INVERTER, DeviceKind.BATTERY}


@dataclass(frozen=True)
class Flows:
    start: datetime
    end: datetime
    grid_import_wh: int
    grid_export_wh: int
    pv_wh: int
    battery_charge_wh: int
    battery_discharge_wh: int
    self_consumed_wh: int | None  # PV used at home (directly or through the battery)
    house_consumption_wh: int | None
    self_sufficiency: float | None  # share of the house's use not drawn from the grid
    self_consumption_ratio: float | None  # share of the PV production used at home
    devices: dict[uuid.UUID, int] = field(default_factory=dict)  # loads only
    untracked_wh: int | None = None  # house minus the measured loads
    clamped: bool = False  # a small negative (rounding) was shown as 0
    complete: bool = False
    gap_quarters: int = 0  # the meter's
    gaps: tuple[str, ...] = ()  # "meter" and the ids of devices with a gap


def _ratio(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return min(max(part / whole, 0.0), 1.0)


def flows_of(
    row: HouseholdEnergy, end: datetime, devices: Sequence[tuple[DeviceEnergy, str]]
) -> Flows:
    """One interval's flows from its household row and its devices' rows (with their kind)."""
    gaps = (["meter"] if not row.complete else []) + [
        str(d.device_id) for d, _ in devices if not d.complete
    ]
    producers_ok = all(d.complete for d, kind in devices if kind in PRODUCER_KINDS)
    loads = {d.device_id: d.energy_wh for d, kind in devices if kind not in PRODUCER_KINDS}
    loads_ok = all(d.complete for d, kind in devices if kind not in PRODUCER_KINDS)
    house: int | None = None
    clamped = False
    if row.complete and producers_ok:
        house = (
            row.import_wh + row.pv_wh - row.export_wh
            + row.battery_discharge_wh - row.battery_charge_wh
        )  # fmt: skip
        clamped, house = house < 0, max(house, 0)
    self_consumed = None
    if row.complete and producers_ok:
        self_consumed = min(max(row.pv_wh - row.export_wh, 0), row.pv_wh)
    untracked = None
    if house is not None and loads_ok:
        untracked = house - sum(loads.values())
        clamped, untracked = clamped or untracked < 0, max(untracked, 0)
    return Flows(
        start=row.start, end=end,
        grid_import_wh=row.import_wh, grid_export_wh=row.export_wh, pv_wh=row.pv_wh,
        battery_charge_wh=row.battery_charge_wh, battery_discharge_wh=row.battery_discharge_wh,
        self_consumed_wh=self_consumed, house_consumption_wh=house,
        self_sufficiency=_ratio(None if house is None else house - row.import_wh, house),
        self_consumption_ratio=_ratio(self_consumed, row.pv_wh),
        devices=loads, untracked_wh=untracked, clamped=clamped,
        complete=not gaps, gap_quarters=row.gap_quarters, gaps=tuple(gaps),
    )  # fmt: skip
