"""What the boxes measured: meter frames and device readings, as received.

A simple narrow schema; the storage issue partitions it and adds rollups. Rows are
written only by `services.telemetry_ingest` and read only through selectors.
"""

from __future__ import annotations

from django.db import models

from apps.households.querysets import HouseholdOwnedQuerySet


class IngestedBatch(models.Model):
    """One accepted upload. Its id is the agent's batch id: a re-sent batch is a no-op."""

    batch_id = models.UUIDField(primary_key=True)
    gateway = models.ForeignKey("fleet.Gateway", on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()
    meter_rows = models.PositiveIntegerField(default=0)
    device_rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return str(self.batch_id)


class MeterReadingQuerySet(HouseholdOwnedQuerySet["MeterReading"]):
    pass


class MeterReading(models.Model):
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+"
    )
    gateway = models.ForeignKey("fleet.Gateway", on_delete=models.CASCADE, related_name="+")
    batch_id = models.UUIDField()
    time = models.DateTimeField()  # the meter's own timestamp, UTC
    meter_id = models.CharField(max_length=64)
    import_wh = models.JSONField(default=dict)  # cumulative, per tariff register
    export_wh = models.JSONField(default=dict)
    import_w = models.IntegerField(default=0)
    export_w = models.IntegerField(default=0)
    voltage_v = models.JSONField(default=list)  # per phase
    current_a = models.JSONField(default=list)
    tariff = models.CharField(max_length=16, blank=True)

    objects = MeterReadingQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["household", "time"], name="meterreading_household_time")]

    def __str__(self) -> str:
        return f"{self.meter_id} @ {self.time:%Y-%m-%d %H:%M:%S}"


class DeviceReadingQuerySet(HouseholdOwnedQuerySet["DeviceReading"]):
    pass


class DeviceReading(models.Model):
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+"
    )
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    batch_id = models.UUIDField()
    time = models.DateTimeField()
    power_w = models.IntegerField()  # in the device's own direction (see gateway_agent.protocol)
    energy_wh = models.BigIntegerField(null=True)
    on = models.BooleanField(null=True)
    soc_pct = models.FloatField(null=True)

    objects = DeviceReadingQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["device", "time"], name="devicereading_device_time")]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.time:%Y-%m-%d %H:%M:%S}: {self.power_w} W"
