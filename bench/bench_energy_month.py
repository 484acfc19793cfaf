"""A month of energy per household: from the rollups, against pandas over the raw readings.

Builds BENCH_HOUSEHOLDS households (default 10,000) with a month of 15-minute rollups and
their day and month rows (generated in SQL: bulk, fast), then times the monthly energy per
household read through `apps.energy.selectors.household_series` (in batches), against a
naive pandas pass over a sample of households' raw minute readings (register delta). Also
reports the bytes one stored raw reading costs on PostgreSQL, indexes included.

The bill of the month (cost engine over the quarters: bi-horaire prices, standing and
capacity charges, VAT) is timed on BENCH_COST_SAMPLE households and added to
ms_per_household; ratio_vs_naive compares like with like (energy from rollups vs raw).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import _django

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "10000"))
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "5"))
SELECTOR_SAMPLE = int(os.environ.get("BENCH_SELECTOR_SAMPLE", "500"))
COST_SAMPLE = int(os.environ.get("BENCH_COST_SAMPLE", "50"))
# March 2026 in Brussels (local midnights; it holds the spring DST change).
MONTH = (datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
ZONE = "Europe/Brussels"


def build_households() -> list[Any]:
    from decimal import Decimal

    from apps.core.meter_points import with_check_digit
    from apps.households.models import Household
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.create(
        slug="bench", name="Bench", country="BE", currency="EUR", language="nl",
        timezone=ZONE, dso_name="Fluvius", meter_protocol="p1_emucs",
    )  # fmt: skip
    return Household.objects.bulk_create(
        (
            Household(
                tenant=tenant, name=f"H{n}", address="1 Kerkstraat", postcode="9000",
                city="Gent", timezone=ZONE, contracted_power_kva=Decimal("9.2"),
                meter_point_id=with_check_digit("BE", f"5414{n:013d}"),
            )
            for n in range(HOUSEHOLDS)
        ),
        batch_size=2000,
    )  # fmt: skip


def build_rollups(vendor: str) -> None:
    """Quarters for every household in SQL, then days and the month grouped from them."""
    from django.db import connection

    start, end = MONTH
    if vendor != "postgresql":
        raise SystemExit("bench energy_month needs PostgreSQL (set DATABASE_URL)")
    with connection.cursor() as cursor:
        # A bulk load: build the unique index once at the end, not row by row.
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("ALTER TABLE energy_householdenergy DROP CONSTRAINT householdenergy_unique")
        cursor.execute(
            """
            INSERT INTO energy_householdenergy (household_id, resolution, start, import_wh,
                export_wh, import_by_register, export_by_register, pv_wh, battery_charge_wh,
                battery_discharge_wh, devices_wh, peak_import_w, complete, gap_quarters)
            SELECT h.id, '15m', q, 50 + (extract(hour FROM q)::int * 7) %% 90, 0,
                jsonb_build_object('1', 50 + (extract(hour FROM q)::int * 7) %% 90), '{}',
                0, 0, 0, 0, 4 * (50 + (extract(hour FROM q)::int * 7) %% 90), true, 0
            FROM households_household h
            CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz - interval '15 minutes',
                                       interval '15 minutes') q
            """,
            [start, end],
        )
        for resolution, trunc in (("1d", "day"), ("1mo", "month")):
            cursor.execute(
                f"""
                INSERT INTO energy_householdenergy (household_id, resolution, start, import_wh,
                    export_wh, import_by_register, export_by_register, pv_wh,
                    battery_charge_wh, battery_discharge_wh, devices_wh, peak_import_w,
                    complete, gap_quarters)
                SELECT household_id, %s,
                    date_trunc('{trunc}', start AT TIME ZONE %s) AT TIME ZONE %s,
                    sum(import_wh), 0, jsonb_build_object('1', sum(import_wh)), '{{}}', 0, 0, 0,
                    0, max(peak_import_w), true, 0
                FROM energy_householdenergy WHERE resolution = '15m'
                GROUP BY household_id, date_trunc('{trunc}', start AT TIME ZONE %s)
                """,  # noqa: S608 (constants)
                [resolution, ZONE, ZONE, ZONE],
            )
        cursor.execute(
            "ALTER TABLE energy_householdenergy ADD CONSTRAINT householdenergy_unique "
            "UNIQUE (household_id, resolution, start)"
        )
        cursor.execute("ANALYZE energy_householdenergy")


def build_raw(households: list[Any]) -> int:
    """A month of minute readings for the naive sample, written with COPY."""
    from django.db import connection
    from psycopg.types.json import Jsonb

    start, end = MONTH
    rows = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY telemetry_meterreading (household_id, gateway_id, batch_id, seq, time, meter_id, "
            "import_wh, export_wh, import_w, export_w, voltage_v, current_a, tariff) FROM STDIN"
        ) as copy,
    ):
        for household in households:
            batch, gateway, t, wh = uuid.uuid4(), uuid.uuid4(), start, 1_000_000
            while t <= end:
                copy.write_row([
                    household.pk, gateway, batch, 0, t, "1SAG1100042181", Jsonb({"1": wh}),
                    Jsonb({"1": 0}), 400, 0, Jsonb([230.1]), Jsonb([1.7]), "1",
                ])  # fmt: skip
                t, wh, rows = t + timedelta(minutes=1), wh + 7, rows + 1
    return rows


def time_selectors(households: list[Any]) -> float:
    from apps.energy import selectors

    sample = households[:SELECTOR_SAMPLE]
    began = time.perf_counter()
    for household in sample:
        start, end = selectors.period_bounds(
            household=household, period="month", containing=datetime(2026, 3, 15).date()
        )
        rows = selectors.household_series(
            household=household, start=start, end=end, resolution="1mo"
        )
        assert rows and rows[0].complete
    return (time.perf_counter() - began) * 1000 / len(sample)


def time_naive(households: list[Any]) -> float:
    import pandas as pd
    from django.db import connection

    start, end = MONTH
    began = time.perf_counter()
    for household in households:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT time, import_wh FROM telemetry_meterreading "
                "WHERE household_id = %s AND time >= %s AND time <= %s",
                [household.pk, start, end],
            )
            frame = pd.DataFrame(cursor.fetchall(), columns=["time", "import_wh"])
        registers = (
            pd.json_normalize(frame["import_wh"].map(json.loads))
            .set_index(frame["time"])
            .sort_index()
        )
        total = (registers.iloc[-1] - registers.iloc[0]).sum()
        assert total > 0
    return (time.perf_counter() - began) * 1000 / len(households)


def bytes_per_reading() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) FROM pg_inherits i "
            "WHERE i.inhparent = 'telemetry_meterreading'::regclass"
        )
        size = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM telemetry_meterreading")
        count = cursor.fetchone()[0]
    return round(float(size) / count, 1) if count else 0.0


def extra_figures(households: list[Any]) -> dict[str, Any]:
    """The month's bill per household from its quarters (BE bi-horaire, capacity, VAT)."""
    from apps.energy.costs import household_cost
    from apps.tariffs.defaults import ensure_default_tariffs

    ensure_default_tariffs(households[0].tenant)
    sample = households[:COST_SAMPLE]
    start, end = MONTH
    began = time.perf_counter()
    for household in sample:
        cost = household_cost(household=household, start=start, end=end)
        assert cost.gap_quarters == 0 and cost.total > 0
    return {"cost_ms_per_household": round((time.perf_counter() - began) * 1000 / len(sample), 3)}


