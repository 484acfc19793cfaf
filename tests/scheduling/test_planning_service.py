"""Planning a household's appliance: prices, quiet hours, the limit, the box's command."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from apps.devices.models import DeviceKind
from apps.fleet import services as fleet_services
from apps.fleet.models import CommandStatus
from apps.scheduling import services
from apps.scheduling.models import ApplianceProgram, PlanStatus, SchedulingPreferences
from apps.scheduling.programs import programs_install, quarter_profile_w
from gateway_agent.devices import Phase
from tests.conftest import World
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db
BRUSSELS = ZoneInfo("Europe/Brussels")
# A Wednesday at 17:00 in Brussels: the Belgian bi-horaire is at its day rate until 22:00.
NOW = dt.datetime(2026, 12, 2, 17, 0, tzinfo=BRUSSELS)
TOMORROW_7 = dt.datetime(2026, 12, 3, 7, 0, tzinfo=BRUSSELS)


def eco(device: Any) -> ApplianceProgram:
    return ApplianceProgram.objects.get(device=device, name="eco")


def test_a_profile_is_the_average_power_of_each_quarter() -> None:
    phases = [Phase(600, 2000, "heat"), Phase(600, 200, "wash"), Phase(300, 600, "spin")]
    # The last quarter is only partly used: its average counts the idle rest as 0 W.
    assert quarter_profile_w(phases) == [1400, round((300 * 200 + 300 * 600) / 900)]


def test_the_dishwasher_runs_at_the_night_rate_and_the_box_gets_its_command(
    world: World, dishwasher: Any
) -> None:
    owner = world.users["household_owner"]
    program = eco(dishwasher)
    plan = services.plan_appliance(user=owner, program=program, done_by=TOMORROW_7, now=NOW)

    assert plan.status == PlanStatus.PLANNED
    start = plan.planned_start.astimezone(BRUSSELS)
    assert dt.time(22, 0) <= start.time() or start.time() < dt.time(7, 0)
    assert start + dt.timedelta(minutes=program.duration_minutes) <= TOMORROW_7
    # The programme's energy at the night rate (0.25) rather than the day rate (0.31).
    kwh = sum(program.profile_w) / 4 / 1000
    assert float(plan.cost_if_now) == pytest.approx(kwh * 0.31, abs=1e-3)
    assert float(plan.expected_cost) == pytest.approx(kwh * 0.25, abs=1e-3)
    assert plan.saving > 0

    command = plan.command
    assert command is not None
    assert (command.kind, command.params, command.device) == (
        "start_program", {"program": "eco"}, dishwasher
    )  # fmt: skip
    assert command.not_before == plan.planned_start
    assert command.not_after == TOMORROW_7 - dt.timedelta(minutes=program.duration_minutes)


def test_quiet_hours_are_respected(world: World, dishwasher: Any) -> None:
    SchedulingPreferences.objects.create(
        household=world.household, quiet_start=dt.time(21, 0), quiet_end=dt.time(8, 0)
    )
    done_by = dt.datetime(2026, 12, 3, 12, 0, tzinfo=BRUSSELS)
    plan = services.plan_appliance(
        user=world.users["household_owner"], program=eco(dishwasher), done_by=done_by, now=NOW
    )
    start = plan.planned_start.astimezone(BRUSSELS)
    end = start + dt.timedelta(minutes=eco(dishwasher).duration_minutes)
    assert end.time() <= dt.time(21, 0) or start.time() >= dt.time(8, 0)


def test_when_no_plan_fits_it_says_why_and_sends_nothing(world: World, dishwasher: Any) -> None:
    # Quiet all day long: the dishwasher may never run.
    SchedulingPreferences.objects.create(
        household=world.household, quiet_start=dt.time(0, 0), quiet_end=dt.time(0, 0)
    )
    plan = services.plan_appliance(
        user=world.users["household_owner"], program=eco(dishwasher), done_by=TOMORROW_7, now=NOW
    )
    assert plan.status == PlanStatus.INFEASIBLE
    assert plan.command is None
    assert any("quiet" in reason for reason in plan.reasons), plan.reasons


def test_a_deadline_shorter_than_the_programme_is_refused(world: World, dishwasher: Any) -> None:
    with pytest.raises(ValidationError, match="choose a later time"):
        services.plan_appliance(
            user=world.users["household_owner"], program=eco(dishwasher),
            done_by=NOW + dt.timedelta(minutes=30), now=NOW,
        )  # fmt: skip


def test_two_plans_never_overload_a_small_supply_together(world: World, dishwasher: Any) -> None:
    """A 10 A fuse (2.3 kVA, planned under 90 %: 2.07 kW): two heating phases of 1.8 kW
    must not meet, whatever the prices say."""
    household = world.household
    household.main_fuse_a = 10
    household.save()
    washer = DeviceFactory(
        household=household, gateway=world.gateways["ours"], name="Washing machine",
        kind=DeviceKind.APPLIANCE, rated_power_w=1800, controllable=True,
    )  # fmt: skip
    programs_install(device=washer)
    owner = world.users["household_owner"]
    first = services.plan_appliance(
        user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW
    )
    second = services.plan_appliance(
        user=owner, program=ApplianceProgram.objects.get(device=washer, name="eco"),
        done_by=TOMORROW_7, now=NOW,
    )  # fmt: skip
    assert first.status == second.status == PlanStatus.PLANNED
    load: dict[dt.datetime, int] = {}
    for plan in (first, second):
        for offset, watts in enumerate(plan.program.profile_w):
            moment = plan.planned_start + dt.timedelta(minutes=15 * offset)
            load[moment] = load.get(moment, 0) + watts
    assert max(load.values()) <= 0.9 * 2300


def test_only_those_who_may_control_the_devices_can_plan(world: World, dishwasher: Any) -> None:
    for role in ("neighbour_owner", "household_member", "dso_staff", "installer"):
        with pytest.raises(PermissionDenied):
            services.plan_appliance(
                user=world.users[role], program=eco(dishwasher), done_by=TOMORROW_7, now=NOW
            )


def test_the_plan_follows_the_boxs_acknowledgements(world: World, dishwasher: Any) -> None:
    plan = services.plan_appliance(
        user=world.users["household_owner"], program=eco(dishwasher), done_by=TOMORROW_7, now=NOW
    )
    gateway = world.gateways["ours"]
    for ack, expected in (("started", PlanStatus.STARTED), ("done", PlanStatus.DONE)):
        fleet_services.command_acknowledge(
            gateway=gateway, command_id=plan.command_id, status=ack, message=""
        )
        plan.refresh_from_db()
        assert plan.status == expected


def test_a_plan_is_cancelled_until_the_box_has_fetched_it(world: World, dishwasher: Any) -> None:
    owner = world.users["household_owner"]
    plan = services.plan_appliance(user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW)
    services.plan_cancel(user=owner, request=plan)
    plan.refresh_from_db()
    plan.command.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED
    assert plan.command.status == CommandStatus.EXPIRED  # the box will never get it


def test_a_plan_the_box_already_holds_is_cancelled_on_the_box(
    world: World, dishwasher: Any
) -> None:
    owner, gateway = world.users["household_owner"], world.gateways["ours"]
    plan = services.plan_appliance(user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW)
    fleet_services.commands_for_box(gateway=gateway, now=NOW)  # the box polls: it has it
    services.plan_cancel(user=owner, request=plan)
    polled = fleet_services.commands_for_box(gateway=gateway, now=NOW)
    [cancel] = [c for c in polled if c.kind == "cancel"]
    assert (cancel.kind, cancel.params) == ("cancel", {"command_id": str(plan.command_id)})
    # The box withdraws the programme: it acks it "expired"; the plan stays cancelled.
    fleet_services.command_acknowledge(
        gateway=gateway, command_id=plan.command_id, status="expired", message="cancelled"
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED


def test_a_programme_the_box_started_before_the_cancel_shows_as_running(
    world: World, dishwasher: Any
) -> None:
    owner, gateway = world.users["household_owner"], world.gateways["ours"]
    plan = services.plan_appliance(user=owner, program=eco(dishwasher), done_by=TOMORROW_7, now=NOW)
    fleet_services.commands_for_box(gateway=gateway, now=NOW)
    services.plan_cancel(user=owner, request=plan)
    fleet_services.command_acknowledge(
        gateway=gateway, command_id=plan.command_id, status="started", message=""
    )  # it was offline and ran before the cancel arrived
    plan.refresh_from_db()
    assert plan.status == PlanStatus.STARTED
    with pytest.raises(ValidationError, match="Only a plan that has not started"):
        services.plan_cancel(user=owner, request=plan)


def test_prices_not_published_yet_are_said_not_guessed(world: World, dishwasher: Any) -> None:
    from apps.tariffs.models import HouseholdTariff, Tariff

    HouseholdTariff.objects.create(
        household=world.household,
        tariff=Tariff.objects.get(tenant=world.home_tenant, code="be-dynamic"),
        valid_from=dt.date(2025, 1, 1),
    )
    plan = services.plan_appliance(
        user=world.users["household_owner"], program=eco(dishwasher), done_by=TOMORROW_7, now=NOW
    )
    assert plan.status == PlanStatus.INFEASIBLE
    assert "not published yet" in plan.reasons[0]
    assert plan.command is None


def test_the_reasons_are_written_in_the_readers_language(world: World, dishwasher: Any) -> None:
    SchedulingPreferences.objects.create(
        household=world.household, quiet_start=dt.time(0, 0), quiet_end=dt.time(0, 0)
    )
    with translation.override("fr"):
        plan = services.plan_appliance(
            user=world.users["household_owner"], program=eco(dishwasher),
            done_by=TOMORROW_7, now=NOW,
        )  # fmt: skip
    assert plan.status == PlanStatus.INFEASIBLE
    assert any("heures de silence" in reason for reason in plan.reasons), plan.reasons
