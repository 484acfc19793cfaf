"""The day-ahead plan of the interruptible loads: the EV by its departure, the water heater
in its hours, under the limit; the box switches them at the blocks' edges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from apps.devices.models import DeviceKind
from apps.fleet import services as fleet_services
from apps.fleet.models import CommandStatus, GatewayCommand
from apps.forecasting.models import Forecast
from apps.scheduling import tasks
from apps.scheduling.daily import daily_plan
from apps.scheduling.models import (
    DailyPlan,
    DailyPlanStatus,
    EvChargingRule,
    PlanningRun,
    WaterHeaterRule,
)
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World
from tests.factories import DeviceFactory
from tests.scheduling.test_planning_service import BRUSSELS, NOW

pytestmark = pytest.mark.django_db
DAY = NOW.date()
DEPARTURE = dt.datetime(2026, 12, 3, 7, 30, tzinfo=BRUSSELS)
Q = dt.timedelta(minutes=15)


def night(moment: dt.datetime) -> bool:
    local = moment.astimezone(BRUSSELS).time()
    return local >= dt.time(22) or local < dt.time(7)


def blocks(plan: DailyPlan) -> list[tuple[dt.datetime, dt.datetime, float]]:
    parse = dt.datetime.fromisoformat
    return [(parse(a), parse(b), kw) for a, b, kw in plan.blocks]


def kwh(plan: DailyPlan) -> float:
    return sum(kw * (b - a).total_seconds() / 3600 for a, b, kw in blocks(plan))


def per_quarter(plan: DailyPlan) -> dict[dt.datetime, float]:
    """The plan's average kW in each quarter hour."""
    out: dict[dt.datetime, float] = {}
    for a, b, kw in blocks(plan):
        quarter = a - dt.timedelta(minutes=a.minute % 15, seconds=a.second)
        while quarter < b:
            overlap = (min(b, quarter + Q) - max(a, quarter)).total_seconds()
            out[quarter] = out.get(quarter, 0.0) + kw * overlap / 900
            quarter += Q
    return out


def commands(plan: DailyPlan) -> list[GatewayCommand]:
    return list(plan.commands.order_by("not_before", "created_at"))


@pytest.fixture
def wallbox(world: World) -> Any:
    ensure_default_tariffs(world.home_tenant)
    return DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Wallbox",
        kind=DeviceKind.EV_CHARGER, rated_power_w=7400, controllable=True,
    )  # fmt: skip


@pytest.fixture
def heater(world: World) -> Any:
    ensure_default_tariffs(world.home_tenant)
    return DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Boiler",
        kind=DeviceKind.WATER_HEATER, rated_power_w=2400, controllable=True,
    )  # fmt: skip


def ev_rule(world: World, device: Any, **fields: Any) -> EvChargingRule:
    values = {"departure": dt.time(7, 30), "energy_kwh": Decimal(20)} | fields
    rule = EvChargingRule(household=world.household, device=device, **values)
    rule.full_clean()
    rule.save()
    return rule


def heater_rule(world: World, device: Any) -> WaterHeaterRule:
    rule = WaterHeaterRule(
        household=world.household, device=device, energy_kwh=Decimal(6),
        windows=[["22:00", "07:00"], ["12:00", "16:00"]],
    )  # fmt: skip
    rule.full_clean()
    rule.save()
    return rule


