"""Energy and cost: a month reconciled with the meter's registers, the API, the CSV, the page.

The month is October 2026 in Brussels: 31 days and one 25-hour day (DST ends on the 25th).
Readings go through the real ingest and rollups; the expected bill is computed here from
the meter's register deltas and the tariff's published prices, independently of the engine.
"""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.energy.costs import household_cost, rounded
from apps.energy.selectors import period_bounds
from apps.energy.services import energy_rollup_household
from apps.fleet import services as fleet
from apps.tariffs.defaults import ensure_default_tariffs
from apps.telemetry.services import telemetry_ingest
from gateway_agent.protocol import MeterReading, TelemetryBatch
from tests.conftest import World

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
METER = "1SAG1100000001"
STEP = timedelta(minutes=5)
DAY_PRICE, NIGHT_PRICE = Decimal("0.3100"), Decimal("0.2500")  # BE bi-horaire, excl. VAT
STANDING, CAPACITY, MINIMUM_KW, VAT = (
    Decimal("0.15"),
    Decimal("51.92"),
    Decimal("2.5"),
    Decimal("0.06"),
)


def is_day(moment: datetime) -> bool:
    """The meter's day register: weekdays 07:00-22:00 local time."""
    local = moment.astimezone(BRUSSELS)
    return local.weekday() < 5 and 7 <= local.hour < 22


