"""Monthly reports for a fleet: what the 1st-of-the-month run costs per household.

Builds BENCH_HOUSEHOLDS households (default 10,000) of one Belgian tenant on its default
tariff, spread over four postcode areas, four household size bands and three heating
types (48 narrow comparison groups, 69 candidate groups with the widened ones), with a
month of 15-minute rollups and their day and month rows generated in SQL (a bulk load
into the throw-away database: no ingest calls). Each household's quarters follow one
daily shape plus its own 0-60 Wh, so the groups have a spread to rank. The months before
hold no data (the fleet's first month): the report says so without pricing them.

Then builds every household's March 2026 report (energy and cost in total and per
device, peak, overloads, scheduling savings, habits and the social comparison) and
renders its email, as the beat task does, sharing one `ReportBatch`: each comparison
group is read once for all its members (`group_reads`). `ms_per_household` is that run;
`solo_ms_per_household` builds BENCH_SOLO (default 50) of the same reports one at a time
without a batch (a page view's path) in the same run, and the `compare_*` figures time
the social comparison alone, with and without the group cache.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import _django

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "10000"))
SOLO = int(os.environ.get("BENCH_SOLO", "50"))
ZONE = "Europe/Brussels"
# March 2026 in Brussels (local midnights; it holds the spring DST change).
MONTH = (datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
REPORT_DAY = date(2026, 3, 1)
POSTCODES = ("9000", "2000", "1000", "8000")
HEATING = ("gas", "heat_pump", "electric")


def build_households() -> list[Any]:
    from apps.core.meter_points import with_check_digit
    from apps.households.models import Household
    from apps.tariffs.defaults import ensure_default_tariffs
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.create(
        slug="bench", name="Bench", country="BE", currency="EUR", language="nl",
        timezone=ZONE, dso_name="Fluvius", meter_protocol="p1_emucs",
    )  # fmt: skip
    ensure_default_tariffs(tenant)
    return Household.objects.bulk_create(
        (
            Household(
                tenant=tenant, name=f"H{n}", address="1 Kerkstraat", city="Gent",
                postcode=POSTCODES[n % 4], household_size=1 + n // 4 % 5,
                heating_type=HEATING[n // 20 % 3], timezone=ZONE,
                contracted_power_kva=Decimal("9.2"),
                meter_point_id=with_check_digit("BE", f"5414{n:013d}"),
            )
            for n in range(HOUSEHOLDS)
        ),
        batch_size=2000,
    )  # fmt: skip


COLUMNS = """household_id, resolution, start, import_wh, export_wh, import_by_register,
    export_by_register, pv_wh, battery_charge_wh, battery_discharge_wh, devices_wh,
    peak_import_w, complete, gap_quarters"""
# The month's shape: a quarter's import (Wh) by its local hour, evening peak, night trough.
SHAPE_SQL = """
    SELECT t, 40 + (extract(hour FROM t AT TIME ZONE %s)::int * 7) %% 90 AS wh
    FROM generate_series(%s::timestamptz, %s::timestamptz - interval '15 minutes',
                         interval '15 minutes') t"""
# Each household adds its own 0-60 Wh a quarter (so the groups have a spread to rank).
HOUSEHOLDS_SQL = "SELECT id, abs(hashtext(id::text)) %% 61 AS extra FROM households_household"
QUARTERS_SQL = f"""
    INSERT INTO energy_householdenergy ({COLUMNS})
    WITH q AS ({SHAPE_SQL}), h AS ({HOUSEHOLDS_SQL})
    SELECT h.id, '15m', q.t, q.wh + h.extra, 0, '{{}}', '{{}}', 0, 0, 0, 0,
        4 * (q.wh + h.extra), true, 0
    FROM h CROSS JOIN q"""  # noqa: S608 (constants)


def _grouped_sql(resolution: str, trunc: str) -> str:
    """Days or the month: the shape grouped once, then shifted by each household's extra
    (the sums of its quarters, without reading them back)."""
    return f"""
        INSERT INTO energy_householdenergy ({COLUMNS})
        WITH q AS ({SHAPE_SQL}),
        p AS (
            SELECT date_trunc('{trunc}', t AT TIME ZONE %s) AS local, sum(wh) AS wh,
                count(*) AS quarters, max(wh) AS top
            FROM q GROUP BY 1
        ), h AS ({HOUSEHOLDS_SQL})
        SELECT h.id, '{resolution}', p.local AT TIME ZONE '{ZONE}',
            p.wh + p.quarters * h.extra, 0, '{{}}', '{{}}', 0, 0, 0, 0, 4 * (p.top + h.extra),
            true, 0
        FROM h CROSS JOIN p"""  # noqa: S608 (constants)


def build_rollups() -> None:
    """Quarters for every household in SQL, then days and the month grouped from them.

    A bulk load into a throw-away database: the table is unlogged and its indexes are
    built once at the end. Each household's quarter is the month's shape (an evening peak,
    a night trough) times the household's own factor (0.6-1.4)."""
    from django.db import connection

    start, end = MONTH
    table = "energy_householdenergy"
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET work_mem = '256MB'")
        # No foreign-key trigger per row: the households were just created (superuser only).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(f"ALTER TABLE {table} SET UNLOGGED")
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT householdenergy_unique")
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        cursor.execute("DROP INDEX energy_householdenergy_household_id_6434819d")
        cursor.execute(QUARTERS_SQL, [ZONE, start, end])
        for resolution, trunc in (("1d", "day"), ("1mo", "month")):
            cursor.execute(_grouped_sql(resolution, trunc), [ZONE, start, end, ZONE])
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
        cursor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT householdenergy_unique "
            "UNIQUE (household_id, resolution, start)"
        )
        cursor.execute(f"CREATE INDEX ON {table} (household_id)")
        cursor.execute(f"ANALYZE {table}")


