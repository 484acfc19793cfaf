"""Ingest at the boundary: a validated batch is written whole, once, or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.devices.models import Device
from apps.fleet import services as fleet_services
from apps.fleet.models import AlarmKind, Gateway
from apps.telemetry import partitions
from apps.telemetry.models import DeviceReading, GuardAction, IngestedBatch, MeterReading
from gateway_agent.protocol import BatchReceipt, TelemetryBatch

# A meter's clock may run a little fast; anything further ahead is a wrong clock or forged.
MAX_FUTURE = timedelta(minutes=10)

METER_COLUMNS = (
    "household_id", "gateway_id", "batch_id", "seq", "time", "meter_id", "import_wh", "export_wh",
    "import_w", "export_w", "voltage_v", "current_a", "tariff",
)  # fmt: skip
DEVICE_COLUMNS = (
    "household_id", "device_id", "batch_id", "seq", "time", "power_w", "energy_wh", "on", "soc_pct",
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
    span = _time_span(batch)
    try:
        with transaction.atomic():
            IngestedBatch.objects.create(
                batch_id=batch.batch_id,
                gateway=gateway,
                received_at=now,
                meter_rows=len(batch.meter),
                device_rows=len(batch.devices),
                first_time=span[0] if span else None,
                last_time=span[1] if span else None,
            )
            _write_rows(gateway, batch)
            _write_actions(gateway, batch)
            fleet_services.gateway_seen(gateway=gateway, now=now)
            if span and gateway.household_id is not None:
                _rollup_after_commit(gateway.household_id, *span)
                _live_after_commit(gateway, batch)
    except IntegrityError:  # the same batch committed by a concurrent request
        return _duplicate(gateway, batch.batch_id)
    return BatchReceipt(
        batch_id=batch.batch_id,
        duplicate=False,
        meter_rows=len(batch.meter),
        device_rows=len(batch.devices),
    )


def _time_span(batch: TelemetryBatch) -> tuple[datetime, datetime] | None:
    times = [r.timestamp for r in batch.meter] + [r.timestamp for r in batch.devices]
    return (min(times), max(times)) if times else None


def _rollup_after_commit(household_id: uuid.UUID, first: datetime, last: datetime) -> None:
    """Keep the energy rollups current: recompute the batch's quarters once it is stored."""
    from apps.energy.tasks import rollup_household  # energy reads telemetry: import late

    args = (str(household_id), first.isoformat(), last.isoformat())
    # robust: a broker outage must not fail a stored batch (the beat's rollup_recent catches up)
    transaction.on_commit(lambda: rollup_household.delay(*args), robust=True)


def _live_after_commit(gateway: Gateway, batch: TelemetryBatch) -> None:
    """Push the new state to the household's live page and assess the overload risk."""
    from apps.live.services import live_batch_ingested  # live reads what was ingested

    live_batch_ingested(gateway_id=gateway.pk, batch=batch)


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
    _check_times([a.timestamp for a in batch.actions], "actions", now)
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
    if not batch.devices and not batch.actions:
        return
    known = set(Device.objects.filter(household=gateway.household).values_list("pk", flat=True))
    ids = {
        "devices": [r.device_id for r in batch.devices],
        "actions": [a.device_id for a in batch.actions],
    }
    for field, device_ids in ids.items():
        for index, device_id in enumerate(device_ids):
            if device_id not in known:
                raise IngestRefused(
                    _("No such device in this household."),
                    status=422,
                    field=f"$.{field}[{index}].device_id",
                )


# Writing --------------------------------------------------------------------------------


def _meter_rows(gateway: Gateway, batch: TelemetryBatch) -> list[tuple[Any, ...]]:
    return [
        (
            gateway.household_id, gateway.pk, batch.batch_id, seq, r.timestamp, r.meter_id,
            r.import_wh, r.export_wh, r.import_w, r.export_w, r.voltage_v, r.current_a,
            r.tariff or "",
        )
        for seq, r in enumerate(batch.meter)
    ]  # fmt: skip


def _device_rows(gateway: Gateway, batch: TelemetryBatch) -> list[tuple[Any, ...]]:
    return [
        (
            gateway.household_id, r.device_id, batch.batch_id, seq, r.timestamp, r.power_w,
            r.energy_wh, r.on, r.soc_pct,
        )
        for seq, r in enumerate(batch.devices)
    ]  # fmt: skip


def _write_rows(gateway: Gateway, batch: TelemetryBatch) -> None:
    meter_rows, device_rows = _meter_rows(gateway, batch), _device_rows(gateway, batch)
    if connection.vendor == "postgresql":
        _copy(MeterReading._meta.db_table, METER_COLUMNS, meter_rows, json_columns={6, 7, 10, 11})
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


def _write_actions(gateway: Gateway, batch: TelemetryBatch) -> None:
    """The overload guard's actions: few (a handful per overload), so plain INSERTs."""
    assert gateway.household_id is not None  # _check_batch refused an unclaimed box
    GuardAction.objects.bulk_create(
        GuardAction(
            household_id=gateway.household_id, gateway=gateway, device_id=a.device_id,
            batch_id=batch.batch_id, time=a.timestamp, action=a.action, load_va=a.load_va,
            limit_va=a.limit_va, device_power_w=a.device_power_w, reason=a.reason,
        )
        for a in batch.actions
    )  # fmt: skip


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


# Storage upkeep -------------------------------------------------------------------------


def telemetry_partitions_ensure(*, months_ahead: int = 3, today: date | None = None) -> list[str]:
    """Create the monthly partitions up to `months_ahead` months ahead (PostgreSQL only)."""
    return partitions.ensure(
        connection, today=today or timezone.now().date(), months_ahead=months_ahead
    )


def telemetry_retention_enforce(*, now: datetime | None = None) -> int:
    """Forget raw readings older than TELEMETRY_RAW_RETENTION_DAYS; rollups stay.

    PostgreSQL drops whole monthly partitions (no bloat, no vacuum), so a raw reading is
    kept at least the retention period and at most about one month longer. SQLite deletes
    rows. Returns the partitions dropped (PostgreSQL) or rows deleted (SQLite).
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.TELEMETRY_RAW_RETENTION_DAYS)
    if connection.vendor == "postgresql":
        with transaction.atomic():
            return len(partitions.drop_before(connection, cutoff=cutoff))
    deleted = MeterReading.objects.filter(time__lt=cutoff).delete()[0]
    return deleted + DeviceReading.objects.filter(time__lt=cutoff).delete()[0]
