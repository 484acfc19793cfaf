"""A plan reaches the box through the signed agent API, and the box's acks move it on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from apps.devices.models import DeviceKind
from apps.scheduling import services
from apps.scheduling.models import ApplianceProgram, PlanStatus
from apps.scheduling.programs import programs_install
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World
from tests.factories import DeviceFactory
from tests.fleet.conftest import Box
from tests.scheduling.test_planning_service import NOW, TOMORROW_7

pytestmark = pytest.mark.django_db


def test_the_box_fetches_the_plan_and_reports_it_started_and_done(world: World, box: Box) -> None:
    ensure_default_tariffs(world.home_tenant)
    washer = DeviceFactory(
        household=world.household, gateway=box.gateway, name="Washing machine",
        kind=DeviceKind.APPLIANCE, rated_power_w=2100, controllable=True,
    )  # fmt: skip
    programs_install(device=washer)
    program = ApplianceProgram.objects.get(device=washer, name="cotton_40")
    with time_machine.travel(NOW, tick=False):
        plan = services.plan_appliance(
            user=world.users["household_owner"], program=program, done_by=TOMORROW_7, now=NOW
        )
        [listed] = box.call("GET", "commands/").json()["commands"]
    assert listed["kind"] == "start_program"
    assert listed["params"] == {"program": "cotton_40"}
    assert listed["device_id"] == str(washer.pk)
    assert dt.datetime.fromisoformat(listed["not_before"]) == plan.planned_start

    def ack(status: str, at: dt.datetime) -> Any:
        body = {"command_id": listed["id"], "status": status, "timestamp": at.isoformat()}
        with time_machine.travel(at, tick=False):
            return box.post(f"commands/{listed['id']}/ack/", body)

    assert plan.planned_start is not None
    assert ack("received", NOW).status_code == 200
    assert ack("started", plan.planned_start).status_code == 200
    plan.refresh_from_db()
    assert plan.status == PlanStatus.STARTED
    assert ack("done", plan.planned_start + dt.timedelta(hours=1, minutes=30)).status_code == 200
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE
