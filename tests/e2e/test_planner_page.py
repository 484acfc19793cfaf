"""The planner in a real browser: plan the dishwasher, read the result, cancel it; add the
car's night charging rule and read tonight's blocks.

Time runs from a Wednesday at 17:00 in Brussels (the day rate until 22:00) in the test
process, so in the live server's thread too; the browser only shows what the server sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from apps.devices.models import DeviceKind
from apps.energy.costs import rounded
from apps.portal.forms import program_label
from apps.scheduling.models import (
    ApplianceProgram,
    DailyPlan,
    DailyPlanStatus,
    PlanRequest,
    PlanStatus,
)
from apps.scheduling.programs import programs_install
from apps.tariffs.defaults import ensure_default_tariffs
from tests.accounts.conftest import device_for
from tests.conftest import World
from tests.e2e.test_login import log_in
from tests.factories import DeviceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = dt.datetime(2026, 12, 2, 17, 0, tzinfo=BRUSSELS)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def shot(page: Page, tmp_path: Path, name: str) -> None:
    screenshot = tmp_path / f"{name}.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0


def test_the_owner_plans_the_dishwasher_and_cancels_it(
    page: Page, live_server: Any, transactional_db: None, world: World, frozen: None,
    tmp_path: Path,
) -> None:  # fmt: skip
    ensure_default_tariffs(world.home_tenant)
    world.household.timezone = "Europe/Brussels"
    world.household.save()
    dishwasher = DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Dishwasher",
        kind=DeviceKind.APPLIANCE, rated_power_w=1800, controllable=True,
    )  # fmt: skip
    programs_install(device=dishwasher)

    log_in(page, live_server, "owner", totp=device_for(world.users["household_owner"]))
    page.get_by_test_id("planner-link").click()
    form = page.get_by_test_id("plan-form")
    expect(form.get_by_label("Done by")).to_have_value("2026-12-03T07:00")
    eco = ApplianceProgram.objects.get(device=dishwasher, name="eco")
    form.get_by_label("Appliance and programme").select_option(label=program_label(eco))
    shot(page, tmp_path, "planner-form")
    form.get_by_role("button", name="Plan").click()

    plan = PlanRequest.objects.get()
    assert plan.status == PlanStatus.PLANNED
    start = plan.planned_start.astimezone(BRUSSELS)
    result = page.get_by_test_id("plan-result")
    expect(result.get_by_test_id("plan-start")).to_contain_text(f"at {start:%H:%M}, done by")
    expect(result.get_by_test_id("plan-saving")).to_have_text(
        f"you save {rounded(plan.saving)} EUR against starting now"
    )
    shot(page, tmp_path, "planner-result")

    row = page.get_by_test_id("plan-row").first
    expect(row).to_contain_text("Planned")
    row.get_by_test_id("plan-cancel").click()
    expect(page.get_by_role("status")).to_have_text(
        "Plan cancelled: the appliance will not be started."
    )
    expect(page.get_by_test_id("plan-row").first).to_contain_text("Cancelled")
    expect(page.get_by_test_id("plan-cancel")).to_have_count(0)
    shot(page, tmp_path, "planner-cancelled")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED


def test_the_owner_adds_a_night_charging_rule_and_sees_tonight_s_blocks(
    page: Page, live_server: Any, transactional_db: None, world: World, frozen: None,
    tmp_path: Path,
) -> None:  # fmt: skip
    ensure_default_tariffs(world.home_tenant)
    world.household.timezone = "Europe/Brussels"
    world.household.save()
    wallbox = DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Wallbox",
        kind=DeviceKind.EV_CHARGER, rated_power_w=7400, controllable=True,
    )  # fmt: skip

    log_in(page, live_server, "owner", totp=device_for(world.users["household_owner"]))
    page.get_by_test_id("planner-link").click()
    section = page.get_by_test_id("car-charging")
    expect(section.get_by_test_id("no-rule")).to_be_visible()
    form = section.get_by_test_id("rule-form")
    form.get_by_label("Ready by").fill("07:30")
    form.get_by_label("Energy to add per night (kWh)").fill("20")
    form.get_by_role("button", name="Add the rule").click()

    expect(page.get_by_role("status")).to_have_text(
        "Rule saved for Wallbox: planned again at once."
    )
    plan = DailyPlan.objects.get(device=wallbox)
    assert plan.status == DailyPlanStatus.PLANNED and plan.blocks
    card = page.get_by_test_id("car-charging").get_by_test_id("daily-plan")
    expect(card.get_by_test_id("daily-status")).to_have_text("Planned")
    first = plan.blocks[0]
    start = dt.datetime.fromisoformat(first[0]).astimezone(BRUSSELS)
    end = dt.datetime.fromisoformat(first[1]).astimezone(BRUSSELS)
    expect(card.get_by_test_id("daily-blocks").locator("li").first).to_have_text(
        f"{start:%H:%M}\u2013{end:%H:%M} at {first[2]:.1f} kW"
    )
    expect(card.get_by_test_id("daily-saving")).to_have_text(
        f"you save {rounded(plan.saving)} EUR against charging at once"
    )
    expect(page.get_by_test_id("car-charging").get_by_test_id("rule-summary")).to_contain_text(
        "Adds 20 kWh to the car every night, ready by 07:30"
    )
    shot(page, tmp_path, "planner-night-charging")