def test_the_ev_charges_at_the_night_rate_done_by_departure_and_the_box_follows(
    world: World, wallbox: Any
) -> None:
    ev_rule(world, wallbox)
    [plan] = daily_plan(household=world.household, day=DAY, now=NOW)

    assert plan.status == DailyPlanStatus.PLANNED and plan.reasons == []
    assert plan.horizon_end == DEPARTURE
    spans = blocks(plan)
    assert spans and all(night(a) and night(b - Q) for a, b, _kw in spans)
    assert spans[-1][1] <= DEPARTURE
    assert max(kw for _a, _b, kw in spans) <= 7.4 + 1e-9
    assert kwh(plan) * 0.9 == pytest.approx(20, abs=1e-3)  # the target is in the car
    # 22.2 kWh drawn at the night rate (0.25) rather than at once at the day rate (0.31).
    assert float(plan.expected_cost) == pytest.approx(20 / 0.9 * 0.25, abs=1e-3)
    assert float(plan.cost_if_now) == pytest.approx(20 / 0.9 * 0.31, abs=1e-3)
    assert plan.saving > 0

    sent = commands(plan)
    assert {c.device for c in sent} == {wallbox}
    assert all(c.status == CommandStatus.PENDING for c in sent)
    # Off from now (a car plugged in this evening waits for the night), then the blocks.
    assert (sent[0].kind, sent[0].not_before) == ("switch_off", NOW)
    assert sent[0].not_after == spans[0][0]
    edges = [(c.kind, c.not_before) for c in sent[1:] if c.kind != "set_power_limit"]
    expected: list[tuple[str, dt.datetime]] = []
    for a, b, _kw in spans:
        if expected and expected[-1] == ("switch_off", a):
            expected.pop()  # touching blocks: the charger stays on
        else:
            expected.append(("switch_on", a))
        expected.append(("switch_off", b))
    assert edges == expected
    limits = {c.not_before: c.params for c in sent if c.kind == "set_power_limit"}
    assert limits[spans[0][0]] == {"limit_w": round(spans[0][2] * 1000)}
    for c in sent[1:]:
        assert c.not_after is not None and c.not_before < c.not_after  # never stale
        if c.kind == "switch_on":
            assert c.not_after <= DEPARTURE


def test_the_limit_holds_with_the_base_load_and_the_heater_heats_in_its_hours(
    world: World, wallbox: Any, heater: Any
) -> None:
    household = world.household
    household.main_fuse_a = 16  # 3.68 kVA, planned under 90 %: 3.312 kW
    household.save()
    # The base load: 2 kW from 18:00 to 21:00, 0.6 kW otherwise.
    start = NOW.astimezone(dt.UTC)
    base = [
        2.0 if 18 <= (start + i * Q).astimezone(BRUSSELS).hour < 21 else 0.6 for i in range(200)
    ]
    Forecast.objects.create(
        household=household, kind="load", horizon="day_ahead", day=DAY,
        issued_at=start - dt.timedelta(hours=5), start=start,
        values_wh=[round(kw * 250) for kw in base],
    )  # fmt: skip
    ev_rule(world, wallbox, energy_kwh=Decimal(10))
    heater_rule(world, heater)

    plans = {p.device: p for p in daily_plan(household=household, day=DAY, now=NOW)}
    ev, boiler = plans[wallbox], plans[heater]
    assert ev.status == boiler.status == DailyPlanStatus.PLANNED

    load = {start + i * Q: kw for i, kw in enumerate(base)}
    for plan in (ev, boiler):
        for quarter, kw in per_quarter(plan).items():
            load[quarter] += kw
    assert max(load.values()) <= 0.9 * 3.68 + 1e-6
    assert max(kw for _a, _b, kw in blocks(ev)) < 7.4  # the limit, not the charger, caps it
    assert kwh(ev) * 0.9 == pytest.approx(10, abs=1e-3)

    assert kwh(boiler) == pytest.approx(6, abs=1e-2)
    assert all(kw == 2.4 for _a, _b, kw in blocks(boiler))  # on/off at its rated power
    for a, b, _kw in blocks(boiler):
        last = b - dt.timedelta(seconds=1)
        midday = dt.time(12) <= a.astimezone(BRUSSELS).time() < dt.time(16)
        assert (night(a) and night(last)) or (midday and last.astimezone(BRUSSELS).hour < 16)
    heater_kinds = {c.kind for c in boiler.commands.all()}
    assert heater_kinds == {"switch_on", "switch_off"}  # no power limit for a heater
    ons = [c.not_before for c in boiler.commands.filter(kind="switch_on")]
    assert sorted(ons) == [a for a, b, _kw in blocks(boiler)]


