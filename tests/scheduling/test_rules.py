"""The household's rules for the car and the water heater: set by whoever may control the
devices, planned again at once; switched off or deleted, nothing stays planned.

Time is a Wednesday at 17:00 in Brussels, the day rate until 22:00
(as in tests/scheduling/test_planning_service.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from apps.devices.models import DeviceKind
from apps.fleet import services as fleet_services
from apps.fleet.models import CommandStatus, GatewayCommand
from apps.scheduling import rules
from apps.scheduling.models import DailyPlan, DailyPlanStatus, EvChargingRule, WaterHeaterRule
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World
from tests.factories import DeviceFactory
from tests.scheduling.test_planning_service import BRUSSELS, NOW

pytestmark = pytest.mark.django_db
DAY = NOW.date()
EV = {"departure": dt.time(7, 30), "energy_kwh": Decimal(20), "max_kw": None, "active": True}
HEATER = {"energy_kwh": Decimal(6), "windows": [["22:00", "07:00"]], "max_kw": None}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def home(world: World) -> World:
    ensure_default_tariffs(world.home_tenant)
    world.household.timezone = "Europe/Brussels"
    world.household.save()
    return world


@pytest.fixture
def wallbox(home: World) -> Any:
    return DeviceFactory(
        household=home.household, gateway=home.gateways["ours"], name="Wallbox",
        kind=DeviceKind.EV_CHARGER, rated_power_w=7400, controllable=True,
    )  # fmt: skip


@pytest.fixture
def boiler(home: World) -> Any:
    return DeviceFactory(
        household=home.household, gateway=home.gateways["ours"], name="Boiler",
        kind=DeviceKind.WATER_HEATER, rated_power_w=2400, controllable=True,
    )  # fmt: skip


def owner(world: World) -> Any:
    return world.users["household_owner"]


def waiting(device: Any) -> list[GatewayCommand]:
    return list(
        GatewayCommand.objects.filter(device=device, status=CommandStatus.PENDING).exclude(
            kind="cancel"
        )
    )


def test_a_new_ev_rule_is_planned_at_once_for_tonight(home: World, wallbox: Any) -> None:
    rule = rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV)
    assert isinstance(rule, EvChargingRule) and rule.household == home.household
    plan = DailyPlan.objects.get(device=wallbox)
    assert plan.day == DAY and plan.status == DailyPlanStatus.PLANNED
    assert plan.horizon_end == dt.datetime(2026, 12, 3, 7, 30, tzinfo=BRUSSELS)
    assert plan.blocks and plan.saving and plan.saving > 0
    assert plan.commands.count() and len(waiting(wallbox)) == plan.commands.count()


def test_the_day_is_the_household_s_own(home: World, wallbox: Any) -> None:
    """00:30 in Brussels is still the 2nd in UTC: the plan is for the household's 3rd."""
    late = dt.datetime(2026, 12, 3, 0, 30, tzinfo=BRUSSELS)
    with time_machine.travel(late, tick=False):
        rules.rule_create(user=owner(home), device=wallbox, now=late, **EV)
    assert DailyPlan.objects.get(device=wallbox).day == dt.date(2026, 12, 3)


def test_changing_the_rule_replaces_the_plan_and_its_commands(home: World, wallbox: Any) -> None:
    rule = rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV)
    first = set(DailyPlan.objects.get(device=wallbox).commands.values_list("pk", flat=True))
    rules.rule_update(user=owner(home), rule=rule, now=NOW, energy_kwh=Decimal(5))
    plan = DailyPlan.objects.get(device=wallbox)
    assert float(plan.target_kwh) == pytest.approx(5)
    assert plan.energy_kwh * 0.9 == pytest.approx(5, abs=1e-3)
    assert not first & set(plan.commands.values_list("pk", flat=True))
    assert all(
        c.status == CommandStatus.EXPIRED for c in GatewayCommand.objects.filter(pk__in=first)
    )


def test_switching_a_rule_off_leaves_no_plan_and_withdraws_its_commands(
    home: World, wallbox: Any
) -> None:
    rule = rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV)
    fleet_services.commands_for_box(gateway=home.gateways["ours"], now=NOW)  # the box polled
    rules.rule_update(user=owner(home), rule=rule, now=NOW, active=False)
    rule.refresh_from_db()
    assert not rule.active
    assert not DailyPlan.objects.filter(device=wallbox).exists()
    # Already on the box: each gets a `cancel`; nothing of the plan is left to run.
    sent = GatewayCommand.objects.filter(device=wallbox)
    cancels = GatewayCommand.objects.filter(kind="cancel").values_list("params", flat=True)
    assert {c["command_id"] for c in cancels} == {str(c.pk) for c in sent}
    assert not GatewayCommand.objects.filter(kind="switch_on", device=wallbox, sent_at=None)


