"""Coaching: saving opportunities found in the household's own data, priced with its tariff.

Every rule reads the last `WINDOW_DAYS` local days (ending at the household's last local
midnight) of the household's own 15-minute rollups and prices them with its own tariff
(`apps.tariffs.selectors.price_slots`, VAT included on what is bought, export paid without
VAT). A figure per year is the window's figure scaled to 365 days (so a PV tip found in
summer speaks of "at this season's rate"). A rule fires only above `MIN_EUR_PER_YEAR` and
says in plain words what it saw and what to do; the evidence dict carries the numbers
behind the tip. Without a tariff, or with prices not imported, no tip is given (prices are
never guessed).

The rules:

- `standby`: the night-time base load - the low (10th) percentile of the house's power
  between 01:00 and 04:59 local, without the measured heat pump, water heater, EV charger and
  timer-run appliances - against a typical standby of `TYPICAL_STANDBY_W` (the high end of
  the usual 50-80 W). The excess runs all year; it is priced, conservatively, at the average
  price of those night hours.
- `shift_to_cheaper_hours`: the energy of the washing machine, dishwasher and tumble dryer
  used when a time-of-use, Tempo or dynamic tariff is dearer than the day's cheapest two
  hours, and what it would have cost there instead.
- `pv_self_consumption`: on days with PV export, the same appliances' energy used while
  nothing was exported, up to the day's export, at the spread between the import price paid
  and the export price received.
- `appliance_consumption`: an appliance (known by its name, in en, fr, nl or it) whose
  yearly use is more than `EXCESS_FACTOR` times the high end of its kind's usual range;
  the excess is priced at the average price the appliance paid.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.devices.models import Device, DeviceKind
from apps.energy import periods
from apps.energy.models import DeviceEnergy, HouseholdEnergy
from apps.households.models import Household
from apps.tariffs import selectors as tariffs

WINDOW_DAYS = 28
DAYS_PER_YEAR = Decimal(365)
HOURS_PER_YEAR = Decimal(8760)
QUARTERS_PER_DAY = 96
MIN_EUR_PER_YEAR = Decimal(10)
KWH = Decimal(1000)
CENT = Decimal("0.01")
PRICE = Decimal("0.0001")

# Standby.
NIGHT_HOURS = range(1, 5)  # local quarters starting 01:00 to 04:45
TYPICAL_STANDBY_W = 80
BASE_LOAD_QUANTILE = Decimal("0.1")
MIN_NIGHT_QUARTERS = 7 * 16  # a week of nights at least
# Loads that run at night on purpose: not standby.
FLEXIBLE_KINDS = {DeviceKind.HEAT_PUMP, DeviceKind.WATER_HEATER, DeviceKind.EV_CHARGER}

# Moving programmes.
CHEAP_QUARTERS = 8  # a day's cheapest two hours: where a programme can go
MIN_PRICE_SPREAD = Decimal("0.01")  # per kWh: below this, the tariff is flat

# Appliances by name: (type, pattern), the first match wins (dishwasher before washer).
APPLIANCE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("fridge_freezer", r"fridge.?freezer|koel.?vries|frigo.?congel|combin[ée]"),
        ("dishwasher", r"dish|vaisselle|vaatwas|lavastoviglie"),
        ("tumble_dryer", r"dryer|drier|s[èe]che.?linge|droogkast|droger|asciugatrice"),
        ("washing_machine", r"washing|washer|lave.?linge|wasmachine|lavatrice"),
        ("freezer", r"freezer|cong[ée]lateur|diepvries|vriezer|congelatore"),
        ("fridge", r"fridge|r[ée]frig[ée]rateur|frigo|koelkast|frigorifero"),
    )
)
MOVABLE_TYPES = {"washing_machine", "dishwasher", "tumble_dryer"}
# The high end of the usual yearly use (kWh); usage appliances for up to 3 people.
REFERENCE_KWH_PER_YEAR: dict[str, int] = {
    "fridge": 300,  # 150-300
    "freezer": 350,  # 200-350
    "fridge_freezer": 400,  # 250-400
    "washing_machine": 250,  # 100-250
    "dishwasher": 300,  # 200-300
    "tumble_dryer": 500,  # 250-500
}
EXCESS_FACTOR = Decimal("1.5")
MIN_APPLIANCE_DAYS = 14  # measured days before an appliance is judged


# What each tip says: rendered from its values in the reader's language (a stored tip is
# shown again in the language of whoever reads it, without computing it again).
MESSAGES: dict[str, tuple[str, str]] = {
    "standby": (
        gettext_noop("Your home uses %(watts)s W even at night"),
        gettext_noop(
            "Between 1 and 5 in the morning, when everyone sleeps, your home still draws at "
            "least %(watts)s W. A typical home needs %(typical)s W or less for the devices "
            "that never switch off (router, fridge, standby lights). The %(excess)s W above "
            "that run day and night: about %(kwh)s kWh, or %(amount)s %(currency)s, a year. "
            "Walk through the house one evening and switch off, or put on a switchable plug "
            "strip, what does not need to stay on: TV boxes, game consoles, chargers, old "
            "appliances in the garage or the cellar."
        ),
    ),
    "shift_to_cheaper_hours": (
        gettext_noop("Run %(names)s in the cheaper hours"),
        gettext_noop(
            "Your tariff's price changes during the day. %(names)s used about %(kwh)s kWh a "
            "year at the dearer hours, at %(paid)s %(currency)s per kWh on average, while the "
            "cheapest hours of the same days cost about %(cheap)s %(currency)s. Starting them "
            "in the cheapest hours (with their delay start, or from the planner) would save "
            "about %(amount)s %(currency)s a year."
        ),
    ),
    "pv_self_consumption": (
        gettext_noop("Use your own solar power for %(names)s"),
        gettext_noop(
            "On sunny days your panels sent power to the grid while %(names)s ran at other "
            "times with power bought from the grid. Running them while the sun shines would "
            "use about %(kwh)s kWh a year of your own production instead (at this season's "
            "rate): the power you buy costs more than what the grid pays for yours, so that "
            "is about %(amount)s %(currency)s a year."
        ),
    ),
    "appliance_consumption": (
        gettext_noop("%(name)s uses much more than usual"),
        gettext_noop(
            "%(name)s is on its way to use about %(kwh)s kWh a year, where one of its "
            "kind usually needs at most %(reference)s kWh. Check its seals, "
            "thermostat, settings and filters, defrost it if it is iced, or think of "
            "a more efficient model: the difference is about %(amount)s %(currency)s "
            "a year."
        ),
    ),
}


@dataclass(frozen=True)
class Tip:
    kind: str
    title: str
    body: str
    eur_per_year: Decimal  # in `currency` (the tenant's: EUR or GBP), VAT included
    evidence: dict[str, Any] = field(default_factory=dict)
    currency: str = "EUR"
    values: dict[str, str] = field(default_factory=dict)  # what `title` and `body` say


def tip_text(kind: str, values: dict[str, str]) -> tuple[str, str]:
    """A tip's title and body in the active language; `kind` may carry the appliance
    ("appliance_consumption:Fridge")."""
    title, body = MESSAGES[kind.partition(":")[0]]
    return _(title) % values, _(body) % values


def appliance_type(device: Device) -> str | None:
    """The appliance's type from its name (the box only knows it as an appliance)."""
    if device.kind not in (DeviceKind.APPLIANCE, DeviceKind.SMART_PLUG):
        return None
    for kind, pattern in APPLIANCE_PATTERNS:
        if pattern.search(device.name):
            return kind
    return None


