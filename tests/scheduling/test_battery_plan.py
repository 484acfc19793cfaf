"""The home battery in the day-ahead plan: charged at the night rate, given back at the day
rate, within its reserve and capacity, under the limit it shares with the car; the box
switches its mode at the blocks' edges.

The Belgian bi-horaire (night 0.25, day 0.31): charging at night to cover the day's load
pays when the round trip loses less than the spread, 0.95 * 0.95 = 0.9025 > 0.25 / 0.31.
Time is a Wednesday at 17:00 in Brussels (as in test_planning_service.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from apps.devices.models import DeviceKind
from apps.fleet import services as fleet_services
from apps.fleet.models import CommandStatus, GatewayCommand
from apps.forecasting.models import Forecast
from apps.scheduling import daily, rules
from apps.scheduling import optimizer as opt
from apps.scheduling.daily import daily_plan
from apps.scheduling.models import BatteryRule, DailyPlan, DailyPlanStatus
from apps.telemetry import selectors as telemetry_selectors
from apps.telemetry.models import DeviceReading
from tests.conftest import World
from tests.factories import DeviceFactory
from tests.scheduling.test_daily_plan import blocks, ev_rule, night, per_quarter, wallbox
from tests.scheduling.test_planning_service import BRUSSELS, NOW

__all__ = ["wallbox"]  # a fixture

pytestmark = pytest.mark.django_db
DAY = NOW.date()
Q = dt.timedelta(minutes=15)
START = NOW.astimezone(dt.UTC)
LIMIT_KW = 0.9 * 3.68  # a 16 A fuse, planned under the 90 % warning line


def base_kw(moment: dt.datetime) -> float:
    """2 kW in the evening (18:00-21:00), 0.6 kW otherwise."""
    return 2.0 if 18 <= moment.astimezone(BRUSSELS).hour < 21 else 0.6


@pytest.fixture
def home(world: World) -> World:
    from apps.tariffs.defaults import ensure_default_tariffs

    ensure_default_tariffs(world.home_tenant)
    household = world.household
    household.main_fuse_a = 16
    household.save()
    Forecast.objects.create(
        household=household, kind="load", horizon="day_ahead", day=DAY,
        issued_at=START - dt.timedelta(hours=5), start=START,
        values_wh=[round(base_kw(START + i * Q) * 250) for i in range(200)],
    )  # fmt: skip
    return world


@pytest.fixture
def battery(home: World) -> Any:
    return DeviceFactory(
        household=home.household, gateway=home.gateways["ours"], name="Home battery",
        kind=DeviceKind.BATTERY, rated_power_w=3000, controllable=True,
    )  # fmt: skip


def soc_reading(world: World, device: Any, soc_pct: float, at: dt.datetime) -> None:
    DeviceReading.objects.create(
        household=world.household, device=device, batch_id=uuid.uuid4(), seq=0,
        time=at, power_w=0, soc_pct=soc_pct,
    )  # fmt: skip


def battery_rule(world: World, device: Any, **fields: Any) -> BatteryRule:
    rule = BatteryRule(household=world.household, device=device, capacity_kwh=Decimal(10), **fields)
    rule.full_clean()
    rule.save()
    return rule


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[tuple[opt.Problem, Any]]:
    """Every problem daily_plan solves, with its result (for check_plan)."""
    seen: list[tuple[opt.Problem, Any]] = []
    solve = opt.solve

    def spy(problem: opt.Problem) -> Any:
        result = solve(problem)
        seen.append((problem, result))
        return result

    monkeypatch.setattr(daily.opt, "solve", spy)
    return seen


def commands(plan: DailyPlan) -> list[GatewayCommand]:
    return list(plan.commands.order_by("not_before", "created_at"))


def soc_path(plan: DailyPlan, initial: float) -> list[float]:
    """The charge level after each block, from the blocks alone (0.95 each way)."""
    level, path = initial, [initial]
    for a, b, kw in blocks(plan):
        hours = (b - a).total_seconds() / 3600
        level += kw * hours * 0.95 if kw > 0 else kw * hours / 0.95
        path.append(level)
    return path


def test_the_battery_charges_at_night_gives_back_by_day_and_the_box_follows(
    home: World, battery: Any, solved: list[tuple[opt.Problem, Any]]
) -> None:
    soc_reading(home, battery, 50.0, NOW - dt.timedelta(minutes=10))
    battery_rule(home, battery)
    [plan] = daily_plan(household=home.household, day=DAY, now=NOW)

    assert plan.status == DailyPlanStatus.PLANNED and plan.reasons == []
    assert plan.horizon_start == NOW and plan.horizon_end == NOW + dt.timedelta(hours=24)
    assert float(plan.target_kwh) == pytest.approx(5.0)  # its charge level at the start
    spans = blocks(plan)
    charging = [(a, b, kw) for a, b, kw in spans if kw > 0]
    giving = [(a, b, kw) for a, b, kw in spans if kw < 0]
    assert charging and giving
    assert all(night(a) and night(b - Q) for a, b, _kw in charging)  # at 0.25
    assert all(not night(a) and not night(b - Q) for a, b, _kw in giving)  # instead of 0.31
    # Never more than the house's load: the battery does not export (0.035 is not worth it).
    for a, b, kw in giving:
        quarter = a
        while quarter < b:
            assert -kw <= base_kw(quarter) + 1e-6
            quarter += Q
    # Under the limit with the base load; within its powers.
    for quarter, kw in per_quarter(plan).items():
        assert base_kw(quarter) + kw <= LIMIT_KW + 1e-6
        assert -3.0 - 1e-9 <= kw <= 3.0 + 1e-9
    # Within the reserve (10 %) and the capacity, ending at least as full as it started.
    path = soc_path(plan, 5.0)
    assert min(path) >= 1.0 - 1e-3 and max(path) <= 10.0 + 1e-3
    assert path[-1] >= 5.0 - 1e-3
    [(problem, result)] = solved
    assert isinstance(result, opt.Plan) and opt.check_plan(problem, result) == []
    assert problem.battery is not None and problem.battery.min_soc_kwh == pytest.approx(1.0)
    assert min(result.battery_soc_kwh) >= 1.0 - 1e-6
    assert max(result.battery_soc_kwh) <= 10.0 + 1e-6

    # Money: the battery lowers the bill, and more than in self-consumption (the baseline).
    assert plan.expected_cost < 0 and plan.cost_if_now is not None
    assert plan.saving > 0

    # The box: charge / discharge at each block's start, "auto" after each run.
    sent = commands(plan)
    assert {c.kind for c in sent} == {"set_battery"} and {c.device for c in sent} == {battery}
    assert all(c.status == CommandStatus.PENDING for c in sent)
    expected: list[tuple[dt.datetime, dict[str, Any]]] = []
    if spans[0][0] > NOW:
        expected.append((NOW, {"mode": "auto"}))
    for index, (a, b, kw) in enumerate(spans):
        mode = "charge" if kw > 0 else "discharge"
        expected.append((a, {"mode": mode, "power_w": round(abs(kw) * 1000)}))
        if index + 1 == len(spans) or spans[index + 1][0] != b:
            expected.append((b, {"mode": "auto"}))
    assert [(c.not_before, c.params) for c in sent] == expected
    for c in sent:
        assert c.not_after is not None and c.not_before < c.not_after  # never stale
        if c.params["mode"] != "auto":
            [block] = [s for s in spans if s[0] == c.not_before]
            assert c.not_after == block[1]


def test_the_battery_and_the_car_share_the_limit(
    home: World, battery: Any, wallbox: Any, solved: list[tuple[opt.Problem, Any]]
) -> None:
    soc_reading(home, battery, 30.0, NOW - dt.timedelta(minutes=5))
    battery_rule(home, battery)
    ev_rule(home, wallbox, energy_kwh=Decimal(10))
    plans = {p.device: p for p in daily_plan(household=home.household, day=DAY, now=NOW)}
    assert plans[battery].status == plans[wallbox].status == DailyPlanStatus.PLANNED
    [(problem, result)] = solved  # one problem: they share the limit
    assert problem.battery is not None and problem.ev is not None
    assert opt.check_plan(problem, result) == []
    load: dict[dt.datetime, float] = {}
    for plan in plans.values():
        for quarter, kw in per_quarter(plan).items():
            load[quarter] = load.get(quarter, 0.0) + kw
    assert load and all(base_kw(q) + kw <= LIMIT_KW + 1e-6 for q, kw in load.items())
    charging = [kw for _a, _b, kw in blocks(plans[battery]) if kw > 0]
    assert charging and max(charging) < 3.0  # the limit, not the battery, caps it


@pytest.mark.parametrize("age", [None, dt.timedelta(minutes=61)])
def test_without_a_recent_charge_level_it_is_not_planned_and_says_why(
    home: World, battery: Any, wallbox: Any, age: dt.timedelta | None
) -> None:
    if age is not None:
        soc_reading(home, battery, 50.0, NOW - age)
    battery_rule(home, battery)
    ev_rule(home, wallbox)
    plans = {p.device: p for p in daily_plan(household=home.household, day=DAY, now=NOW)}
    plan = plans[battery]
    assert plan.status == DailyPlanStatus.NOT_PLANNED
    assert plan.reasons == [
        "No charge level from the battery in the last hour: it is not planned and stays "
        "in self-consumption."
    ]
    assert plan.blocks == [] and not plan.commands.exists()
    assert not GatewayCommand.objects.filter(device=battery).exists()
    assert plans[wallbox].status == DailyPlanStatus.PLANNED  # the car is planned regardless


def test_re_running_replaces_the_plan_and_its_commands(home: World, battery: Any) -> None:
    soc_reading(home, battery, 50.0, NOW - dt.timedelta(minutes=10))
    battery_rule(home, battery)
    [first] = daily_plan(household=home.household, day=DAY, now=NOW)
    old = commands(first)
    [second] = daily_plan(household=home.household, day=DAY, now=NOW)
    assert second.pk == first.pk and DailyPlan.objects.count() == 1
    assert second.blocks == first.blocks and second.expected_cost == first.expected_cost
    for command in old:
        command.refresh_from_db()
        assert command.status == CommandStatus.EXPIRED
    pending = GatewayCommand.objects.filter(device=battery, status=CommandStatus.PENDING)
    assert set(pending) == set(second.commands.all()) and pending.count() == len(old)

    # Fetched by the box: a re-run sends it a cancel for each waiting command.
    fetched = sorted(str(c.pk) for c in second.commands.all())
    fleet_services.commands_for_box(gateway=home.gateways["ours"], now=NOW)
    [third] = daily_plan(household=home.household, day=DAY, now=NOW)
    cancels = GatewayCommand.objects.filter(kind="cancel")
    assert sorted(c.params["command_id"] for c in cancels) == fetched
    assert third.blocks == first.blocks


def test_below_its_reserve_it_is_planned_from_where_it_is(home: World, battery: Any) -> None:
    soc_reading(home, battery, 4.0, NOW - dt.timedelta(minutes=1))
    battery_rule(home, battery)
    [plan] = daily_plan(household=home.household, day=DAY, now=NOW)
    assert plan.status == DailyPlanStatus.PLANNED
    path = soc_path(plan, 0.4)
    assert min(path) >= 0.4 - 1e-3 and path[-1] >= 0.4 - 1e-3


def test_the_latest_soc_selector_takes_the_newest_reading_with_a_level(
    home: World, battery: Any
) -> None:
    soc_reading(home, battery, 40.0, NOW - dt.timedelta(minutes=20))
    soc_reading(home, battery, 45.0, NOW - dt.timedelta(minutes=5))
    DeviceReading.objects.create(
        household=home.household, device=battery, batch_id=uuid.uuid4(), seq=0,
        time=NOW - dt.timedelta(minutes=1), power_w=100,
    )  # fmt: skip
    since = NOW - dt.timedelta(hours=1)
    found = telemetry_selectors.device_latest_soc(device_id=battery.pk, since=since)
    assert found == (NOW - dt.timedelta(minutes=5), 45.0)
    later = NOW - dt.timedelta(minutes=4)
    assert telemetry_selectors.device_latest_soc(device_id=battery.pk, since=later) is None


# The rule, through the rules service ------------------------------------------------------


def test_a_battery_rule_is_planned_at_once_and_switched_off_hands_the_battery_back(
    home: World, battery: Any
) -> None:
    owner = home.users["household_owner"]
    soc_reading(home, battery, 50.0, NOW - dt.timedelta(minutes=10))
    rule = rules.rule_create(
        user=owner, device=battery, now=NOW, capacity_kwh=Decimal(10), max_charge_kw=None,
        max_discharge_kw=Decimal("2.5"), reserve_pct=20, active=True,
    )  # fmt: skip
    assert isinstance(rule, BatteryRule) and rule.charge_kw == 3.0 and rule.discharge_kw == 2.5
    plan = DailyPlan.objects.get(device=battery)
    assert plan.status == DailyPlanStatus.PLANNED
    assert min(kw for _a, _b, kw in blocks(plan)) >= -2.5 - 1e-9
    assert min(soc_path(plan, 5.0)) >= 2.0 - 1e-3  # the 20 % reserve
    sent = [c.pk for c in commands(plan)]
    first = GatewayCommand.objects.get(pk=sent[0])
    first.status = CommandStatus.DONE  # the box ran the first one already
    first.save()

    rules.rule_update(user=owner, rule=rule, now=NOW, active=False)
    assert not DailyPlan.objects.filter(device=battery).exists()
    waiting = GatewayCommand.objects.filter(pk__in=sent[1:]).values_list("status", flat=True)
    assert set(waiting) == {CommandStatus.EXPIRED}
    [back] = GatewayCommand.objects.filter(device=battery, status=CommandStatus.PENDING)
    assert (back.kind, back.params) == ("set_battery", {"mode": "auto"})


def test_a_battery_rule_refuses_bad_values_and_others_devices(home: World, battery: Any) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    owner = home.users["household_owner"]
    with pytest.raises(ValidationError) as error:
        rules.rule_create(user=owner, device=battery, now=NOW, capacity_kwh=Decimal(0))
    assert "capacity_kwh" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        rules.rule_create(
            user=owner, device=battery, now=NOW, capacity_kwh=Decimal(10), reserve_pct=95
        )
    assert "reserve_pct" in error.value.message_dict
    with pytest.raises(ValidationError):
        rules.rule_create(
            user=owner, device=battery, now=NOW, capacity_kwh=Decimal(10),
            charge_efficiency=Decimal("1.2"),
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        rules.rule_create(
            user=home.users["household_member"], device=battery, now=NOW,
            capacity_kwh=Decimal(10),
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        rules.rule_create(
            user=home.users["neighbour_owner"], device=battery, now=NOW,
            capacity_kwh=Decimal(10),
        )  # fmt: skip
    assert not BatteryRule.objects.exists()
