"""Monthly RANGE partitions of the raw readings on PostgreSQL (SQLite: plain tables, no-ops).

Each parent table has a DEFAULT partition so that a reading of a month without its own
partition (a meter clock far in the past) is never lost; creating that month's partition
later first moves such rows out of the DEFAULT one, then attaches the new table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db.backends.base.base import BaseDatabaseWrapper

# Table names below are these constants and dates, never input: f-strings in SQL are safe.
PARTITIONED_TABLES = ("telemetry_meterreading", "telemetry_devicereading")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y_%m}"


def _utc(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


def existing_partitions(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def create_month(connection: BaseDatabaseWrapper, table: str, month: date) -> bool:
    """Create (and attach) one month's partition; False when it already exists."""
    name = partition_name(table, month)
    if name in existing_partitions(connection, table):
        return False
    low, high = _utc(month), _utc(add_months(month, 1))
    with connection.cursor() as cursor:
        like = "INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
        cursor.execute(f'CREATE TABLE "{name}" (LIKE "{table}" {like})')
        # Rows that fell into DEFAULT for this month move first, else ATTACH would fail.
        move = (
            f'WITH moved AS (DELETE FROM "{table}_default" WHERE "time" >= %s AND "time" < %s '  # noqa: S608
            f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved'
        )
        cursor.execute(move, [low, high])
        cursor.execute(
            f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" '
            f"FOR VALUES FROM ('{low}') TO ('{high}')"
        )
    return True


def ensure(
    connection: BaseDatabaseWrapper, *, today: date, months_ahead: int, months_back: int = 0
) -> list[str]:
    """Partitions from `months_back` before `today`'s month to `months_ahead` after it."""
    if connection.vendor != "postgresql":
        return []
    created = []
    first = add_months(month_start(today), -months_back)
    for offset in range(months_back + months_ahead + 1):
        month = add_months(first, offset)
        for table in PARTITIONED_TABLES:
            if create_month(connection, table, month):
                created.append(partition_name(table, month))
    return created


def drop_before(connection: BaseDatabaseWrapper, *, cutoff: datetime) -> list[str]:
    """Drop every monthly partition that ends at or before `cutoff`; trim DEFAULT rows."""
    dropped = []
    with connection.cursor() as cursor:
        # Deferred FK checks of rows written earlier in this transaction block DROP TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in PARTITIONED_TABLES:
            prefix = f"{table}_p"
            for name in existing_partitions(connection, table):
                if not name.startswith(prefix):
                    continue
                year, month = (int(part) for part in name.removeprefix(prefix).split("_"))
                end = add_months(date(year, month, 1), 1)
                if datetime(end.year, end.month, 1, tzinfo=UTC) <= cutoff:
                    cursor.execute(f'DROP TABLE "{name}"')
                    dropped.append(name)
            cursor.execute(f'DELETE FROM "{table}_default" WHERE "time" < %s', [cutoff])  # noqa: S608
    return dropped