# The data the rules share ---------------------------------------------------------------


@dataclass
class Window:
    """The household's last weeks, read once: complete quarters, device quarters, prices."""

    household: Household
    start: datetime
    end: datetime
    zone: ZoneInfo
    currency: str
    vat: Decimal
    slots: dict[datetime, tariffs.PriceSlot]
    house: dict[datetime, tuple[int, int]]  # complete quarters: (house Wh, export Wh)
    devices: list[Device]
    device_quarters: dict[Any, dict[datetime, int]]  # device id -> complete quarter -> Wh

    def local_date(self, moment: datetime) -> date:
        return periods.local_date(moment, self.zone)

    def price_in(self, moment: datetime) -> Decimal:
        """The import price of the quarter, VAT included."""
        return self.slots[moment].import_price * (1 + self.vat)

    def export_price(self, moment: datetime) -> Decimal:
        return self.slots[moment].export_price

    def typed(self, types: Iterable[str]) -> list[Device]:
        wanted = set(types)
        return [d for d in self.devices if appliance_type(d) in wanted]

    def tip(self, kind: str, values: dict[str, Any], eur: Decimal, evidence: dict) -> Tip:
        text = {name: str(value) for name, value in values.items()}
        title, body = tip_text(kind, text)
        return Tip(kind, title, body, money(eur), evidence, self.currency, text)


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def per_kwh(price: Decimal) -> Decimal:
    return price.quantize(PRICE, rounding=ROUND_HALF_UP)


