"""Coaching rules on crafted rollups, with the € figures worked out by hand.

The household is Belgian on the default bi-horaire tariff (6 % VAT): day 0.31 €/kWh on
weekdays 07:00-22:00, night 0.25 €/kWh otherwise and all weekend; injection 0.035 €/kWh.
With VAT: day 0.3286, night 0.265. The window is June 2026 (1-28 June, Monday to Sunday:
20 weekdays and 8 weekend days) in Brussels (UTC+2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.devices.models import Device, DeviceKind
from apps.energy.models import DeviceEnergy, HouseholdEnergy
from apps.households.models import Household
from apps.insights.coaching import appliance_type, coaching_tips
from apps.tariffs.defaults import ensure_default_tariffs
from tests.factories import DeviceFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 6, 29, 10, tzinfo=UTC)  # Monday 29 June, 12:00 in Brussels
START = datetime(2026, 5, 31, 22, tzinfo=UTC)  # Monday 1 June, 00:00 in Brussels
QUARTERS = [START + timedelta(minutes=15 * n) for n in range(28 * 96)]
DAY, NIGHT, EXPORT = Decimal("0.3286"), Decimal("0.265"), Decimal("0.035")
WEEKDAYS, WEEKEND_DAYS = 20, 8


def local_hour(at: datetime) -> int:
    return at.astimezone(BRUSSELS).hour


def house(
    household: Household,
    import_wh: Callable[[datetime], int],
    export_wh: Callable[[datetime], int] = lambda t: 0,
) -> None:
    HouseholdEnergy.objects.bulk_create(
        HouseholdEnergy(
            household=household, resolution="15m", start=at, import_wh=import_wh(at),
            export_wh=export_wh(at), pv_wh=export_wh(at), complete=True,
        )
        for at in QUARTERS
    )  # fmt: skip


def measured(device: Device, wh: Callable[[datetime], int], days: int = 28) -> None:
    DeviceEnergy.objects.bulk_create(
        DeviceEnergy(
            device=device, household=device.household, resolution="15m", start=at,
            energy_wh=wh(at), complete=True,
        )
        for at in QUARTERS[: days * 96]
    )  # fmt: skip


def appliance(household: Household, name: str, kind: str = DeviceKind.APPLIANCE) -> Device:
    made: Any = DeviceFactory(household=household, name=name, kind=kind)
    return made


def evening(at: datetime) -> int:  # a 1 kWh programme from 19:00 to 20:00
    return 250 if local_hour(at) == 19 else 0


def noon(at: datetime) -> int:
    return 250 if local_hour(at) == 12 else 0


def by_kind(tips: list[Any]) -> dict[str, Any]:
    return {tip.kind: tip for tip in tips}


@pytest.fixture
def home(world: Any) -> Household:
    ensure_default_tariffs(world.home_tenant)
    return world.household


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Fridge", "fridge"),
        ("Koelkast keuken", "fridge"),
        ("Réfrigérateur", "fridge"),
        ("Fridge-freezer", "fridge_freezer"),
        ("Congélateur", "freezer"),
        ("Dishwasher", "dishwasher"),
        ("Lave-vaisselle", "dishwasher"),
        ("Washing machine", "washing_machine"),
        ("Wasmachine", "washing_machine"),
        ("Lavatrice", "washing_machine"),
        ("Tumble dryer", "tumble_dryer"),
        ("Sèche-linge", "tumble_dryer"),
        ("Oven", None),
    ],
)
def test_appliance_type_from_its_name(name: str, kind: str | None) -> None:
    assert appliance_type(Device(name=name, kind=DeviceKind.APPLIANCE)) == kind


def test_clean_data_gives_no_tip(home: Household) -> None:
    house(home, lambda t: 15)  # 60 W around the clock
    measured(appliance(home, "Dishwasher"), lambda t: 250 if local_hour(t) == 23 else 0)
    measured(appliance(home, "Fridge"), lambda t: 8)  # 32 W: 280 kWh a year
    assert coaching_tips(household=home, now=NOW) == []


def test_no_tariff_no_tip(world: Any) -> None:
    house(world.abroad, lambda t: 100)  # 400 W at night, but no tariff to price it
    assert coaching_tips(household=world.abroad, now=NOW) == []


# Standby ----------------------------------------------------------------------------------


def test_night_base_load_above_typical_standby(home: Household) -> None:
    pump = appliance(home, "Heat pump", DeviceKind.HEAT_PUMP)
    night = lambda t: 1 <= local_hour(t) < 5  # noqa: E731
    measured(pump, lambda t: 250 if night(t) else 0)  # 1 kW all night: not standby
    # 20 quiet night quarters (40 W besides the pump) lie below the 10th percentile.
    lows = set(sorted(q for q in QUARTERS if night(q))[:20])
    house(home, lambda t: 260 if t in lows else 300 if night(t) else 50)
    tips = coaching_tips(household=home, now=NOW)
    assert [t.kind for t in tips] == ["standby"]
    tip = tips[0]
    # 448 night quarters; the 10th percentile (rank 44) is 200 W once the pump's 1 kW is
    # taken off (the 20 quiet ones, at 40 W, are ranks 0-19).
    # 200 - 80 = 120 W all year: 120 x 8760 / 1000 = 1,051.2 kWh, at the night price
    # 0.25 x 1.06 = 0.265 -> 278.568.
    assert tip.eur_per_year == Decimal("278.57")
    assert tip.currency == "EUR"
    assert tip.evidence["base_load_w"] == 200
    assert tip.evidence["excess_w"] == 120
    assert tip.evidence["kwh_per_year"] == Decimal("1051.20")
    assert tip.evidence["night_price"] == Decimal("0.2650")
    assert tip.evidence["night_quarters"] == 448
    assert "200 W" in tip.title and "279 EUR" in tip.body


def test_standby_just_under_the_threshold_is_silent(home: Household) -> None:
    # 84 W: 4 W x 8.76 h x 0.265 = 9.29 € a year, under 10 €.
    house(home, lambda t: 21)
    assert coaching_tips(household=home, now=NOW) == []


# Moving to cheaper hours ------------------------------------------------------------------


def test_programmes_in_dear_hours(home: Household) -> None:
    measured(appliance(home, "Dishwasher"), evening)
    tips = by_kind(coaching_tips(household=home, now=NOW))
    assert set(tips) == {"shift_to_cheaper_hours"}
    tip = tips["shift_to_cheaper_hours"]
    # Weekday evenings: 1 kWh at 0.3286 instead of the night's 0.265: 0.0636 x 20 = 1.272 €
    # in 28 days (weekend evenings are already at the night price); x 365 / 28 = 16.5814.
    assert tip.eur_per_year == Decimal("16.58")
    assert tip.evidence["dear_kwh_per_year"] == Decimal("260.71")  # 20 kWh x 365 / 28
    assert tip.evidence["average_price_paid"] == DAY
    assert tip.evidence["devices"] == ["Dishwasher"]
    assert "Dishwasher" in tip.title


def test_programmes_already_at_night_or_on_a_flat_tariff_are_silent(world: Any) -> None:
    ensure_default_tariffs(world.home_tenant)
    measured(appliance(world.household, "Wasmachine"), lambda t: 250 if local_hour(t) == 23 else 0)
    assert coaching_tips(household=world.household, now=NOW) == []
    ensure_default_tariffs(world.other_tenant)  # France: Base, one price all day
    measured(appliance(world.abroad, "Lave-vaisselle"), evening)
    assert coaching_tips(household=world.abroad, now=NOW) == []


# PV self-consumption ----------------------------------------------------------------------


def test_export_at_noon_while_the_dishwasher_runs_in_the_evening(home: Household) -> None:
    house(home, lambda t: 0 if local_hour(t) == 12 else 15, export_wh=noon)  # 1 kWh exported
    measured(appliance(home, "Dishwasher"), evening)
    tips = by_kind(coaching_tips(household=home, now=NOW))
    assert set(tips) == {"pv_self_consumption", "shift_to_cheaper_hours"}
    tip = tips["pv_self_consumption"]
    # Each day 1 kWh exported and 1 kWh bought in the evening: weekdays 0.3286 - 0.035 =
    # 0.2936, weekends 0.265 - 0.035 = 0.23: 20 x 0.2936 + 8 x 0.23 = 7.712 € in 28 days,
    # x 365 / 28 = 100.531.
    assert tip.eur_per_year == Decimal("100.53")
    assert tip.evidence["movable_kwh_per_year"] == Decimal("365.00")
    assert tip.evidence["export_days"] == 28
    assert tips["shift_to_cheaper_hours"].eur_per_year == Decimal("16.58")
    assert coaching_tips(household=home, now=NOW)[0].kind == "pv_self_consumption"  # biggest


def test_dishwasher_already_on_the_sun_is_silent(home: Household) -> None:
    house(home, lambda t: 0 if local_hour(t) == 12 else 15, export_wh=lambda t: 2 * noon(t))
    measured(appliance(home, "Dishwasher"), noon)
    assert "pv_self_consumption" not in by_kind(coaching_tips(household=home, now=NOW))


# Appliances using far more than their kind ------------------------------------------------


def test_a_fridge_using_far_more_than_fridges_do(home: Household) -> None:
    measured(appliance(home, "Fridge"), lambda t: 15)  # 60 W: 1.44 kWh a day
    tips = coaching_tips(household=home, now=NOW)
    assert [t.kind for t in tips] == ["appliance_consumption"]
    tip = tips[0]
    # 1.44 x 365 = 525.6 kWh a year > 1.5 x 300. Its average price: weekdays 60 day
    # quarters at 0.3286 and 36 night ones at 0.265, weekends 96 at 0.265:
    # (20 x (60 x 0.3286 + 36 x 0.265) + 8 x 96 x 0.265) / 2688 = 788.64 / 2688.
    # (525.6 - 300) x 788.64 / 2688 = 66.189.
    assert tip.eur_per_year == Decimal("66.19")
    assert tip.evidence["kwh_per_year"] == Decimal("525.60")
    assert tip.evidence["reference_kwh_per_year"] == Decimal("300.00")
    assert tip.evidence["appliance_type"] == "fridge"
    assert "Fridge" in tip.title and "526 kWh" in tip.body


def test_a_normal_fridge_or_one_measured_too_briefly_is_silent(home: Household) -> None:
    measured(appliance(home, "Fridge"), lambda t: 8)  # 280 kWh a year
    measured(appliance(home, "Congélateur"), lambda t: 30, days=10)  # 10 days: too few
    assert coaching_tips(household=home, now=NOW) == []


def test_washing_machine_reference_grows_with_the_household(home: Household) -> None:
    machine = appliance(home, "Washing machine")  # 2 kWh every night: 730 kWh a year
    measured(machine, lambda t: 500 if local_hour(t) == 23 else 0)
    tips = by_kind(coaching_tips(household=home, now=NOW))
    assert "appliance_consumption" in tips  # 2 people: 730 > 1.5 x 250
    home.household_size = 6
    home.save()
    tips = by_kind(coaching_tips(household=home, now=NOW))
    assert "appliance_consumption" not in tips  # 6 people: 250 x 2 = 500, x 1.5 = 750