def main() -> None:
    _django.setup()
    from apps.telemetry import services

    vendor = _django.vendor()
    if vendor != "postgresql":  # partitions and sizes are PostgreSQL's: nothing to measure
        print(json.dumps({"bench": "energy_month", "skipped": "needs DATABASE_URL=postgres"}))
        return
    services.telemetry_partitions_ensure(months_ahead=0, today=MONTH[0].date())
    services.telemetry_partitions_ensure(months_ahead=1, today=MONTH[1].date())
    began = time.perf_counter()
    households = build_households()
    build_rollups(vendor)
    print(f"built {HOUSEHOLDS} households' month in {time.perf_counter() - began:.1f} s")
    readings = build_raw(households[:NAIVE_SAMPLE])
    print(f"{readings} raw readings for the naive sample")
    ms = time_selectors(households)
    naive_ms = time_naive(households[:NAIVE_SAMPLE])
    cost = extra_figures(households)
    figures = {
        "bench": "energy_month",
        "households": HOUSEHOLDS,
        # A monthly statement: the month's energy and its bill, per household.
        "ms_per_household": round(ms + cost["cost_ms_per_household"], 3),
        "energy_ms_per_household": round(ms, 3),
        **cost,
        "naive_ms_per_household": round(naive_ms, 3),
        # Like for like: the month's energy from the rollups against pandas on raw readings.
        "ratio_vs_naive": round(naive_ms / ms, 1) if ms else None,
        "bytes_per_reading": float(bytes_per_reading()),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