def _whole(amount: Decimal) -> str:
    return str(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def window_for(*, household: Household, now: datetime | None = None) -> Window | None:
    """The last WINDOW_DAYS local days before `now`; None without a tariff or prices."""
    zone = ZoneInfo(household.timezone)
    today = periods.local_date(now or timezone.now(), zone)
    start = periods.local_midnight(today - timedelta(days=WINDOW_DAYS), zone)
    end = periods.local_midnight(today, zone)
    try:
        slots = tariffs.price_slots(household=household, start=start, end=end)
        vat = tariffs.vat_rate(household=household, at=start)
    except (tariffs.NoTariff, tariffs.MissingPrice):
        return None
    house_rows = HouseholdEnergy.objects.filter(
        household=household, resolution="15m", start__gte=start, start__lt=end, complete=True
    ).values_list(
        "start", "import_wh", "pv_wh", "export_wh", "battery_discharge_wh", "battery_charge_wh"
    )
    house = {
        at: (max(imp + pv - exp + dis - chg, 0), exp) for at, imp, pv, exp, dis, chg in house_rows
    }
    devices = list(Device.objects.filter(household=household).order_by("name"))
    device_quarters: dict[Any, dict[datetime, int]] = defaultdict(dict)
    rows = DeviceEnergy.objects.filter(
        household=household, resolution="15m", start__gte=start, start__lt=end, complete=True
    ).values_list("device_id", "start", "energy_wh")
    for device_id, at, wh in rows:
        device_quarters[device_id][at] = wh
    return Window(
        household=household, start=start, end=end, zone=zone,
        currency=str(household.tenant.currency), vat=vat, slots={s.start: s for s in slots},
        house=house, devices=devices, device_quarters=device_quarters,
    )  # fmt: skip


# Standby ----------------------------------------------------------------------------------


def standby_tip(window: Window) -> Tip | None:
    flexible = [
        d.pk
        for d in window.devices
        if (d.kind in FLEXIBLE_KINDS or appliance_type(d) in MOVABLE_TYPES)
        and d.pk in window.device_quarters  # one never measured is not known to run
    ]
    watts, prices = [], []
    for at, (house_wh, _export) in window.house.items():
        if at.astimezone(window.zone).hour not in NIGHT_HOURS:
            continue
        measured = [window.device_quarters.get(pk, {}).get(at) for pk in flexible]
        if None in measured:  # a flexible load without data then: it may have been running
            continue
        running = sum(wh for wh in measured if wh is not None)
        watts.append(max(house_wh - running, 0) * 4)
        prices.append(window.price_in(at))
    if len(watts) < MIN_NIGHT_QUARTERS:
        return None
    watts.sort()
    base_w = watts[int(BASE_LOAD_QUANTILE * (len(watts) - 1))]
    excess_w = base_w - TYPICAL_STANDBY_W
    if excess_w <= 0:
        return None
    kwh_per_year = Decimal(excess_w) * HOURS_PER_YEAR / KWH
    night_price = sum(prices, Decimal(0)) / len(prices)
    eur = kwh_per_year * night_price
    if eur <= MIN_EUR_PER_YEAR:
        return None
    values = {
        "watts": base_w,
        "typical": TYPICAL_STANDBY_W,
        "excess": excess_w,
        "kwh": _whole(kwh_per_year),
        "amount": _whole(eur),
        "currency": window.currency,
    }
    return window.tip(
        "standby",
        values,
        eur,
        {
            "base_load_w": base_w,
            "typical_standby_w": TYPICAL_STANDBY_W,
            "excess_w": excess_w,
            "kwh_per_year": money(kwh_per_year),
            "night_price": per_kwh(night_price),
            "night_quarters": len(watts),
            "quantile": str(BASE_LOAD_QUANTILE),
        },
    )


# Moving programmes to cheaper hours -------------------------------------------------------


def _cheap_price_by_day(window: Window) -> dict[date, Decimal]:
    """Each local day's price of its cheapest two hours (mean of its cheapest quarters)."""
    by_day: dict[date, list[Decimal]] = defaultdict(list)
    for at in window.slots:
        by_day[window.local_date(at)].append(window.price_in(at))
    return {
        day: sum(sorted(prices)[:CHEAP_QUARTERS], Decimal(0)) / min(len(prices), CHEAP_QUARTERS)
        for day, prices in by_day.items()
    }


def _annual(amount: Decimal, days: int) -> Decimal:
    return amount * DAYS_PER_YEAR / days if days else Decimal(0)


def shift_tip(window: Window) -> Tip | None:
    movable = window.typed(MOVABLE_TYPES)
    prices = [window.price_in(at) for at in window.slots]
    if not movable or not prices or max(prices) - min(prices) < MIN_PRICE_SPREAD:
        return None
    cheap = _cheap_price_by_day(window)
    dear_kwh, saving, paid = Decimal(0), Decimal(0), Decimal(0)
    days: set[date] = set()
    for device in movable:
        for at, wh in window.device_quarters.get(device.pk, {}).items():
            day = window.local_date(at)
            days.add(day)
            price = window.price_in(at)
            if wh <= 0 or price - cheap[day] < MIN_PRICE_SPREAD:
                continue
            kwh = Decimal(wh) / KWH
            dear_kwh += kwh
            paid += kwh * price
            saving += kwh * (price - cheap[day])
    eur = _annual(saving, len(days))
    if eur <= MIN_EUR_PER_YEAR:
        return None
    names = ", ".join(d.name for d in movable)
    values = {
        "names": names,
        "kwh": _whole(_annual(dear_kwh, len(days))),
        "paid": money(paid / dear_kwh),
        "cheap": money(sum(cheap.values(), Decimal(0)) / len(cheap)),
        "amount": _whole(eur),
        "currency": window.currency,
    }
    return window.tip(
        "shift_to_cheaper_hours",
        values,
        eur,
        {
            "devices": [d.name for d in movable],
            "dear_kwh_per_year": money(_annual(dear_kwh, len(days))),
            "average_price_paid": per_kwh(paid / dear_kwh),
            "days": len(days),
        },
    )


# PV self-consumption ----------------------------------------------------------------------


def pv_tip(window: Window) -> Tip | None:
    movable = window.typed(MOVABLE_TYPES)
    if not movable:
        return None
    export_by_day: dict[date, list[tuple[Decimal, Decimal]]] = defaultdict(list)  # kWh, price
    for at, (_house, export_wh) in window.house.items():
        if export_wh > 0:
            export_by_day[window.local_date(at)].append(
                (Decimal(export_wh) / KWH, window.export_price(at))
            )
    if not export_by_day:
        return None
    elsewhere: dict[date, list[tuple[Decimal, Decimal]]] = defaultdict(list)  # kWh, price
    days: set[date] = set()
    for device in movable:
        for at, wh in window.device_quarters.get(device.pk, {}).items():
            day = window.local_date(at)
            days.add(day)
            exporting = window.house.get(at, (0, 0))[1] > 0
            if wh > 0 and not exporting:
                elsewhere[day].append((Decimal(wh) / KWH, window.price_in(at)))
    movable_kwh, value = Decimal(0), Decimal(0)
    for day, exports in export_by_day.items():
        used = elsewhere.get(day)
        if not used:
            continue
        exported = sum((kwh for kwh, _price in exports), Decimal(0))
        used_kwh = sum((kwh for kwh, _price in used), Decimal(0))
        import_price = sum((k * p for k, p in used), Decimal(0)) / used_kwh
        export_price = sum((k * p for k, p in exports), Decimal(0)) / exported
        shiftable = min(exported, used_kwh)
        movable_kwh += shiftable
        value += shiftable * max(import_price - export_price, Decimal(0))
    eur = _annual(value, len(days))
    if eur <= MIN_EUR_PER_YEAR:
        return None
    values = {
        "names": ", ".join(d.name for d in movable),
        "kwh": _whole(_annual(movable_kwh, len(days))),
        "amount": _whole(eur),
        "currency": window.currency,
    }
    return window.tip(
        "pv_self_consumption",
        values,
        eur,
        {
            "devices": [d.name for d in movable],
            "movable_kwh_per_year": money(_annual(movable_kwh, len(days))),
            "export_days": len(export_by_day),
            "days": len(days),
        },
    )


# Appliances using far more than their kind ------------------------------------------------


def appliance_tips(window: Window) -> list[Tip]:
    tips = []
    people = Decimal(max(window.household.household_size, 3)) / 3
    for device in window.devices:
        kind = appliance_type(device)
        if kind is None or kind not in REFERENCE_KWH_PER_YEAR:
            continue
        quarters = window.device_quarters.get(device.pk, {})
        if len(quarters) < MIN_APPLIANCE_DAYS * QUARTERS_PER_DAY:
            continue
        reference = Decimal(REFERENCE_KWH_PER_YEAR[kind])
        if kind in MOVABLE_TYPES:
            reference *= people
        kwh = sum((Decimal(wh) / KWH for wh in quarters.values()), Decimal(0))
        if kwh <= 0:
            continue
        cost = sum((Decimal(wh) / KWH * window.price_in(at) for at, wh in quarters.items()),
                   Decimal(0))  # fmt: skip
        measured_days = Decimal(len(quarters)) / QUARTERS_PER_DAY
        per_year = kwh * DAYS_PER_YEAR / measured_days
        if per_year <= EXCESS_FACTOR * reference:
            continue
        eur = (per_year - reference) * cost / kwh
        if eur <= MIN_EUR_PER_YEAR:
            continue
        values = {
            "name": device.name,
            "kwh": _whole(per_year),
            "reference": _whole(reference),
            "amount": _whole(eur),
            "currency": window.currency,
        }
        tips.append(
            window.tip(
                "appliance_consumption",
                values,
                eur,
                {
                    "device": device.name,
                    "appliance_type": kind,
                    "kwh_per_year": money(per_year),
                    "reference_kwh_per_year": money(reference),
                    "measured_days": money(measured_days),
                    "average_price": per_kwh(cost / kwh),
                },
            )
        )
    return tips


# All rules --------------------------------------------------------------------------------

RULES: tuple[Callable[[Window], Tip | list[Tip] | None], ...] = (
    standby_tip,
    shift_tip,
    pv_tip,
    appliance_tips,
)


def coaching_tips(*, household: Household, now: datetime | None = None) -> list[Tip]:
    """Every tip the household's last weeks support, the biggest saving first."""
    window = window_for(household=household, now=now)
    if window is None:
        return []
    tips: list[Tip] = []
    for rule in RULES:
        found = rule(window)
        if isinstance(found, Tip):
            tips.append(found)
        elif found:
            tips.extend(found)
    return sorted(tips, key=lambda tip: tip.eur_per_year, reverse=True)
