"""The planner page's car charging and hot water: the rule, its form, tonight's plan.

Time is frozen on a Wednesday at 17:00 in Brussels, when the Belgian bi-horaire is at its
day rate until 22:00 (as in tests/scheduling/test_planning_service.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from apps.devices.models import DeviceKind
from apps.energy.costs import rounded
from apps.fleet.models import CommandStatus, GatewayCommand
from apps.portal.planner_view import _kw as planner_kw
from apps.portal.planner_view import rule_prefix
from apps.scheduling.models import DailyPlan, DailyPlanStatus, EvChargingRule, WaterHeaterRule
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World, mfa_login
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db
BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = dt.datetime(2026, 12, 2, 17, 0, tzinfo=BRUSSELS)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def wallbox(world: World) -> Any:
    ensure_default_tariffs(world.home_tenant)
    world.household.timezone = "Europe/Brussels"
    world.household.save()
    return DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Wallbox",
        kind=DeviceKind.EV_CHARGER, rated_power_w=7400, controllable=True,
    )  # fmt: skip


@pytest.fixture
def boiler(wallbox: Any, world: World) -> Any:
    return DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Boiler",
        kind=DeviceKind.WATER_HEATER, rated_power_w=2400, controllable=True,
    )  # fmt: skip


def client_for(world: World, role: str) -> Client:
    client = Client()
    mfa_login(client, world.users[role])
    return client


def planner(world: World, household: Any = None) -> str:
    return f"/households/{(household or world.household).pk}/planner/"


def rule_url(world: World, device: Any, household: Any = None) -> str:
    return f"{planner(world, household)}devices/{device.pk}/rule/"


def ev_data(device: Any, **values: str) -> dict[str, str]:
    fields = {"departure": "07:30", "energy_kwh": "20", "max_kw": "", "active": "on"} | values
    return {f"{rule_prefix(device)}-{k}": v for k, v in fields.items() if v is not None}


def heater_data(device: Any, **values: str) -> dict[str, str]:
    fields = {"energy_kwh": "6", "windows": "22:00-07:00, 12:00-16:00", "active": "on"} | values
    return {f"{rule_prefix(device)}-{k}": v for k, v in fields.items() if v is not None}


def card(page: str, device: Any) -> str:
    after = page.split(f'id="load-{device.pk}"')[1]
    return after.split('class="box load-card"')[0].split("</section>")[0]


def block_texts(plan: DailyPlan) -> list[str]:
    """ "22:00-01:00 at 7.4 kW", the power written as the page writes it."""
    out = []
    for start, end, kw in plan.blocks:
        a = dt.datetime.fromisoformat(start).astimezone(BRUSSELS)
        b = dt.datetime.fromisoformat(end).astimezone(BRUSSELS)
        out.append(f"{a:%H:%M}\u2013{b:%H:%M} at {planner_kw(kw)} kW")
    return out


def test_the_owner_adds_an_ev_rule_and_sees_tonight_s_blocks_and_saving(
    world: World, wallbox: Any
) -> None:
    owner = client_for(world, "household_owner")
    page = owner.get(planner(world)).content.decode()
    assert 'id="car-charging"' in page and "Car charging" in page
    mine = card(page, wallbox)
    assert "Add a rule" in mine and 'data-testid="no-rule"' in mine
    assert 'data-testid="rule-form"' in mine and 'value="07:00"' in mine  # a default

    response = owner.post(rule_url(world, wallbox), ev_data(wallbox))
    assert response.status_code == 302
    assert response["Location"] == f"{planner(world)}#load-{wallbox.pk}"
    rule = EvChargingRule.objects.get(device=wallbox)
    assert (rule.departure, rule.energy_kwh, rule.active) == (dt.time(7, 30), Decimal(20), True)
    plan = DailyPlan.objects.get(device=wallbox, day=NOW.date())
    assert plan.status == DailyPlanStatus.PLANNED
    assert plan.commands.filter(status=CommandStatus.PENDING).exists()

    page = owner.get(response["Location"]).content.decode()
    assert "Rule saved for Wallbox: planned again at once." in page
    mine = card(page, wallbox)
    assert "Adds 20 kWh to the car every night, ready by 07:30, at up to 7.4 kW." in mine
    assert "Tonight's plan" in mine and "Planned" in mine
    blocks = mine.split('data-testid="daily-blocks"')[1].split("</ul>")[0]
    texts = block_texts(plan)
    assert texts and all(text in blocks for text in texts)
    assert all(text.startswith(("22:", "23:", "0")) for text in texts)  # the night rate
    assert "kWh into the car, ready tomorrow at 07:30." in mine
    saving = rounded(plan.saving)
    assert saving > 0
    assert f"you save {saving} EUR against charging at once" in mine
    assert f"Expected cost: {rounded(plan.expected_cost)} EUR" in mine
    assert "Change the rule" in mine and 'data-testid="rule-delete"' in mine


def test_the_owner_changes_the_rule_and_the_night_is_planned_again(
    world: World, wallbox: Any
) -> None:
    owner = client_for(world, "household_owner")
    owner.post(rule_url(world, wallbox), ev_data(wallbox))
    before = set(DailyPlan.objects.get(device=wallbox).commands.values_list("pk", flat=True))
    response = owner.post(
        rule_url(world, wallbox), ev_data(wallbox, energy_kwh="7.5", max_kw="3.7"), follow=True
    )
    rule = EvChargingRule.objects.get(device=wallbox)
    assert (rule.energy_kwh, rule.max_kw) == (Decimal("7.5"), Decimal("3.7"))
    plan = DailyPlan.objects.get(device=wallbox)
    assert plan.energy_kwh * 0.9 == pytest.approx(7.5, abs=1e-3)
    assert max(kw for _a, _b, kw in plan.blocks) <= 3.7 + 1e-9
    assert not before & set(plan.commands.values_list("pk", flat=True))
    mine = card(response.content.decode(), wallbox)
    assert "Adds 7.5 kWh to the car every night, ready by 07:30, at up to 3.7 kW." in mine
    assert all(text in mine for text in block_texts(plan))
    assert f'name="{rule_prefix(wallbox)}-energy_kwh" value="7.50"' in mine


def test_switched_off_the_night_has_no_plan_and_the_box_no_orders(
    world: World, wallbox: Any
) -> None:
    owner = client_for(world, "household_owner")
    owner.post(rule_url(world, wallbox), ev_data(wallbox))
    issued = list(DailyPlan.objects.get(device=wallbox).commands.values_list("pk", flat=True))
    response = owner.post(rule_url(world, wallbox), ev_data(wallbox, active=None), follow=True)
    assert not EvChargingRule.objects.get(device=wallbox).active
    assert not DailyPlan.objects.filter(device=wallbox).exists()
    statuses = set(GatewayCommand.objects.filter(pk__in=issued).values_list("status", flat=True))
    assert statuses == {CommandStatus.EXPIRED}
    page = response.content.decode()
    assert "Wallbox is no longer planned: its waiting commands are withdrawn." in page
    mine = card(page, wallbox)
    assert "Switched off: nothing is planned for it." in mine
    assert 'data-testid="daily-plan"' not in mine


def test_the_owner_deletes_the_rule(world: World, wallbox: Any) -> None:
    owner = client_for(world, "household_owner")
    owner.post(rule_url(world, wallbox), ev_data(wallbox))
    response = owner.post(f"{rule_url(world, wallbox)}delete/", follow=True)
    assert not EvChargingRule.objects.exists() and not DailyPlan.objects.exists()
    page = response.content.decode()
    assert "Rule deleted: Wallbox is no longer planned." in page
    assert "Add a rule" in card(page, wallbox)
    assert owner.post(f"{rule_url(world, wallbox)}delete/").status_code == 404  # gone


def test_hot_water_windows_are_read_and_shown(world: World, boiler: Any) -> None:
    owner = client_for(world, "household_owner")
    page = owner.get(planner(world)).content.decode()
    assert 'id="hot-water"' in page and "Add a rule" in card(page, boiler)
    response = owner.post(
        rule_url(world, boiler), heater_data(boiler, windows="22:00 \u2013 06:30; 12:00-16:00")
    )
    assert response.status_code == 302
    rule = WaterHeaterRule.objects.get(device=boiler)
    assert rule.windows == [["22:00", "06:30"], ["12:00", "16:00"]]
    plan = DailyPlan.objects.get(device=boiler)
    mine = card(owner.get(planner(world)).content.decode(), boiler)
    assert "only 22:00\u201306:30, 12:00\u201316:00, at 2.4 kW" in mine
    assert "Today's plan" in mine and all(text in mine for text in block_texts(plan))
    assert "kWh heated, done" in mine


def test_an_impossible_night_charges_as_much_as_possible_and_says_why(
    world: World, wallbox: Any
) -> None:
    owner = client_for(world, "household_owner")
    # 80 kWh into the car at 3.7 kW by 07:30: not possible in 14 h 30 min.
    owner.post(rule_url(world, wallbox), ev_data(wallbox, energy_kwh="80", max_kw="3.7"))
    plan = DailyPlan.objects.get(device=wallbox)
    assert plan.status == DailyPlanStatus.INFEASIBLE and plan.reasons and plan.blocks
    mine = card(owner.get(planner(world)).content.decode(), wallbox)
    reasons = mine.split('data-testid="daily-reasons"')[1].split("</p>")[0]
    assert "Charging as much as possible:" in reasons
    assert all(reason.replace("'", "&#x27;") in reasons for reason in plan.reasons)
    assert "Not fully possible" in mine
    assert all(text in mine for text in block_texts(plan))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"energy_kwh": "0"}, "Give an energy above 0 kWh."),
        ({"energy_kwh": "-4"}, "Give an energy above 0 kWh."),
        ({"energy_kwh": "lots"}, "Enter a number."),
        ({"departure": "25:00"}, "Enter a valid time."),
        ({"max_kw": "0"}, "greater than or equal to 0.1"),
    ],
)
def test_bad_ev_input_is_a_400_with_the_message_on_the_form(
    world: World, wallbox: Any, values: dict[str, str], message: str
) -> None:
    response = client_for(world, "household_owner").post(
        rule_url(world, wallbox), ev_data(wallbox, **values)
    )
    assert response.status_code == 400
    mine = card(response.content.decode(), wallbox)
    assert message in mine.split('data-testid="rule-form"')[1]
    assert not EvChargingRule.objects.exists() and not DailyPlan.objects.exists()


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ("22:00", "Give up to 3 time ranges such as"),
        ("22:00-25:00", "Give up to 3 time ranges such as"),
        ("nights", "Give up to 3 time ranges such as"),
        ("0:00-1:00, 2:00-3:00, 4:00-5:00, 6:00-7:00", "Give up to 3 time ranges such as"),
        ("22:00-22:00", "starts and ends at the same time"),
    ],
)
def test_hot_water_windows_that_do_not_parse_are_a_400(
    world: World, boiler: Any, windows: str, message: str
) -> None:
    response = client_for(world, "household_owner").post(
        rule_url(world, boiler), heater_data(boiler, windows=windows)
    )
    assert response.status_code == 400
    assert message in card(response.content.decode(), boiler)
    assert not WaterHeaterRule.objects.exists()


def test_a_device_of_the_wrong_kind_is_a_400_not_a_500(world: World, wallbox: Any) -> None:
    response = client_for(world, "household_owner").post(
        rule_url(world, world.devices["ours"]), ev_data(world.devices["ours"])
    )
    assert response.status_code == 400
    assert (
        "Only an EV charger, a water heater or a home battery takes a rule."
        in response.content.decode()
    )
    assert not EvChargingRule.objects.exists()


def test_a_member_without_control_reads_the_plan_but_cannot_change_it(
    world: World, wallbox: Any
) -> None:
    client_for(world, "household_owner").post(rule_url(world, wallbox), ev_data(wallbox))
    plan = DailyPlan.objects.get(device=wallbox)
    member = client_for(world, "household_member")
    mine = card(member.get(planner(world)).content.decode(), wallbox)
    assert 'data-testid="rule-form"' not in mine and 'data-testid="rule-delete"' not in mine
    assert "Adds 20 kWh to the car every night" in mine
    assert all(text in mine for text in block_texts(plan))
    assert member.post(rule_url(world, wallbox), ev_data(wallbox, active=None)).status_code == 403
    assert member.post(f"{rule_url(world, wallbox)}delete/").status_code == 403
    assert EvChargingRule.objects.get().active and DailyPlan.objects.exists()


def test_the_neighbour_gets_a_404(world: World, wallbox: Any) -> None:
    client_for(world, "household_owner").post(rule_url(world, wallbox), ev_data(wallbox))
    neighbour = client_for(world, "neighbour_owner")
    assert neighbour.post(rule_url(world, wallbox), ev_data(wallbox)).status_code == 404
    assert neighbour.post(f"{rule_url(world, wallbox)}delete/").status_code == 404
    # Nor through their own household's address.
    theirs = rule_url(world, wallbox, world.neighbour)
    assert neighbour.post(theirs, ev_data(wallbox, active=None)).status_code == 404
    own = neighbour.get(planner(world, world.neighbour)).content.decode()
    assert "Wallbox" not in own and "Car charging" not in own
    assert EvChargingRule.objects.get().active
    anonymous = Client().post(rule_url(world, wallbox), ev_data(wallbox))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


# The home battery -----------------------------------------------------------------------


@pytest.fixture
def home_battery(wallbox: Any, world: World) -> Any:
    """A 3 kW battery on our box whose charge level (50 %) came in ten minutes ago."""
    import uuid

    from apps.forecasting.models import Forecast
    from apps.telemetry.models import DeviceReading

    device = DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Powerwall",
        kind=DeviceKind.BATTERY, rated_power_w=3000, controllable=True,
    )  # fmt: skip
    DeviceReading.objects.create(
        household=world.household, device=device, batch_id=uuid.uuid4(), seq=0,
        time=NOW - dt.timedelta(minutes=10), power_w=0, soc_pct=50.0,
    )  # fmt: skip
    # The house's load: 2 kW in the evening (18:00-21:00), 0.6 kW otherwise.
    start = NOW.astimezone(dt.UTC)
    quarters = [start + i * dt.timedelta(minutes=15) for i in range(200)]
    Forecast.objects.create(
        household=world.household, kind="load", horizon="day_ahead", day=NOW.date(),
        issued_at=start - dt.timedelta(hours=5), start=start,
        values_wh=[500 if 18 <= q.astimezone(BRUSSELS).hour < 21 else 150 for q in quarters],
    )  # fmt: skip
    return device


def battery_data(device: Any, **values: str | None) -> dict[str, str]:
    fields = {
        "capacity_kwh": "10", "max_charge_kw": "", "max_discharge_kw": "2.5",
        "reserve_pct": "10", "active": "on",
    } | values  # fmt: skip
    return {f"{rule_prefix(device)}-{k}": v for k, v in fields.items() if v is not None}


def battery_block_texts(plan: DailyPlan) -> list[str]:
    out = []
    for start, end, kw in plan.blocks:
        a = dt.datetime.fromisoformat(start).astimezone(BRUSSELS)
        b = dt.datetime.fromisoformat(end).astimezone(BRUSSELS)
        verb = "charging at" if kw > 0 else "giving back"
        out.append(f"{a:%H:%M}\u2013{b:%H:%M} {verb} {planner_kw(abs(kw))} kW")
    return out


def test_the_owner_adds_a_battery_rule_and_sees_its_plan_and_saving(
    world: World, home_battery: Any
) -> None:
    from apps.scheduling.models import BatteryRule

    owner = client_for(world, "household_owner")
    page = owner.get(planner(world)).content.decode()
    assert 'id="home-battery"' in page and "Home battery" in page
    mine = card(page, home_battery)
    assert 'data-testid="no-rule"' in mine and "runs in self-consumption" in mine
    assert 'data-testid="rule-form"' in mine and "Usable capacity (kWh)" in mine

    response = owner.post(rule_url(world, home_battery), battery_data(home_battery))
    assert response.status_code == 302
    assert response["Location"] == f"{planner(world)}#load-{home_battery.pk}"
    rule = BatteryRule.objects.get(device=home_battery)
    assert (rule.capacity_kwh, rule.max_charge_kw, rule.max_discharge_kw) == (
        Decimal(10), None, Decimal("2.5")
    )  # fmt: skip
    assert (rule.reserve_pct, rule.active) == (10, True)
    plan = DailyPlan.objects.get(device=home_battery, day=NOW.date())
    assert plan.status == DailyPlanStatus.PLANNED and plan.blocks
    kinds = set(plan.commands.values_list("kind", flat=True))
    assert kinds == {"set_battery"}

    page = owner.get(response["Location"]).content.decode()
    assert "Rule saved for Powerwall: planned again at once." in page
    mine = card(page, home_battery)
    assert (
        "Plans 10 kWh with the tariff, never below 10 %, charging at up to 3.0 kW and giving "
        "back up to 2.5 kW." in mine
    )
    assert "Next 24 hours" in mine and "Planned" in mine
    texts = battery_block_texts(plan)
    assert any("charging at" in t for t in texts) and any("giving back" in t for t in texts)
    assert all(text in mine for text in texts)
    assert "kWh given back to the house, until tomorrow at 17:00." in mine
    saving = rounded(plan.saving)
    assert saving > 0
    assert f"you save {saving} EUR against self-consumption alone" in mine
    assert f"Effect on the bill: {rounded(plan.expected_cost)} EUR" in mine
    # The car's and the battery's sections stay apart.
    car = page.split('data-testid="car-charging"')[1].split("</section>")[0]
    assert "Powerwall" not in car and "Wallbox" in car


def test_a_battery_without_a_recent_charge_level_says_why_on_the_page(
    world: World, home_battery: Any
) -> None:
    from apps.telemetry.models import DeviceReading

    DeviceReading.objects.filter(device=home_battery).update(time=NOW - dt.timedelta(hours=2))
    owner = client_for(world, "household_owner")
    owner.post(rule_url(world, home_battery), battery_data(home_battery))
    plan = DailyPlan.objects.get(device=home_battery)
    assert plan.status == DailyPlanStatus.NOT_PLANNED
    mine = card(owner.get(planner(world)).content.decode(), home_battery)
    reasons = mine.split('data-testid="daily-reasons"')[1].split("</ul>")[0]
    assert "No charge level from the battery in the last hour" in reasons
    assert "Not planned" in mine


def test_a_member_reads_the_battery_plan_but_cannot_change_it(
    world: World, home_battery: Any
) -> None:
    from apps.scheduling.models import BatteryRule

    client_for(world, "household_owner").post(
        rule_url(world, home_battery), battery_data(home_battery)
    )
    plan = DailyPlan.objects.get(device=home_battery)
    member = client_for(world, "household_member")
    mine = card(member.get(planner(world)).content.decode(), home_battery)
    assert 'data-testid="rule-form"' not in mine and 'data-testid="rule-delete"' not in mine
    assert "Plans 10 kWh with the tariff" in mine
    assert all(text in mine for text in battery_block_texts(plan))
    changed = battery_data(home_battery, active=None)
    assert member.post(rule_url(world, home_battery), changed).status_code == 403
    assert member.post(f"{rule_url(world, home_battery)}delete/").status_code == 403
    assert BatteryRule.objects.get().active and DailyPlan.objects.filter(device=home_battery)
    neighbour = client_for(world, "neighbour_owner")
    assert neighbour.post(rule_url(world, home_battery), changed).status_code == 404


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"capacity_kwh": "0"}, "greater than or equal to 0.1"),
        ({"capacity_kwh": "big"}, "Enter a number."),
        ({"capacity_kwh": ""}, "This field is required."),
        ({"reserve_pct": "95"}, "less than or equal to 90"),
        ({"reserve_pct": "-1"}, "greater than or equal to 0"),
        ({"max_discharge_kw": "0"}, "greater than or equal to 0.1"),
    ],
)
def test_bad_battery_input_is_a_400_with_the_message_on_the_form(
    world: World, home_battery: Any, values: dict[str, str], message: str
) -> None:
    from apps.scheduling.models import BatteryRule

    response = client_for(world, "household_owner").post(
        rule_url(world, home_battery), battery_data(home_battery, **values)
    )
    assert response.status_code == 400
    mine = card(response.content.decode(), home_battery)
    assert message in mine.split('data-testid="rule-form"')[1]
    assert not BatteryRule.objects.exists()
    assert not DailyPlan.objects.filter(device=home_battery).exists()


def test_deleting_the_battery_rule_withdraws_its_plan(world: World, home_battery: Any) -> None:
    from apps.scheduling.models import BatteryRule

    owner = client_for(world, "household_owner")
    owner.post(rule_url(world, home_battery), battery_data(home_battery))
    issued = list(DailyPlan.objects.get(device=home_battery).commands.values_list("pk", flat=True))
    response = owner.post(f"{rule_url(world, home_battery)}delete/", follow=True)
    assert not BatteryRule.objects.exists()
    assert not DailyPlan.objects.filter(device=home_battery).exists()
    statuses = set(GatewayCommand.objects.filter(pk__in=issued).values_list("status", flat=True))
    assert statuses == {CommandStatus.EXPIRED}
    assert "Rule deleted: Powerwall is no longer planned." in response.content.decode()
