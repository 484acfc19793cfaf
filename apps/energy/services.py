"""Keeping the energy rollups current: recompute a household's quarters, then the hours,
days and months containing them. Idempotent upserts, so a late or repeated batch simply
recomputes its periods; whatever order batches arrive in, the result is the same.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.devices.models import Device, DeviceKind
from apps.energy import periods, rollup
from apps.energy.models import DeviceEnergy, HouseholdEnergy, Resolution
from apps.energy.periods import QUARTER
from apps.households.models import Household
from apps.telemetry import selectors as telemetry

HOUSEHOLD_VALUES = [
    "import_wh", "export_wh", "import_by_register", "export_by_register", "pv_wh",
    "battery_charge_wh", "battery_discharge_wh", "devices_wh", "peak_import_w",
    "complete", "gap_quarters",
]  # fmt: skip
DEVICE_VALUES = ["energy_wh", "charge_wh", "discharge_wh", "complete", "gap_quarters"]
# The beat catches batches whose on-commit rollup was lost (worker crash, broker down).
RECENT_BATCHES = timedelta(minutes=10)

_start = attrgetter("start")


def energy_rollup_household(
    *, household: Household, start: datetime, end: datetime, now: datetime | None = None
) -> int:
    """Recompute every period a reading in [start, end] can change; returns quarters done.

    Quarters older than the raw-data retention are left alone: their readings may be gone,
    and recomputing them would turn good rollups into gaps.
    """
    first = periods.floor_to(start, QUARTER) - QUARTER
    last = periods.floor_to(end + rollup.BOUNDARY_TOLERANCE, QUARTER) + QUARTER
    horizon = (now or timezone.now()) - timedelta(days=settings.TELEMETRY_RAW_RETENTION_DAYS)
    first = max(first, periods.ceil_to(horizon, QUARTER))
    if first >= last:
        return 0
    zone = ZoneInfo(household.timezone)
    with transaction.atomic():
        _lock(household.pk)
        quarters = periods.steps(first, last, QUARTER)
        _upsert_quarters(household, quarters)
        _upsert_coarser(household, zone, first, last)
    return len(quarters)


def energy_rollup_recent(*, now: datetime | None = None) -> int:
    """Recompute the spans of the batches received lately; returns households done."""
    since = (now or timezone.now()) - RECENT_BATCHES
    spans: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    for row in telemetry.batch_spans_received_since(since=since):
        if row["gateway__household_id"] is not None:
            spans[row["gateway__household_id"]].append((row["first_time"], row["last_time"]))
    for household in Household.objects.filter(pk__in=list(spans)):
        for start, end in merge_spans(spans[household.pk]):
            energy_rollup_household(household=household, start=start, end=end, now=now)
    return len(spans)


def merge_spans(
    spans: Iterable[tuple[datetime, datetime]], slack: timedelta = timedelta(hours=1)
) -> list[tuple[datetime, datetime]]:
    """Overlapping or nearly touching spans as one: fewer, larger recomputes."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + slack:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _lock(household_id: uuid.UUID) -> None:
    """One rollup per household at a time, so a slower, older snapshot never wins."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [str(household_id)])


# Quarters -------------------------------------------------------------------------------


def _upsert_quarters(household: Household, quarters: Sequence[datetime]) -> None:
    first, end = quarters[0], quarters[-1] + QUARTER
    readings = telemetry.meter_registers_between(
        household_id=household.pk, start=first - rollup.BOUNDARY_TOLERANCE, end=end
    )
    meter = rollup.meter_quarters(readings, quarters)
    kinds = dict(Device.objects.filter(household=household).values_list("pk", "kind"))
    device_rows = _device_quarters(kinds, quarters)
    rows = [
        _household_quarter(household, q, [(kinds[d], dq[n]) for d, dq in device_rows.items()])
        for n, q in enumerate(meter)
    ]
    _save_households(rows)
    _save_devices(
        [
            _device_row(household, device, kinds[device], Resolution.QUARTER, q)
            for device, device_quarters in device_rows.items()
            for q in device_quarters
        ]
    )


def _device_quarters(
    kinds: dict[uuid.UUID, str], quarters: Sequence[datetime]
) -> dict[uuid.UUID, list[rollup.DeviceQuarter]]:
    """Quarters of every device that reported around the window (others: nothing known)."""
    margin = max(rollup.BOUNDARY_TOLERANCE, rollup.MAX_POWER_GAP)
    rows = telemetry.device_powers_between(
        device_ids=kinds, start=quarters[0] - margin, end=quarters[-1] + QUARTER + margin
    )
    readings: dict[uuid.UUID, list[tuple[datetime, int, int | None]]] = defaultdict(list)
    for device, time, power, energy in rows:
        readings[device].append((time, power, energy))
    return {
        device: rollup.device_quarters(
            series, quarters, use_counter=kinds[device] != DeviceKind.BATTERY
        )
        for device, series in readings.items()
    }


def _household_quarter(
    household: Household,
    meter: rollup.MeterQuarter,
    devices: list[tuple[str, rollup.DeviceQuarter]],
) -> HouseholdEnergy:
    imports, exports = meter.import_by_register or {}, meter.export_by_register or {}
    by_kind: dict[str, int] = defaultdict(int)
    discharge = 0
    for kind, quarter in devices:
        by_kind[_role(kind)] += quarter.positive_wh
        discharge += quarter.negative_wh if kind == DeviceKind.BATTERY else 0
    import_wh = sum(imports.values())
    return HouseholdEnergy(
        household=household, resolution=Resolution.QUARTER, start=meter.start,
        import_wh=import_wh, export_wh=sum(exports.values()),
        import_by_register=imports, export_by_register=exports,
        pv_wh=by_kind["pv"], battery_charge_wh=by_kind["battery"],
        battery_discharge_wh=discharge, devices_wh=by_kind["load"],
        peak_import_w=import_wh * 4, complete=meter.complete,
        gap_quarters=0 if meter.complete else 1,
    )  # fmt: skip


def _role(kind: str) -> str:
    if kind == DeviceKind.PV_INVERTER:
        return "pv"
    if kind == DeviceKind.BATTERY:
        return "battery"
    return "load"


def _device_row(
    household: Household, device: uuid.UUID, kind: str, resolution: str, q: rollup.DeviceQuarter
) -> DeviceEnergy:
    battery = kind == DeviceKind.BATTERY
    return DeviceEnergy(
        device_id=device, household=household, resolution=resolution, start=q.start,
        energy_wh=q.positive_wh - q.negative_wh if battery else q.positive_wh,
        charge_wh=q.positive_wh if battery else 0, discharge_wh=q.negative_wh,
        complete=q.complete, gap_quarters=0 if q.complete else 1,
    )  # fmt: skip


# Hours, days, months --------------------------------------------------------------------


def _upsert_coarser(household: Household, zone: ZoneInfo, first: datetime, last: datetime) -> None:
    days = periods.periods(Resolution.DAY, first, last, zone)
    hours = periods.periods(Resolution.HOUR, first, last, zone)
    quarters_h = _household_rows(household, Resolution.QUARTER, days[0][0], days[-1][1])
    quarters_d = _device_rows(household, Resolution.QUARTER, days[0][0], days[-1][1])
    _save_households(_sum_households(household, Resolution.HOUR, hours, quarters_h, zone))
    _save_households(_sum_households(household, Resolution.DAY, days, quarters_h, zone))
    _save_devices(_sum_devices(household, Resolution.HOUR, hours, quarters_d, zone))
    _save_devices(_sum_devices(household, Resolution.DAY, days, quarters_d, zone))
    months = periods.periods(Resolution.MONTH, first, last, zone)
    days_h = _household_rows(household, Resolution.DAY, months[0][0], months[-1][1])
    days_d = _device_rows(household, Resolution.DAY, months[0][0], months[-1][1])
    _save_households(_sum_households(household, Resolution.MONTH, months, days_h, zone))
    _save_devices(_sum_devices(household, Resolution.MONTH, months, days_d, zone))


def _household_rows(
    household: Household, resolution: str, start: datetime, end: datetime
) -> list[HouseholdEnergy]:
    rows = HouseholdEnergy.objects.filter(
        household=household, resolution=resolution, start__gte=start, start__lt=end
    )
    return list(rows.order_by("start"))


def _device_rows(
    household: Household, resolution: str, start: datetime, end: datetime
) -> list[DeviceEnergy]:
    rows = DeviceEnergy.objects.filter(
        household=household, resolution=resolution, start__gte=start, start__lt=end
    )
    return list(rows.order_by("device_id", "start"))


def _within(
    rows: Sequence[HouseholdEnergy] | Sequence[DeviceEnergy], start: datetime, end: datetime
) -> list:
    """The rows (sorted by start) with start <= row.start < end: two bisections, no scan."""
    first = bisect_left(rows, start, key=_start)
    return list(rows[first : bisect_left(rows, end, lo=first, key=_start)])


def _gaps(
    resolution: str,
    start: datetime,
    end: datetime,
    inside: Iterable[HouseholdEnergy | DeviceEnergy],
    zone: ZoneInfo,
) -> int:
    """Quarters of the period [start, end) of `resolution` its child rows had no data for."""
    child_resolution = Resolution.DAY if resolution == Resolution.MONTH else Resolution.QUARTER
    measured = sum(
        periods.quarter_count(row.start, periods.period_end(child_resolution, row.start, zone))
        - row.gap_quarters
        for row in inside
    )
    return periods.quarter_count(start, end) - measured


def _sum_households(
    household: Household,
    resolution: str,
    spans: Sequence[tuple[datetime, datetime]],
    children: Sequence[HouseholdEnergy],
    zone: ZoneInfo,
) -> list[HouseholdEnergy]:
    out = []
    for start, end in spans:
        inside = _within(children, start, end)
        gaps = _gaps(resolution, start, end, inside, zone)
        out.append(
            HouseholdEnergy(
                household=household, resolution=resolution, start=start,
                import_wh=sum(c.import_wh for c in inside),
                export_wh=sum(c.export_wh for c in inside),
                import_by_register=_sum_registers(c.import_by_register for c in inside),
                export_by_register=_sum_registers(c.export_by_register for c in inside),
                pv_wh=sum(c.pv_wh for c in inside),
                battery_charge_wh=sum(c.battery_charge_wh for c in inside),
                battery_discharge_wh=sum(c.battery_discharge_wh for c in inside),
                devices_wh=sum(c.devices_wh for c in inside),
                peak_import_w=max((c.peak_import_w for c in inside), default=0),
                complete=gaps == 0, gap_quarters=gaps,
            )
        )  # fmt: skip
    return out


def _sum_registers(registers: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for by_register in registers:
        for register, wh in by_register.items():
            total[register] += wh
    return dict(total)


def _sum_devices(
    household: Household,
    resolution: str,
    spans: Sequence[tuple[datetime, datetime]],
    children: Sequence[DeviceEnergy],
    zone: ZoneInfo,
) -> list[DeviceEnergy]:
    by_device: dict[uuid.UUID, list[DeviceEnergy]] = defaultdict(list)
    for row in children:
        by_device[row.device_id].append(row)
    out = []
    for device, rows in by_device.items():
        for start, end in spans:
            inside = _within(rows, start, end)
            if not inside:
                continue  # the device did not report then: nothing to say
            gaps = _gaps(resolution, start, end, inside, zone)
            out.append(
                DeviceEnergy(
                    device_id=device, household=household, resolution=resolution, start=start,
                    energy_wh=sum(c.energy_wh for c in inside),
                    charge_wh=sum(c.charge_wh for c in inside),
                    discharge_wh=sum(c.discharge_wh for c in inside),
                    complete=gaps == 0, gap_quarters=gaps,
                )
            )  # fmt: skip
    return out


def _save_households(rows: list[HouseholdEnergy]) -> None:
    HouseholdEnergy.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["household", "resolution", "start"],
        update_fields=HOUSEHOLD_VALUES,
    )


def _save_devices(rows: list[DeviceEnergy]) -> None:
    DeviceEnergy.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["device", "resolution", "start"],
        update_fields=DEVICE_VALUES,
    )
