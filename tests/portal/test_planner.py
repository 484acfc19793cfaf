"""The appliance planner page: plan, read the result, cancel, quiet hours; who may do what.

Time is frozen on a Wednesday at 17:00 in Brussels, when the Belgian bi-horaire is at its
day rate until 22:00 (as in tests/scheduling/test_planning_service.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from apps.devices.models import DeviceKind
from apps.energy.costs import rounded
from apps.fleet import services as fleet_services
from apps.fleet.models import CommandStatus, GatewayCommand
from apps.scheduling.models import ApplianceProgram, PlanRequest, PlanStatus, SchedulingPreferences
from apps.scheduling.programs import programs_install
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
def dishwasher(world: World) -> Any:
    ensure_default_tariffs(world.home_tenant)
    world.household.timezone = "Europe/Brussels"
    world.household.save()
    device = DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Dishwasher",
        kind=DeviceKind.APPLIANCE, rated_power_w=1800, controllable=True,
    )  # fmt: skip
    programs_install(device=device)
    return device


def eco(device: Any) -> ApplianceProgram:
    return ApplianceProgram.objects.get(device=device, name="eco")


def client_for(world: World, role: str) -> Client:
    client = Client()
    mfa_login(client, world.users[role])
    return client


def url(world: World, household: Any = None) -> str:
    return f"/households/{(household or world.household).pk}/planner/"


def plan(client: Client, world: World, device: Any, done_by: str = "2026-12-03T07:00") -> Any:
    return client.post(url(world), {"program": str(eco(device).pk), "done_by": done_by})


def test_the_owner_plans_the_dishwasher_for_the_night_rate_and_sees_the_saving(
    world: World, dishwasher: Any
) -> None:
    owner = client_for(world, "household_owner")
    form = owner.get(url(world)).content.decode()
    assert 'value="2026-12-03T07:00"' in form  # done by tomorrow 07:00, local time
    assert '<optgroup label="Dishwasher">' in form
    program = eco(dishwasher)
    assert f"eco — {program.duration_minutes // 60} h" in form and "kWh" in form

    response = plan(owner, world, dishwasher)
    created = PlanRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{url(world)}?plan={created.pk}"
    assert created.status == PlanStatus.PLANNED and created.requested_by == world.users[
        "household_owner"
    ]  # fmt: skip

    page = owner.get(response["Location"]).content.decode()
    start = created.planned_start.astimezone(BRUSSELS)
    end = start + dt.timedelta(minutes=program.duration_minutes)
    assert start.time() >= dt.time(22, 0) or start.time() < dt.time(7, 0)  # the night rate
    card = page.split('data-testid="plan-result"')[1].split("</section>")[0]
    assert f"at {start:%H:%M}, done by {end:%H:%M}" in card
    assert "Starts tonight" in card or "Starts tomorrow" in card
    saving = rounded(created.saving)
    assert saving > 0
    assert f"you save {saving} EUR against starting now" in card
    assert f"Expected cost: {rounded(created.expected_cost)} EUR" in card
    rows = page.split('data-testid="plans"')[1]
    assert "Planned" in rows and 'data-testid="plan-cancel"' in rows


def test_a_plan_that_cannot_be_made_shows_why(world: World, dishwasher: Any) -> None:
    SchedulingPreferences.objects.create(
        household=world.household, quiet_start=dt.time(0, 0), quiet_end=dt.time(0, 0)
    )  # quiet all day long: the dishwasher may never run
    owner = client_for(world, "household_owner")
    page = owner.get(plan(owner, world, dishwasher)["Location"]).content.decode()
    created = PlanRequest.objects.get()
    assert created.status == PlanStatus.INFEASIBLE
    card = page.split('data-testid="plan-result"')[1].split("</section>")[0]
    assert "This plan is not possible." in card and "Not possible" in card
    reasons = card.split('data-testid="plan-reasons"')[1].split("</ul>")[0]
    assert created.reasons and all(reason in reasons for reason in created.reasons)
    assert "you save" not in card


def test_the_service_s_refusal_shows_on_the_form(world: World, dishwasher: Any) -> None:
    response = plan(client_for(world, "household_owner"), world, dishwasher, "2026-12-02T17:30")
    assert response.status_code == 400
    assert "choose a later time" in response.content.decode()
    assert not PlanRequest.objects.exists()


@pytest.mark.parametrize(
    ("done_by", "message"),
    [
        ("2027-03-28T02:30", "02:30 does not exist on"),  # the clocks go forward
        ("2026-10-25T02:30", "02:30 happens twice on"),  # the clocks go back
    ],
)
def test_a_local_time_the_clocks_skip_or_repeat_is_a_clear_form_error(
    world: World, dishwasher: Any, done_by: str, message: str
) -> None:
    response = plan(client_for(world, "household_owner"), world, dishwasher, done_by)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PlanRequest.objects.exists()


def test_done_by_is_read_in_the_household_s_time_zone(world: World, dishwasher: Any) -> None:
    plan(client_for(world, "household_owner"), world, dishwasher, "2026-12-03T07:00")
    assert PlanRequest.objects.get().done_by == dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)


def cancel_url(world: World, plan: PlanRequest) -> str:
    return f"/households/{world.household.pk}/plans/{plan.pk}/cancel/"


def test_cancel_before_and_after_the_box_fetched_the_plan(world: World, dishwasher: Any) -> None:
    owner = client_for(world, "household_owner")
    plan(owner, world, dishwasher)
    first = PlanRequest.objects.get()
    response = owner.post(cancel_url(world, first))
    assert response.status_code == 302 and response["Location"] == url(world)
    first.refresh_from_db()
    assert first.status == PlanStatus.CANCELLED
    page = owner.get(url(world)).content.decode()
    assert "Plan cancelled: the appliance will not be started." in page and "Cancelled" in page

    plan(owner, world, dishwasher)
    fetched = PlanRequest.objects.get(status=PlanStatus.PLANNED)
    fleet_services.commands_for_box(gateway=world.gateways["ours"], now=NOW)  # the box polls
    page = owner.post(cancel_url(world, fetched), follow=True).content.decode()
    fetched.refresh_from_db()
    assert fetched.status == PlanStatus.CANCELLED
    assert "Plan cancelled: your box is told at its next contact." in page


def test_a_plan_the_box_has_started_cannot_be_cancelled_and_says_why(
    world: World, dishwasher: Any
) -> None:
    owner = client_for(world, "household_owner")
    plan(owner, world, dishwasher)
    started = PlanRequest.objects.get()
    fleet_services.commands_for_box(gateway=world.gateways["ours"], now=NOW)
    # The box started it offline; its ack has not reached the plan yet.
    GatewayCommand.objects.filter(pk=started.command_id).update(status=CommandStatus.STARTED)
    page = owner.post(cancel_url(world, started), follow=True).content.decode()
    message = page.split('class="message error"')[1].split("</p>")[0]
    assert "Your box has already started this programme." in message
    started.refresh_from_db()
    assert started.status == PlanStatus.PLANNED

    fleet_services.command_acknowledge(
        gateway=world.gateways["ours"], command_id=started.command_id, status="done", message=""
    )
    page = owner.get(url(world)).content.decode()
    assert 'data-testid="plan-cancel"' not in page  # done: nothing left to cancel
    assert "Done" in page.split('data-testid="plans"')[1]


def test_a_member_without_control_sees_the_plans_read_only(world: World, dishwasher: Any) -> None:
    plan(client_for(world, "household_owner"), world, dishwasher)
    planned = PlanRequest.objects.get()
    member = client_for(world, "household_member")
    page = member.get(url(world)).content.decode()
    assert 'data-testid="read-only"' in page
    assert 'data-testid="plan-form"' not in page and 'data-testid="quiet-form"' not in page
    assert 'data-testid="plan-cancel"' not in page
    assert "Dishwasher · eco" in page  # the plan is listed
    assert plan(member, world, dishwasher).status_code == 403
    cancel = cancel_url(world, planned)
    assert member.post(cancel).status_code == 403
    quiet = f"{url(world)}quiet-hours/"
    assert member.post(quiet, {"quiet_start": "22:00", "quiet_end": "07:00"}).status_code == 403
    assert PlanRequest.objects.get().status == PlanStatus.PLANNED
    assert not SchedulingPreferences.objects.exists()


def test_the_neighbour_gets_a_404_and_an_anonymous_reader_the_login(
    world: World, dishwasher: Any
) -> None:
    plan(client_for(world, "household_owner"), world, dishwasher)
    planned = PlanRequest.objects.get()
    neighbour = client_for(world, "neighbour_owner")
    cancel = cancel_url(world, planned)
    assert neighbour.get(url(world)).status_code == 404
    assert plan(neighbour, world, dishwasher).status_code == 404
    assert neighbour.post(cancel).status_code == 404
    # Their own planner does not list our plan, nor offer our dishwasher.
    own = neighbour.get(url(world, world.neighbour)).content.decode()
    assert str(planned.pk) not in own and "Dishwasher" not in own
    anonymous = Client().get(url(world))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert PlanRequest.objects.get().status == PlanStatus.PLANNED


def test_quiet_hours_are_saved_and_cleared(world: World, dishwasher: Any) -> None:
    owner = client_for(world, "household_owner")
    quiet = f"{url(world)}quiet-hours/"
    response = owner.post(quiet, {"quiet_start": "22:00", "quiet_end": "07:00"}, follow=True)
    preferences = SchedulingPreferences.objects.get(household=world.household)
    assert (preferences.quiet_start, preferences.quiet_end) == (dt.time(22, 0), dt.time(7, 0))
    page = response.content.decode()
    assert "Quiet hours saved: no appliance runs from 22:00 to 07:00." in page
    assert 'name="quiet_start" value="22:00"' in page

    half = owner.post(quiet, {"quiet_start": "22:00", "quiet_end": ""})
    assert half.status_code == 400 and "Give both times" in half.content.decode()
    owner.post(quiet, {"quiet_start": "", "quiet_end": ""})
    preferences.refresh_from_db()
    assert preferences.quiet_start is None and preferences.quiet_end is None


def test_the_household_page_links_to_the_planner(world: World) -> None:
    page = client_for(world, "household_member").get(f"/households/{world.household.pk}/")
    assert f'href="{url(world)}"' in page.content.decode()


def test_the_owner_starts_a_planned_programme_now(world: World, dishwasher: Any) -> None:
    owner = client_for(world, "household_owner")
    plan(owner, world, dishwasher)
    planned = PlanRequest.objects.get()
    start_now = f"/households/{world.household.pk}/plans/{planned.pk}/start-now/"
    page = owner.post(start_now, follow=True).content.decode()
    assert "Starting now: your box starts the appliance at once." in page
    planned.refresh_from_db()
    assert planned.planned_start == NOW and planned.expected_cost == planned.cost_if_now
    assert planned.command.not_before is None
    member = client_for(world, "household_member")  # may read, not control
    assert member.post(start_now).status_code == 403
    assert client_for(world, "neighbour_owner").post(start_now).status_code == 404