def one_report(household: Any, batch: Any) -> Any:
    """The report as the beat task sends it: built, then its email rendered."""
    from apps.insights.emails import report_email
    from apps.insights.reports import report_build

    report = report_build(household=household, period="month", day=REPORT_DAY, batch=batch)
    report_email(report=report, to="owner@example.invalid", language="nl")
    return report


def time_reports(households: list[Any], batch: Any) -> tuple[float, int]:
    """ms per report (and how many show a comparison), with or without a batch."""
    compared = 0
    began = time.perf_counter()
    for household in households:
        compared += one_report(household, batch).comparison.available
    return (time.perf_counter() - began) * 1000 / len(households), compared


def time_comparisons(households: list[Any], groups: Any) -> float:
    """ms per household of the social comparison alone, with or without a group cache."""
    from apps.insights.comparison import compare

    began = time.perf_counter()
    for household in households:
        assert compare(household, REPORT_DAY, groups).available
    return (time.perf_counter() - began) * 1000 / len(households)


def main() -> None:
    _django.setup()
    if _django.vendor() != "postgresql":
        print(json.dumps({"bench": "reports", "skipped": "needs DATABASE_URL=postgres"}))
        return
    from apps.households.models import Household
    from apps.insights.comparison import ComparisonGroups
    from apps.insights.reports import ReportBatch

    began = time.perf_counter()
    build_households()
    build_rollups()
    print(f"built {HOUSEHOLDS} households' month in {time.perf_counter() - began:.1f} s")
    households = list(Household.objects.select_related("tenant").order_by("pk"))
    sample = households[:SOLO]
    solo_ms, _ = time_reports(sample, None)
    batch = ReportBatch()
    ms, compared = time_reports(households, batch)
    print(f"{compared} of {len(households)} reports compare with {batch.groups.reads} groups")
    compare_solo_ms = time_comparisons(sample, None)
    compare_ms = time_comparisons(households, ComparisonGroups())
    figures = {
        "solo_ms_per_household": round(solo_ms, 3),
        "ratio_vs_solo": round(solo_ms / ms, 2) if ms else None,
        "compare_ms_per_household": round(compare_ms, 3),
        "compare_solo_ms_per_household": round(compare_solo_ms, 3),
        "group_reads": batch.groups.reads,
        "compared": compared,
    }
    print(
        json.dumps(
            {"bench": "reports", "households": len(households), "ms_per_household": round(ms, 3)}
            | figures
        )
    )


if __name__ == "__main__":
    main()