def test_re_planning_the_day_withdraws_the_old_commands_and_replaces_the_plan(
    world: World, wallbox: Any
) -> None:
    ev_rule(world, wallbox)
    [first] = daily_plan(household=world.household, day=DAY, now=NOW)
    old = commands(first)
    [second] = daily_plan(household=world.household, day=DAY, now=NOW)

    assert second.pk == first.pk and DailyPlan.objects.count() == 1
    for command in old:
        command.refresh_from_db()
        assert (command.status, command.message) == ("expired", "withdrawn before delivery")
    new = commands(second)
    assert new and not {c.pk for c in new} & {c.pk for c in old}
    assert all(c.status == CommandStatus.PENDING for c in new)
    pending = GatewayCommand.objects.filter(device=wallbox, status=CommandStatus.PENDING)
    assert pending.count() == len(new)  # nothing of the old plan left to run

    # The box fetched the plan: re-planning sends it a cancel for each waiting command.
    fleet_services.commands_for_box(gateway=world.gateways["ours"], now=NOW)
    [third] = daily_plan(household=world.household, day=DAY, now=NOW)
    cancels = GatewayCommand.objects.filter(kind="cancel")
    assert sorted(c.params["command_id"] for c in cancels) == sorted(str(c.pk) for c in new)
    assert kwh(third) * 0.9 == pytest.approx(20, abs=1e-3)


def test_re_planning_during_the_night_counts_what_was_charged_already(
    world: World, wallbox: Any
) -> None:
    ev_rule(world, wallbox)
    [first] = daily_plan(household=world.household, day=DAY, now=NOW)
    later = dt.datetime(2026, 12, 3, 3, 0, tzinfo=BRUSSELS)
    done = sum(
        kw * (min(b, later) - a).total_seconds() / 3600 for a, b, kw in blocks(first) if a < later
    )
    [second] = daily_plan(household=world.household, day=DAY, now=later)
    assert second.horizon_start == later and second.horizon_end == DEPARTURE
    assert (done + kwh(second)) * 0.9 == pytest.approx(20, abs=1e-3)
    assert all(a >= later for a, _b, _kw in blocks(second))


def test_an_ev_target_out_of_reach_keeps_the_nearest_plan_and_says_why(
    world: World, wallbox: Any
) -> None:
    # 3.7 kW from 17:00 to 07:30 draws 53.7 kWh: 48.3 kWh into the car, not 60.
    ev_rule(world, wallbox, energy_kwh=Decimal(60), max_kw=Decimal("3.7"))
    [plan] = daily_plan(household=world.household, day=DAY, now=NOW)

    assert plan.status == DailyPlanStatus.INFEASIBLE
    assert any("Wallbox" in reason and "cannot get" in reason for reason in plan.reasons)
    assert kwh(plan) == pytest.approx(3.7 * 14.5, abs=1e-3)  # the nearest: all it can
    assert blocks(plan) == [(NOW, DEPARTURE, 3.7)]
    kinds = [c.kind for c in commands(plan)]
    assert kinds == ["set_power_limit", "switch_on", "switch_off"]


def test_the_nightly_run_plans_a_household_with_only_a_rule(world: World, wallbox: Any) -> None:
    ev_rule(world, wallbox)
    with time_machine.travel(NOW, tick=False):
        assert tasks.plan_fleet(DAY.isoformat()) == 1  # Celery eager
    run = PlanningRun.objects.get(day=DAY)
    assert (run.households_total, run.households_done, run.failures) == (1, 1, 0)
    plan = DailyPlan.objects.get(household=world.household, day=DAY, device=wallbox)
    assert plan.status == DailyPlanStatus.PLANNED and plan.commands.exists()
    # Re-triggered: the same plan, the old commands withdrawn, none doubled.
    with time_machine.travel(NOW, tick=False):
        tasks.plan_fleet(DAY.isoformat())
    plan.refresh_from_db()
    pending = GatewayCommand.objects.filter(device=wallbox, status=CommandStatus.PENDING)
    assert set(pending) == set(plan.commands.all())


def test_a_rule_needs_a_device_of_its_kind_in_the_household(world: World, wallbox: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        heater_rule(world, wallbox)
    neighbours = DeviceFactory(household=world.neighbour, kind=DeviceKind.EV_CHARGER)
    with pytest.raises(ValidationError):
        ev_rule(world, neighbours)
    rule = ev_rule(world, wallbox)
    owner, outsider = world.users["household_owner"], world.users["neighbour_owner"]
    from apps.core.permissions import Action

    assert list(EvChargingRule.objects.restrict(owner, Action.VIEW)) == [rule]
    assert not EvChargingRule.objects.restrict(outsider, Action.VIEW).exists()
    [plan] = daily_plan(household=world.household, day=DAY, now=NOW)
    assert not DailyPlan.objects.restrict(outsider, Action.VIEW).filter(pk=plan.pk).exists()
