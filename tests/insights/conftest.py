"""A household with two weeks of rolled-up data around the end of DST (Brussels, October
2026): the week of 19-25 October lasts 169 hours. Readings go through the raw tables and
the real rollups; the reports are then compared with the energy-awareness selectors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.energy.selectors import period_bounds
from apps.insights.models import ReportSubscription
from apps.scheduling.models import ApplianceProgram, DailyPlan, PlanRequest, PlanStatus
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World
from tests.energy.helpers import device, meter, store
from tests.factories import DeviceFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
WEEK = date(2026, 10, 19)  # Monday; DST ends on Sunday the 25th
STEP = timedelta(minutes=5)


def house_w(moment: datetime) -> float:
    local = moment.astimezone(BRUSSELS)
    return 300 + 37 * (local.minute // 5) + (2500 if 18 <= local.hour < 20 else 0) + local.day


def pv_w(moment: datetime) -> int:
    return 600 if 10 <= moment.astimezone(BRUSSELS).hour < 15 else 0


def plug_w(moment: datetime) -> int:
    return 800 if 19 <= moment.astimezone(BRUSSELS).hour < 20 else 15


@pytest.fixture
def weeks(world: World) -> dict[str, Any]:
    ensure_default_tariffs(world.home_tenant)
    household = world.household
    household.timezone = "Europe/Brussels"
    household.save()
    start, _ = period_bounds(household=household, period="week", containing=WEEK - timedelta(7))
    _, end = period_bounds(household=household, period="week", containing=WEEK)
    plug = world.devices["ours"]
    pv = DeviceFactory(household=household, gateway=world.gateways["ours"], kind="pv_inverter")
    readings = meter(household, start, end, every=STEP, import_w=house_w)
    store(
        readings
        + device(plug.pk, household, start, end, power_w=plug_w, every=STEP)
        + device(pv.pk, household, start, end, power_w=pv_w, every=STEP)
    )
    from tests.energy.helpers import rollup

    rollup(household, start, end)
    return {"start": start, "end": end, "readings": readings, "plug": plug, "pv": pv}


@pytest.fixture
def savings(world: World) -> dict[str, Decimal]:
    """A programme run in the DST week and a planned night, with known savings."""
    plug = world.devices["ours"]
    program = ApplianceProgram.objects.create(device=plug, name="Eco 50", profile_w=[2000, 500])
    at = datetime(2026, 10, 21, 1, 0, tzinfo=UTC)
    PlanRequest.objects.create(
        household=world.household, program=program, earliest_start=at - timedelta(hours=3),
        done_by=at + timedelta(hours=5), status=PlanStatus.DONE, planned_start=at,
        expected_cost=Decimal("0.1500"), cost_if_now=Decimal("0.4100"),
    )  # fmt: skip
    PlanRequest.objects.create(  # cancelled: saved nothing
        household=world.household, program=program, earliest_start=at, done_by=at,
        status=PlanStatus.CANCELLED, planned_start=at,
        expected_cost=Decimal("0.1000"), cost_if_now=Decimal("0.9000"),
    )  # fmt: skip
    DailyPlan.objects.create(
        household=world.household, day=date(2026, 10, 22), device=plug, status="planned",
        horizon_start=datetime(2026, 10, 22, 20, tzinfo=UTC),
        horizon_end=datetime(2026, 10, 23, 6, tzinfo=UTC),
        expected_cost=Decimal("1.2000"), cost_if_now=Decimal("1.9050"),
    )  # fmt: skip
    return {"total": Decimal("0.26") + Decimal("0.705")}


@pytest.fixture
def subscribed(world: World) -> ReportSubscription:
    return ReportSubscription.objects.create(
        household=world.household, user=world.users["household_owner"], daily=True, weekly=True,
        monthly=True,
    )  # fmt: skip
