"""Plans move when prices or forecasts change; the nightly fleet run, and its console page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from apps.fleet.models import CommandStatus, GatewayCommand
from apps.scheduling import services, tasks
from apps.scheduling.models import PlanningRun, PlanStatus
from apps.tariffs.models import HouseholdTariff, PricePoint, PriceSeries, Tariff
from tests.conftest import World, mfa_login
from tests.scheduling.test_planning_service import BRUSSELS, NOW, TOMORROW_7, eco
from tests.tariffs.conftest import spot_prices

pytestmark = pytest.mark.django_db


def switch_to_dynamic(world: World) -> None:
    """Day-ahead prices published: the price is the local hour / 100 (tests/tariffs' curve),
    so local midnight is the cheapest hour."""
    HouseholdTariff.objects.create(
        household=world.household,
        tariff=Tariff.objects.get(tenant=world.home_tenant, code="be-dynamic"),
        valid_from=dt.date(2025, 1, 1),
    )
    spot_prices(
        world.home_tenant, NOW - dt.timedelta(hours=2), TOMORROW_7 + dt.timedelta(hours=2), 15
    )


def test_a_plan_moves_when_cheaper_prices_appear_and_the_box_gets_the_new_start(
    world: World, dishwasher: Any
) -> None:
    owner = world.users["household_owner"]
    plan = services.plan_appliance(user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW)
    old_command, old_start = plan.command, plan.planned_start
    switch_to_dynamic(world)

    assert services.plans_refresh(household=world.household, now=NOW) == 1
    plan.refresh_from_db()
    assert plan.planned_start != old_start
    assert plan.planned_start.astimezone(BRUSSELS).hour == 0  # the cheapest hour
    old_command.refresh_from_db()
    assert old_command.status == CommandStatus.EXPIRED  # withdrawn before the box had it
    assert plan.command.not_before == plan.planned_start
    # Nothing changed since: a second refresh moves nothing (no churn).
    assert services.plans_refresh(household=world.household, now=NOW) == 0


def test_the_nightly_fleet_run_reports_its_progress_and_can_run_twice(
    world: World, dishwasher: Any
) -> None:
    owner = world.users["household_owner"]
    services.plan_appliance(user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW)
    switch_to_dynamic(world)
    with time_machine.travel(NOW, tick=False):
        assert tasks.plan_fleet(NOW.date().isoformat()) == 1  # one chunk (Celery eager)
    run = PlanningRun.objects.get(day=NOW.date())
    assert (run.households_total, run.households_done, run.plans_moved, run.failures) == (
        1,
        1,
        1,
        0,
    )
    assert run.finished_at is not None and run.progress_pct == 100
    with time_machine.travel(NOW, tick=False):
        tasks.plan_fleet(NOW.date().isoformat())  # re-triggered: counted afresh, nothing moves
    run.refresh_from_db()
    assert (run.households_done, run.plans_moved) == (1, 0)
    assert GatewayCommand.objects.filter(kind="start_program", status="pending").count() == 1

    operator = Client()
    mfa_login(operator, world.users["telco_operator"])
    page = operator.get(reverse("console:planning"))
    assert page.status_code == 200 and "1 / 1" in page.content.decode()
    dso = Client()
    mfa_login(dso, world.users["dso_staff"])
    assert dso.get(reverse("console:planning")).status_code == 403


def test_a_started_plan_is_never_moved(world: World, dishwasher: Any) -> None:
    owner = world.users["household_owner"]
    plan = services.plan_appliance(user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW)
    plan.status = PlanStatus.STARTED
    plan.save()
    switch_to_dynamic(world)
    assert services.plans_refresh(household=world.household, now=NOW) == 0


def publish_prices(world: World, start: dt.datetime, end: dt.datetime, price: str) -> None:
    series = PriceSeries.objects.get(tenant=world.home_tenant, kind="prices")
    step = dt.timedelta(minutes=15)
    PricePoint.objects.bulk_create(
        PricePoint(series=series, start=start + n * step, end=start + (n + 1) * step,
                   price_per_kwh=price)
        for n in range(int((end - start) / step))
    )  # fmt: skip


def test_before_tomorrows_prices_are_out_it_plans_with_todays_and_moves_once_they_are(
    world: World, dishwasher: Any
) -> None:
    HouseholdTariff.objects.create(
        household=world.household,
        tariff=Tariff.objects.get(tenant=world.home_tenant, code="be-dynamic"),
        valid_from=dt.date(2025, 1, 1),
    )
    midnight = dt.datetime(2026, 12, 3, 0, 0, tzinfo=BRUSSELS)
    publish_prices(world, NOW - dt.timedelta(hours=2), midnight, "0.300000")  # today's only
    owner = world.users["household_owner"]
    evening = NOW + dt.timedelta(hours=2)
    plan = services.plan_appliance(
        user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW, earliest_start=evening
    )
    assert plan.status == PlanStatus.PLANNED
    assert plan.planned_start + dt.timedelta(minutes=eco(dishwasher).duration_minutes) <= midnight
    assert "planned again" in plan.reasons[0]

    publish_prices(world, midnight, TOMORROW_7 + dt.timedelta(hours=1), "0.050000")  # at 13:00
    assert services.plans_refresh(household=world.household, now=NOW) == 1
    plan.refresh_from_db()
    assert plan.planned_start >= midnight  # the cheap night, now known


def test_the_household_can_start_a_planned_programme_now(world: World, dishwasher: Any) -> None:
    owner, gateway = world.users["household_owner"], world.gateways["ours"]
    plan = services.plan_appliance(user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW)
    planned_command = plan.command
    services.plan_start_now(user=owner, request=plan, now=NOW)
    planned_command.refresh_from_db()
    assert planned_command.status == CommandStatus.EXPIRED  # the night start is withdrawn
    [start] = [c for c in fleet_commands(gateway) if c.kind == "start_program"]
    assert start.not_before is None and start.params == {"program": "eco"}
    assert plan.expected_cost == plan.cost_if_now and plan.planned_start == NOW
    with pytest.raises(PermissionDenied):
        services.plan_start_now(user=world.users["neighbour_owner"], request=plan, now=NOW)


def test_plans_of_the_next_hours_follow_the_intraday_forecasts(
    world: World, dishwasher: Any
) -> None:
    owner = world.users["household_owner"]
    plan = services.plan_appliance(
        user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW,
        earliest_start=NOW + dt.timedelta(hours=2),
    )  # fmt: skip
    night = plan.planned_start.astimezone(BRUSSELS).time()
    assert night >= dt.time(22) or night < dt.time(7)  # the bi-horaire night
    # A dynamic contract whose cheapest hours are 19:00-22:00 this evening.
    HouseholdTariff.objects.create(
        household=world.household,
        tariff=Tariff.objects.get(tenant=world.home_tenant, code="be-dynamic"),
        valid_from=dt.date(2025, 1, 1),
    )
    evening = dt.datetime(2026, 12, 2, 19, 0, tzinfo=BRUSSELS)
    publish_prices(world, NOW - dt.timedelta(hours=1), evening, "0.400000")
    publish_prices(world, evening, evening + dt.timedelta(hours=3), "0.050000")
    publish_prices(
        world, evening + dt.timedelta(hours=3), TOMORROW_7 + dt.timedelta(hours=1), "0.400000"
    )
    assert services.plans_due_refresh(now=NOW, within=dt.timedelta(hours=1)) == 0  # too far
    assert services.plans_due_refresh(now=NOW, within=dt.timedelta(hours=12)) == 1
    plan.refresh_from_db()
    assert evening <= plan.planned_start < evening + dt.timedelta(hours=3)


def fleet_commands(gateway: Any) -> list[Any]:
    from apps.fleet import services as fleet_services

    return fleet_services.commands_for_box(gateway=gateway, now=NOW)
