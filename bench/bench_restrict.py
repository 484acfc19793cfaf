"""What `restrict()` costs: each role's household list against a plain query for the same rows.

Builds a fleet of BENCH_HOUSEHOLDS households (default 3,000) with an owner and
guardian grants each, installers with live assignments, then for one user per role
times `Household.objects.restrict(user, VIEW)` against the cheapest direct query
that returns the same rows (all rows, the tenant's rows, or the ids themselves).
Reports ratios measured in this run and the queries per call (must be one).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import _django

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "3000"))
ASSIGNED_PER_INSTALLER = 50
REPEATS = 15


def build_fleet() -> dict[str, object]:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.core.meter_points import with_check_digit
    from apps.core.permissions import INSTALLER_PERMS, MEMBER_PERMS, OWNER_PERMS, Role
    from apps.households.models import Household, HouseholdUserPermission, InstallerAssignment
    from apps.tenants.models import Tenant

    tenants = [
        Tenant.objects.create(
            slug=f"bench-{n}", name=f"Bench {n}", country="BE", currency="EUR", language="nl",
            timezone="Europe/Brussels", dso_name="Fluvius", meter_protocol="p1_emucs",
        )
        for n in range(3)
    ]  # fmt: skip
    password = make_password(None)  # unusable: the bench never logs in

    def users(role: str, count: int, tenant: Tenant | None = None, prefix: str = "") -> list[User]:
        return User.objects.bulk_create(
            User(username=f"{prefix or role}-{n}", role=role, tenant=tenant, password=password)
            for n in range(count)
        )

    households = Household.objects.bulk_create(
        Household(
            tenant=tenants[n % len(tenants)], name=f"Household {n}", address="1 Kerkstraat",
            postcode="9000", city="Gent", timezone="Europe/Brussels",
            meter_point_id=with_check_digit("BE", f"5414{n:013d}"),
            contracted_power_kva=Decimal("9.2"),
        )
        for n in range(HOUSEHOLDS)
    )  # fmt: skip
    owners = users(Role.HOUSEHOLD_OWNER, HOUSEHOLDS, tenants[0])
    member = users(Role.HOUSEHOLD_MEMBER, 1, tenants[0])[0]
    installers = [users(Role.INSTALLER, 1, t, prefix=f"installer-{t.slug}")[0] for t in tenants]

    content_type = ContentType.objects.get_for_model(Household)
    perm_ids = dict(
        Permission.objects.filter(content_type=content_type).values_list("codename", "pk")
    )

    def grants(user: User, household: Household, perms: tuple) -> list[HouseholdUserPermission]:
        return [
            HouseholdUserPermission(
                user=user, permission_id=perm_ids[perm], content_object=household
            )
            for perm in perms
        ]

    rows = [g for o, h in zip(owners, households, strict=True) for g in grants(o, h, OWNER_PERMS)]
    rows += grants(member, households[0], MEMBER_PERMS)
    now = timezone.now()
    assignments = []
    for installer in installers:
        mine = [h for h in households if h.tenant_id == installer.tenant_id]
        for household in mine[:ASSIGNED_PER_INSTALLER]:
            rows += grants(installer, household, INSTALLER_PERMS)
            assignments.append(
                InstallerAssignment(
                    household=household, installer=installer, assigned_by=installer,
                    starts_at=now - timedelta(days=1), expires_at=now + timedelta(days=30),
                )
            )  # fmt: skip
    HouseholdUserPermission.objects.bulk_create(rows, batch_size=2000)
    InstallerAssignment.objects.bulk_create(assignments)

    return {
        Role.PLATFORM_ADMIN: users(Role.PLATFORM_ADMIN, 1)[0],
        Role.TELCO_OPERATOR: users(Role.TELCO_OPERATOR, 1)[0],
        Role.DSO_STAFF: users(Role.DSO_STAFF, 1, tenants[1])[0],
        Role.INSTALLER: installers[2],
        Role.HOUSEHOLD_OWNER: owners[HOUSEHOLDS // 2],
        Role.HOUSEHOLD_MEMBER: member,
        Role.THIRD_PARTY: users(Role.THIRD_PARTY, 1, tenants[0])[0],
    }


def analyze() -> None:
    """Give the planner statistics, as a live database has after autovacuum / ANALYZE."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def median_seconds(query: Callable[[], list]) -> float:
    query()  # warm: connection, statement caches
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        query()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def measure(user: object) -> dict[str, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.core.permissions import Action
    from apps.households.models import Household

    def restricted() -> list:
        return list(Household.objects.restrict(user, Action.VIEW).values_list("pk", flat=True))

    with CaptureQueriesContext(connection) as captured:
        expected = restricted()
    direct_ids = list(expected)

    def baseline() -> list:
        return list(Household.objects.filter(pk__in=direct_ids).values_list("pk", flat=True))

    if len(direct_ids) == HOUSEHOLDS:  # all rows: the plain table scan is the baseline

        def baseline() -> list:
            return list(Household.objects.values_list("pk", flat=True))

    assert sorted(baseline()) == sorted(expected), "baseline must return the same rows"
    restricted_s, baseline_s = median_seconds(restricted), median_seconds(baseline)
    return {
        "rows": len(expected),
        "queries": len(captured.captured_queries),
        "ratio": round(restricted_s / baseline_s, 2) if expected else None,
        "restricted_ms": round(restricted_s * 1000, 3),
    }


def main() -> None:
    _django.setup()
    users = build_fleet()
    analyze()
    roles = {str(role): measure(user) for role, user in users.items()}
    for role, figures in roles.items():
        print(f"{role:>18}: {figures}")
    worst = max(f["ratio"] for f in roles.values() if f["ratio"] is not None)
    print(
        json.dumps(
            {
                "bench": "restrict",
                "database": _django.vendor(),
                "households": HOUSEHOLDS,
                "max_queries_per_call": max(f["queries"] for f in roles.values()),
                "worst_ratio": worst,
                "roles": {
                    role: {k: f[k] for k in ("rows", "queries", "ratio")}
                    for role, f in roles.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
