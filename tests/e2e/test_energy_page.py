"""The energy page in a real browser: switch period and unit, download the CSV."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from apps.energy.models import HouseholdEnergy
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World
from tests.e2e.test_login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def a_metered_day(world: World) -> None:
    """Hourly and daily rollups of 2026-10-14 for our household, 400 Wh an hour."""
    household = world.household
    household.timezone = "Europe/Brussels"
    household.save()
    ensure_default_tariffs(world.home_tenant)
    midnight = datetime(2026, 10, 14, tzinfo=ZoneInfo("Europe/Brussels"))
    rows = [
        HouseholdEnergy(household=household, resolution=resolution, start=start, import_wh=wh,
                        import_by_register={"1": wh}, peak_import_w=1600, complete=True)
        for resolution, start, wh in (
            *[("15m", midnight + timedelta(minutes=15 * q), 100) for q in range(96)],
            *[("1h", midnight + timedelta(hours=h), 400) for h in range(24)],
            ("1d", midnight, 9600),
        )
    ]  # fmt: skip
    HouseholdEnergy.objects.bulk_create(rows)


def test_the_owner_reads_a_day_in_kwh_and_money(
    page: Page, live_server: Any, transactional_db: None, world: World
) -> None:
    a_metered_day(world)
    log_in(page, live_server, world.users["household_owner"].username)
    page.get_by_test_id("energy-link").click()
    page.goto(f"{page.url}?period=day&date=2026-10-14")
    expect(page.get_by_test_id("house-kwh")).to_have_text("9.60 kWh")
    expect(page.get_by_test_id("chart").locator("rect.bar")).to_have_count(24)

    page.get_by_test_id("unit-money").click()
    expect(page.get_by_test_id("cost-total")).to_contain_text("EUR")
    expect(page.get_by_test_id("chart")).to_contain_text("EUR")

    with page.expect_download() as download:
        page.get_by_test_id("csv").click()
    lines = download.value.path().read_text().splitlines()
    assert lines[0].startswith("start,end,import_kwh") and len(lines) == 25
