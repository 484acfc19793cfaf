"""What the boxes measured: meter frames and device readings, as received.

A narrow schema without a surrogate id: the composite primary key (owner, time, batch, seq)
is also the index every read uses, and it contains `time`, so PostgreSQL can partition the
tables by month (see migrations 0002 and `partitions.py`). SQLite keeps plain tables.
Rows are written only by `services.telemetry_ingest` and read only through selectors.
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
    # The span of reading times in the batch: what the rollups must recompute.
    first_time = models.DateTimeField(null=True)
    last_time = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["received_at"], name="ingestedbatch_received")]

    def __str__(self) -> str:
        return str(self.batch_id)


class MeterReadingQuerySet(HouseholdOwnedQuerySet["MeterReading"]):
    pass


class MeterReading(models.Model):
    # (household, time) leads the key: the one access path of rollups and charts.
    pk = models.CompositePrimaryKey("household_id", "time", "batch_id", "seq")
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # No index: a gateway is deleted rarely and its readings stay the household's history.
    gateway = models.ForeignKey(
        "fleet.Gateway", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False,
        db_index=False,
    )  # fmt: skip
    batch_id = models.UUIDField()
    seq = models.PositiveSmallIntegerField(default=0)  # position in the batch
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

    def __str__(self) -> str:
        return f"{self.meter_id} @ {self.time:%Y-%m-%d %H:%M:%S}"


class DeviceReadingQuerySet(HouseholdOwnedQuerySet["DeviceReading"]):
    pass


class DeviceReading(models.Model):
    pk = models.CompositePrimaryKey("device_id", "time", "batch_id", "seq")
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    batch_id = models.UUIDField()
    seq = models.PositiveSmallIntegerField(default=0)
    time = models.DateTimeField()
    power_w = models.IntegerField()  # in the device's own direction (see gateway_agent.protocol)
    energy_wh = models.BigIntegerField(null=True)
    on = models.BooleanField(null=True)
    soc_pct = models.FloatField(null=True)

    objects = DeviceReadingQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.time:%Y-%m-%d %H:%M:%S}: {self.power_w} W"


class GuardActionQuerySet(HouseholdOwnedQuerySet["GuardAction"]):
    pass


class GuardAction(models.Model):
    """A load the box's overload guard switched off or back on (protocol.LoadAction)."""

    household = models.ForeignKey("households.Household", on_delete=models.CASCADE)
    gateway = models.ForeignKey("fleet.Gateway", on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey("devices.Device", on_delete=models.SET_NULL, null=True)
    batch_id = models.UUIDField()
    time = models.DateTimeField()
    action = models.CharField(max_length=8)  # "shed" or "restore"
    load_va = models.PositiveIntegerField()
    limit_va = models.PositiveIntegerField()
    device_power_w = models.IntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)

    objects = GuardActionQuerySet.as_manager()

    class Meta:
        ordering = ["-time"]
        indexes = [models.Index(fields=["household", "-time"], name="guardaction_household")]

    def __str__(self) -> str:
        return f"{self.action} {self.device_id} at {self.time:%Y-%m-%d %H:%M:%S}"
