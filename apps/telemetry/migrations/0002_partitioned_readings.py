"""Readings without a surrogate id, RANGE-partitioned by month on PostgreSQL.

Django cannot alter a primary key into a composite one, so the tables are rebuilt: rows
are stashed, the models recreated, (on PostgreSQL) the tables replaced by partitioned
ones with a DEFAULT partition and a BRIN index on time, then the rows copied back.
"""

import django.db.models.deletion
from django.db import migrations, models

METER_COLUMNS = (
    'household_id, gateway_id, batch_id, "time", meter_id, import_wh, export_wh, '
    "import_w, export_w, voltage_v, current_a, tariff"
)
DEVICE_COLUMNS = 'household_id, device_id, batch_id, "time", power_w, energy_wh, "on", soc_pct'
TABLES = {
    "telemetry_meterreading": ("household_id", METER_COLUMNS),
    "telemetry_devicereading": ("device_id", DEVICE_COLUMNS),
}

PG_METER = """
CREATE TABLE telemetry_meterreading (
    household_id uuid NOT NULL REFERENCES households_household (id) DEFERRABLE INITIALLY DEFERRED,
    gateway_id uuid NOT NULL,
    batch_id uuid NOT NULL,
    seq smallint NOT NULL CHECK (seq >= 0),
    "time" timestamp with time zone NOT NULL,
    meter_id varchar(64) NOT NULL,
    import_wh jsonb NOT NULL,
    export_wh jsonb NOT NULL,
    import_w integer NOT NULL,
    export_w integer NOT NULL,
    voltage_v jsonb NOT NULL,
    current_a jsonb NOT NULL,
    tariff varchar(16) NOT NULL,
    PRIMARY KEY (household_id, "time", batch_id, seq)
) PARTITION BY RANGE ("time")
"""
PG_DEVICE = """
CREATE TABLE telemetry_devicereading (
    household_id uuid NOT NULL REFERENCES households_household (id) DEFERRABLE INITIALLY DEFERRED,
    device_id uuid NOT NULL REFERENCES devices_device (id) DEFERRABLE INITIALLY DEFERRED,
    batch_id uuid NOT NULL,
    seq smallint NOT NULL CHECK (seq >= 0),
    "time" timestamp with time zone NOT NULL,
    power_w integer NOT NULL,
    energy_wh bigint NULL,
    "on" boolean NULL,
    soc_pct double precision NULL,
    PRIMARY KEY (device_id, "time", batch_id, seq)
) PARTITION BY RANGE ("time")
"""


def stash(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"CREATE TABLE {table}_legacy AS SELECT * FROM {table}")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, ddl in (("telemetry_meterreading", PG_METER), ("telemetry_devicereading", PG_DEVICE)):
            cursor.execute(f"DROP TABLE {table}")
            cursor.execute(ddl)
            # BRIN: a few pages summarise a month of time-ordered rows (fleet-wide scans).
            cursor.execute(f'CREATE INDEX {table}_time_brin ON {table} USING brin ("time")')
            cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")


def restore(apps, schema_editor):
    from datetime import date

    from apps.telemetry import partitions

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute('SELECT min("time") FROM telemetry_meterreading_legacy')
            oldest = cursor.fetchone()[0]
            today = date.today()
            back = 0 if oldest is None else (today.year - oldest.year) * 12 + today.month - oldest.month
            partitions.ensure(connection, today=today, months_ahead=3, months_back=max(back, 0))
        for table, (owner, columns) in TABLES.items():
            cursor.execute(
                f"INSERT INTO {table} ({columns}, seq) SELECT {columns}, row_number() OVER "
                f'(PARTITION BY {owner}, "time", batch_id ORDER BY id) - 1 FROM {table}_legacy'
            )
            cursor.execute(f"DROP TABLE {table}_legacy")


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_initial"),
        ("fleet", "0002_claims_credentials_pairing_commands"),
        ("households", "0002_household_direct_permissions"),
        ("telemetry", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(stash, migrations.RunPython.noop),
        migrations.DeleteModel(name="MeterReading"),
        migrations.DeleteModel(name="DeviceReading"),
        migrations.CreateModel(
            name="MeterReading",
            fields=[
                ("pk", models.CompositePrimaryKey("household_id", "time", "batch_id", "seq", blank=True, editable=False, primary_key=True, serialize=False)),
                ("batch_id", models.UUIDField()),
                ("seq", models.PositiveSmallIntegerField(default=0)),
                ("time", models.DateTimeField()),
                ("meter_id", models.CharField(max_length=64)),
                ("import_wh", models.JSONField(default=dict)),
                ("export_wh", models.JSONField(default=dict)),
                ("import_w", models.IntegerField(default=0)),
                ("export_w", models.IntegerField(default=0)),
                ("voltage_v", models.JSONField(default=list)),
                ("current_a", models.JSONField(default=list)),
                ("tariff", models.CharField(blank=True, max_length=16)),
                ("gateway", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="fleet.gateway")),
                ("household", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="households.household")),
            ],
        ),
        migrations.CreateModel(
            name="DeviceReading",
            fields=[
                ("pk", models.CompositePrimaryKey("device_id", "time", "batch_id", "seq", blank=True, editable=False, primary_key=True, serialize=False)),
                ("batch_id", models.UUIDField()),
                ("seq", models.PositiveSmallIntegerField(default=0)),
                ("time", models.DateTimeField()),
                ("power_w", models.IntegerField()),
                ("energy_wh", models.BigIntegerField(null=True)),
                ("on", models.BooleanField(null=True)),
                ("soc_pct", models.FloatField(null=True)),
                ("device", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="devices.device")),
                ("household", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="households.household")),
            ],
        ),
        migrations.AddField(model_name="ingestedbatch", name="first_time", field=models.DateTimeField(null=True)),
        migrations.AddField(model_name="ingestedbatch", name="last_time", field=models.DateTimeField(null=True)),
        migrations.AddIndex(model_name="ingestedbatch", index=models.Index(fields=["received_at"], name="ingestedbatch_received")),
        migrations.RunPython(partition, migrations.RunPython.noop),
        migrations.RunPython(restore, migrations.RunPython.noop),
    ]
