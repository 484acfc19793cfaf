"""Ingest at the boundary: a validated batch is written whole, once, or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from apps.devices.models import Device
from apps.fleet import services as fleet_services
from apps.fleet.models import AlarmKind, Gateway
from apps.telemetry.models import DeviceReading, IngestedBatch, MeterReading
from gateway_agent.protocol import BatchReceipt, TelemetryBatch

# A meter's clock may run a little fast; anything further ahead is a wrong clock or forged.
MAX_FUTURE = timedelta(minutes=10)

METER_COLUMNS = (
    "household_id", "gateway_id", "batch_id", "time", "meter_id", "import_wh", "export_wh",
    "import_w", "export_w", "voltage_v", "current_a", "tariff",
)  # fmt: skip
DEVICE_COLUMNS = (
    "household_id", "device_id", "batch_id", "time", "power_w", "energy_wh", "on", "soc_pct",
)  # fmt: skip


class IngestRefused(Exception):
    """The batch is refused whole; `field` names the first bad value for the agent's log."""

    def __init__(self, message: str, *, status: int, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def telemetry_ingest(*, gateway: Gateway, batch: TelemetryBatch, now: datetime) -> BatchReceipt:
    if IngestedBatch.objects.filter(pk=batch.batch_id).exists():
        return _duplicate(gateway, batch.batch_id)
    _check_batch(gateway, batch, now)
    try:
        with transaction.atomic():
            IngestedBatch.objects.create(
                batch_id=batch.batch_id,
                gateway=gateway,
                received_at=now,
                meter_rows=len(batch.meter),
                device_rows=len(batch.devices),
            )
            _write_rows(gateway, batch)
    except IntegrityError:  # the same batch committed by a concurrent request
        return _duplicate(gateway, batch.batch_id)
    return BatchReceipt(
        batch_id=batch.batch_id,
        duplicate=False,
        meter_rows=len(batch.meter),
        device_rows=len(batch.devices),
    )


def _duplicate(gateway: Gateway, batch_id: uuid.UUID) -> BatchReceipt:
    stored = IngestedBatch.objects.filter(pk=batch_id).first()
    if stored is None or stored.gateway_id != gateway.pk:
        # Another box's batch id: refuse rather than confirm someone else's upload.
        raise IngestRefused(_("This batch id belongs to another gateway."), status=409)
    return BatchReceipt(
        batch_id=batch_id,
        duplicate=True,
        meter_rows=stored.meter_rows,
        device_rows=stored.device_rows,
    )


# Checks ---------------------------------------------------------------------------------


def _check_batch(gateway: Gateway, batch: TelemetryBatch, now: datetime) -> None:
    if batch.serial != gateway.serial:
        raise IngestRefused(_("The serial is not this gateway's."), status=422, field="$.serial")
    if gateway.household_id is None:
        raise IngestRefused(_("This gateway is not claimed for a household."), status=403)
    _check_times([r.timestamp for r in batch.meter], "meter", now)
    _check_times([r.timestamp for r in batch.devices], "devices", now)
    _check_meter(gateway, batch)
    _check_devices(gateway, batch)


def _check_times(times: Sequence[datetime], field: str, now: datetime) -> None:
    for index, time in enumerate(times):
        where = f"$.{field}[{index}].timestamp"
        if time.tzinfo is None:
            raise IngestRefused(
                _("A timestamp must carry its UTC offset."), status=422, field=where
            )
        if time > now + MAX_FUTURE:
            raise IngestRefused(_("A timestamp is in the future."), status=422, field=where)


def _check_meter(gateway: Gateway, batch: TelemetryBatch) -> None:
    if not batch.meter:
        return
    paired = fleet_services.paired_meter_id(gateway=gateway)
    for index, reading in enumerate(batch.meter):
        if reading.meter_id != paired:
            fleet_services.alarm_raise(
                gateway=gateway,
                kind=AlarmKind.WRONG_METER,
                message=f"readings from meter {reading.meter_id!r}; paired: {paired!r}",
            )
            message = (
                _("This gateway is not paired with a meter.")
                if paired is None
                else _("Readings from a meter this gateway is not paired with.")
            )
            raise IngestRefused(message, status=403, field=f"$.meter[{index}].meter_id")


def _check_devices(gateway: Gateway, batch: TelemetryBatch) -> None:
    if not batch.devices:
        return
    known = set(Device.objects.filter(household=gateway.household).values_list("pk", flat=True))
    for index, reading in enumerate(batch.devices):
        if reading.device_id not in known:
            raise IngestRefused(
                _("No such device in this household."),
                status=422,
                field=f"$.devices[{index}].device_id",
            )


# Writing --------------------------------------------------------------------------------


def _meter_rows(gateway: Gateway, batch: TelemetryBatch) -> list[tuple[Any, ...]]:
    return [
        (
            gateway.household_id, gateway.pk, batch.batch_id, r.timestamp, r.meter_id,
            r.import_wh, r.export_wh, r.import_w, r.export_w, r.voltage_v, r.current_a,
            r.tariff or "",
        )
        for r in batch.meter
    ]  # fmt: skip


def _device_rows(gateway: Gateway, batch: TelemetryBatch) -> list[tuple[Any, ...]]:
    return [
        (
            gateway.household_id, r.device_id, batch.batch_id, r.timestamp, r.power_w,
            r.energy_wh, r.on, r.soc_pct,
        )
        for r in batch.devices
    ]  # fmt: skip


def _write_rows(gateway: Gateway, batch: TelemetryBatch) -> None:
    meter_rows, device_rows = _meter_rows(gateway, batch), _device_rows(gateway, batch)
    if connection.vendor == "postgresql":
        _copy(MeterReading._meta.db_table, METER_COLUMNS, meter_rows, json_columns={5, 6, 9, 10})
        _copy(DeviceReading._meta.db_table, DEVICE_COLUMNS, device_rows, json_columns=set())
        return
    MeterReading.objects.bulk_create(
        [MeterReading(**dict(zip(METER_COLUMNS, row, strict=True))) for row in meter_rows],
        batch_size=1000,
    )
    DeviceReading.objects.bulk_create(
        [DeviceReading(**dict(zip(DEVICE_COLUMNS, row, strict=True))) for row in device_rows],
        batch_size=1000,
    )


def _copy(
    table: str, columns: Sequence[str], rows: list[tuple[Any, ...]], json_columns: set[int]
) -> None:
    """PostgreSQL COPY: several times faster than INSERT for a batch of readings."""
    if not rows:
        return
    from psycopg.types.json import Jsonb

    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([Jsonb(v) if i in json_columns else v for i, v in enumerate(row)])