def watts(moment: datetime) -> int:
    """A household's load, with an evening peak of 4.2 kW on the 14th."""
    local = moment.astimezone(BRUSSELS)
    base = 250 + 40 * (local.minute // 5) + (900 if 18 <= local.hour < 21 else 0)
    return base + (3000 if local.day == 14 and local.hour == 19 else 0)


@pytest.fixture
def october(world: World) -> dict[str, Any]:
    """A paired box's meter readings every 5 minutes through October, ingested and rolled up."""
    ensure_default_tariffs(world.home_tenant)
    household = world.household
    household.timezone = "Europe/Brussels"
    household.save()
    gateway = world.gateways["ours"]
    pairing = fleet.pairing_request(user=world.users["household_owner"], gateway=gateway)
    fleet.pairing_approve(user=world.users["dso_staff"], pairing=pairing, meter_id=METER)
    start, end = period_bounds(household=household, period="month", containing=date(2026, 10, 1))
    registers = {"1": 1_000_000, "2": 2_000_000}
    readings, moment = [], start
    while moment <= end:
        readings.append(
            MeterReading(timestamp=moment, meter_id=METER, import_wh=dict(registers), tariff="1")
        )
        registers["1" if is_day(moment) else "2"] += watts(moment) * 5 // 60
        moment += STEP
    for first in range(0, len(readings), 5000):
        batch = TelemetryBatch(
            batch_id=uuid.uuid4(), serial=gateway.serial, meter=readings[first : first + 5000]
        )
        telemetry_ingest(gateway=gateway, batch=batch, now=datetime(2026, 11, 2, tzinfo=UTC))
    energy_rollup_household(
        household=household, start=start, end=end, now=datetime(2026, 11, 2, tzinfo=UTC)
    )
    return {
        "start": start,
        "end": end,
        "first": readings[0],
        "last": readings[-1],
        "readings": readings,
    }


def expected_peak_kw(readings: list[MeterReading]) -> Decimal:
    quarters: dict[datetime, int] = {}
    for before, after in itertools.pairwise(readings):
        used = sum(after.import_wh.values()) - sum(before.import_wh.values())
        quarter = before.timestamp.replace(minute=before.timestamp.minute // 15 * 15)
        quarters[quarter] = quarters.get(quarter, 0) + used
    return Decimal(max(quarters.values()) * 4) / 1000


def test_a_month_reconciles_with_the_meter_registers(world: World, october: dict[str, Any]) -> None:
    cost = household_cost(household=world.household, start=october["start"], end=october["end"])
    first, last = october["first"].import_wh, october["last"].import_wh
    day_kwh = Decimal(last["1"] - first["1"]) / 1000
    night_kwh = Decimal(last["2"] - first["2"]) / 1000
    assert (october["end"] - october["start"]) == timedelta(days=31, hours=1)  # DST ends
    assert cost.gap_quarters == 0
    assert cost.import_kwh == day_kwh + night_kwh
    assert cost.by_period["day"][0] == day_kwh and cost.by_period["night"][0] == night_kwh

    peak = expected_peak_kw(october["readings"])
    assert cost.capacity_peak_kw == peak and peak > MINIMUM_KW
    energy = day_kwh * DAY_PRICE + night_kwh * NIGHT_PRICE
    fixed = 31 * STANDING + peak * CAPACITY / 12
    bill = rounded((energy + fixed) * (1 + VAT))
    assert rounded(cost.total) == bill
    assert cost.currency == "EUR"


def test_the_api_gives_the_month_in_kwh_and_money_and_a_csv(
    world: World, october: dict[str, Any]
) -> None:
    client = world.client("household_owner")
    url = f"/api/v1/households/{world.household.pk}/energy/?period=month&date=2026-10-15"
    data = client.get(url).json()
    assert data["currency"] == "EUR" and data["resolution"] == "1d"
    assert len(data["bars"]) == 31
    assert data["bars"][0]["start"] == "2026-10-01T00:00:00+02:00"
    assert data["bars"][-1]["start"] == "2026-10-31T00:00:00+01:00"
    first, last = october["first"].import_wh, october["last"].import_wh
    metered = Decimal(sum(last.values()) - sum(first.values())) / 1000
    assert Decimal(data["totals"]["import_kwh"]) == metered
    assert sum(Decimal(b["import_kwh"]) for b in data["bars"]) == metered
    assert data["cost"]["total"]
    assert data["previous"]["house_kwh"] is None  # September has no readings: unknown, not 0

    response = client.get(url + "&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 31 and rows[0]["import_kwh"] == data["bars"][0]["import_kwh"]
    device = world.devices["ours"]
    assert f"{device.name} kWh ({str(device.pk)[:8]})" in rows[0]  # a column per device


def test_the_25_hour_day_has_25_hourly_bars(world: World, october: dict[str, Any]) -> None:
    client = world.client("household_owner")
    data = client.get(
        f"/api/v1/households/{world.household.pk}/energy/?period=day&date=2026-10-25"
    ).json()
    assert len(data["bars"]) == 25
    assert all(bar["house_kwh"] is not None for bar in data["bars"])  # the meter: no gap
    assert all(bar["untracked_kwh"] is None for bar in data["bars"])  # a device sent nothing


@pytest.mark.parametrize(
    ("role", "period", "status"),
    [
        ("household_owner", "day", 200), ("household_member", "month", 200),
        ("dso_staff", "month", 200), ("dso_staff", "day", 403),
        ("installer", "month", 404), ("third_party", "month", 404),
        ("telco_operator", "month", 404),
    ],
)  # fmt: skip
def test_the_data_access_policy_guards_every_read(
    world: World, role: str, period: str, status: int
) -> None:
    client = world.client(role)
    url = f"/api/v1/households/{world.household.pk}/energy/?period={period}&date=2026-10-15"
    assert client.get(url).status_code == status


def test_bad_parameters_are_a_400_naming_them(world: World) -> None:
    client = world.client("household_owner")
    response = client.get(f"/api/v1/households/{world.household.pk}/energy/?period=decade")
    assert response.status_code == 400 and "period" in response.json()
    response = client.get(f"/api/v1/households/{world.household.pk}/energy/?date=31-10-2026")
    assert response.status_code == 400 and "date" in response.json()


def test_without_a_tariff_energy_shows_and_cost_says_why(world: World) -> None:
    client = world.client("household_owner")
    data = client.get(f"/api/v1/households/{world.household.pk}/energy/?date=2026-10-15").json()
    assert data["cost"] is None and data["cost_unavailable"]
    assert all(bar["complete"] is False for bar in data["bars"])  # no readings: gaps, not zeros


def test_the_portal_page_shows_kwh_money_flows_and_devices(
    world: World, october: dict[str, Any]
) -> None:
    from django.test import Client

    client = Client()
    client.force_login(world.users["household_owner"])
    base = f"/households/{world.household.pk}/energy/?period=month&date=2026-10-15"
    page = client.get(base + "&unit=kwh").content.decode()
    assert 'data-testid="chart"' in page and "<svg" in page and 'data-testid="flows"' in page
    assert world.devices["ours"].name in page
    money = client.get(base + "&unit=money").content.decode()
    assert "EUR" in money and 'data-testid="cost-total"' in money
    neighbour = Client()
    neighbour.force_login(world.users["neighbour_owner"])
    assert neighbour.get(base).status_code == 404
    household_page = client.get(f"/households/{world.household.pk}/").content.decode()
    assert 'data-testid="energy-link"' in household_page