def test_a_charger_the_plan_already_held_off_is_handed_back(home: World, wallbox: Any) -> None:
    rule = rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV)
    first = DailyPlan.objects.get(device=wallbox).commands.order_by("not_before").first()
    assert first is not None and first.kind == "switch_off"  # wait for the night rate
    GatewayCommand.objects.filter(pk=first.pk).update(status=CommandStatus.DONE)
    later = NOW + dt.timedelta(minutes=20)
    rules.rule_update(user=owner(home), rule=rule, now=later, active=False)
    released = waiting(wallbox)
    assert [(c.kind, c.params) for c in released] == [
        ("set_power_limit", {"limit_w": 7400}), ("switch_on", {}),
    ]  # fmt: skip
    assert all(c.not_before == later and c.not_after > later for c in released)


def test_a_rule_switched_on_again_is_planned_again(home: World, wallbox: Any) -> None:
    rule = rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV | {"active": False})
    assert not DailyPlan.objects.exists() and not GatewayCommand.objects.exists()
    rules.rule_update(user=owner(home), rule=rule, now=NOW, active=True)
    assert DailyPlan.objects.get(device=wallbox).status == DailyPlanStatus.PLANNED


def test_deleting_a_rule_withdraws_its_plan_and_plans_the_others_again(
    home: World, wallbox: Any, boiler: Any
) -> None:
    ev = rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV)
    rules.rule_create(user=owner(home), device=boiler, now=NOW, **HEATER)
    boiler_before = DailyPlan.objects.get(device=boiler).updated_at
    later = NOW + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        rules.rule_delete(user=owner(home), rule=ev, now=later)
    assert not EvChargingRule.objects.exists()
    assert not DailyPlan.objects.filter(device=wallbox).exists() and not waiting(wallbox)
    assert DailyPlan.objects.get(device=boiler).updated_at > boiler_before
    assert waiting(boiler)


def test_a_water_heater_rule_keeps_to_its_windows(home: World, boiler: Any) -> None:
    rule = rules.rule_create(
        user=owner(home), device=boiler, now=NOW,
        energy_kwh=Decimal(6), windows=[["22:00", "07:00"], ["12:00", "16:00"]],
    )  # fmt: skip
    assert isinstance(rule, WaterHeaterRule)
    plan = DailyPlan.objects.get(device=boiler)
    assert plan.energy_kwh == pytest.approx(6, abs=1e-3)
    for start, end, _kw in plan.blocks:
        a = dt.datetime.fromisoformat(start).astimezone(BRUSSELS)
        b = dt.datetime.fromisoformat(end).astimezone(BRUSSELS) - dt.timedelta(seconds=1)
        assert all(t.time() >= dt.time(22) or t.time() < dt.time(7) for t in (a, b))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (EV | {"energy_kwh": Decimal(0)}, "energy_kwh"),
        (EV | {"energy_kwh": Decimal(-3)}, "energy_kwh"),
        (EV | {"max_kw": Decimal("0.01")}, "max_kw"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_planned(
    home: World, wallbox: Any, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        rules.rule_create(user=owner(home), device=wallbox, now=NOW, **values)
    assert field in error.value.message_dict
    assert not EvChargingRule.objects.exists() and not DailyPlan.objects.exists()


@pytest.mark.parametrize(
    "windows",
    [
        [["22:00", "25:00"]],
        [["22:00"]],
        "22:00-07:00",
        [["22:00", "22:00"]],
        [["00:00", "01:00"], ["02:00", "03:00"], ["04:00", "05:00"], ["06:00", "07:00"]],
    ],
)
def test_windows_that_do_not_parse_are_refused(home: World, boiler: Any, windows: Any) -> None:
    with pytest.raises(ValidationError) as error:
        rules.rule_create(user=owner(home), device=boiler, now=NOW, **HEATER | {"windows": windows})
    assert "windows" in error.value.message_dict
    assert not WaterHeaterRule.objects.exists()


def test_a_device_of_another_kind_takes_no_rule(home: World) -> None:
    with pytest.raises(ValidationError) as error:
        rules.rule_create(user=owner(home), device=home.devices["ours"], now=NOW, **EV)
    assert "device" in error.value.message_dict


def test_one_rule_per_device(home: World, wallbox: Any) -> None:
    rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV)
    with pytest.raises(ValidationError):
        rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV)


@pytest.mark.parametrize("role", ["household_member", "installer", "dso_staff", "neighbour_owner"])
def test_only_who_may_control_the_devices_sets_rules(home: World, wallbox: Any, role: str) -> None:
    rule = rules.rule_create(user=owner(home), device=wallbox, now=NOW, **EV)
    user = home.users[role]
    with pytest.raises(PermissionDenied):
        rules.rule_create(user=user, device=wallbox, now=NOW, **EV)
    with pytest.raises(PermissionDenied):
        rules.rule_update(user=user, rule=rule, now=NOW, active=False)
    with pytest.raises(PermissionDenied):
        rules.rule_delete(user=user, rule=rule, now=NOW)
    rule.refresh_from_db()
    assert rule.active and DailyPlan.objects.filter(device=wallbox).exists()
