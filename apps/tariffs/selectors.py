"""The price lookup the cost engine calls, and the console's tariff reads.

`price_slots` answers quarter-hour prices for a household over a UTC range in a handful
of queries whatever the range's length: contracts, versions with their periods, Tempo
colours and day-ahead points are read in bulk first, then every slot is priced in
memory. Time-of-use windows and Tempo days are evaluated in the household's own time
zone, so a 23-hour day has 92 quarter hours and a 25-hour day 100.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, QuerySet

from apps.core.permissions import Action
from apps.tariffs.models import (
    DayType,
    Direction,
    HouseholdTariff,
    PricePoint,
    Tariff,
    TariffKind,
    TariffVersion,
    TempoColour,
    TempoDay,
    TouPeriod,
)

QUARTER = dt.timedelta(minutes=15)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
TEMPO_DAY_STARTS = dt.timedelta(hours=6)  # a Tempo day runs 06:00 to 06:00 local
ZERO = Decimal(0)

TEMPO_DAY_TYPE = {
    TempoColour.BLUE: DayType.TEMPO_BLUE,
    TempoColour.WHITE: DayType.TEMPO_WHITE,
    TempoColour.RED: DayType.TEMPO_RED,
}


class NoTariff(Exception):
    """The household has no tariff (no contract, no tenant default, or no version) then."""


class MissingPrice(Exception):
    """A day-ahead price or a Tempo colour is not imported (yet): never guessed.

    `slot_start` is the first slot that cannot be priced: the prices before it are known."""

    def __init__(self, message: str, *, slot_start: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.slot_start = slot_start


@dataclass(frozen=True, slots=True)
class PriceSlot:
    start: dt.datetime  # UTC
    end: dt.datetime
    import_price: Decimal  # per kWh, excluding VAT, tenant's currency
    export_price: Decimal
    period: str  # "flat", "night", "HC", "red_hp", "dynamic", ...
    version_id: UUID  # the import tariff's version


# Contracts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Contract:
    tariff_id: UUID
    export_tariff_id: UUID | None


def _zone(household: Any) -> ZoneInfo:
    return ZoneInfo(household.timezone)


def _dates_overlap(first: dt.date, last: dt.date) -> Q:
    return Q(valid_from__lte=last) & (Q(valid_until__isnull=True) | Q(valid_until__gte=first))


def _contracts(household: Any, first: dt.date, last: dt.date) -> list[HouseholdTariff]:
    return list(
        HouseholdTariff.objects.filter(_dates_overlap(first, last), household_id=household.pk)
    )


def _defaults(household: Any) -> _Contract | None:
    """The tenant's default tariffs, for days the household has no contract for."""
    defaults = dict(
        Tariff.objects.filter(tenant_id=household.tenant_id, is_default=True).values_list(
            "direction", "pk"
        )
    )
    if Direction.IMPORT not in defaults:
        return None
    return _Contract(defaults[Direction.IMPORT], defaults.get(Direction.EXPORT))


def _contract_on(
    day: dt.date, contracts: list[HouseholdTariff], default: _Contract | None
) -> _Contract | None:
    for contract in contracts:
        if contract.covers(day):
            return _Contract(contract.tariff_id, contract.export_tariff_id)
    return default


def _versions(tariff_ids: Iterable[UUID], first: dt.date, last: dt.date) -> list[TariffVersion]:
    return list(
        TariffVersion.objects.filter(_dates_overlap(first, last), tariff_id__in=set(tariff_ids))
        .select_related("tariff", "price_series")
        .prefetch_related(Prefetch("periods", queryset=TouPeriod.objects.order_by("pk")))
    )


def _version_on(day: dt.date, tariff_id: UUID, versions: list[TariffVersion]) -> TariffVersion:
    for version in versions:
        if version.tariff_id == tariff_id and version.covers(day):
            return version
    raise NoTariff(f"Tariff {tariff_id} has no version valid on {day}.")


# Pricing one version --------------------------------------------------------------------


def _minute(value: dt.time) -> int:
    return value.hour * 60 + value.minute


@dataclass(frozen=True, slots=True)
class _Window:
    day_type: str
    start: int  # minutes after local midnight
    end: int
    price: Decimal
    name: str

    def contains(self, minute: int) -> bool:
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end  # wraps past midnight


def _quarter_key(moment: dt.datetime) -> int:
    """The quarter hour (counted from the epoch) that holds `moment`."""
    return (moment - EPOCH) // QUARTER


class _Pricer:
    """Prices of one tariff version, set up once per `price_slots` call."""

    def __init__(
        self,
        version: TariffVersion,
        tempo: dict[dt.date, str],
        points: dict[int, Decimal],
    ) -> None:
        self.version = version
        self.kind = version.tariff.kind
        self.tempo = tempo
        self.points = points
        self.windows = [
            _Window(p.day_type, _minute(p.start), _minute(p.end), p.price_per_kwh, p.name)
            for p in version.periods.all()
        ]
        # (day type, minute of the local day) -> (price, period): a month has only a few
        # hundred distinct keys, so the windows are scanned once per key, not per slot.
        self._window_prices: dict[tuple[str, int], tuple[Decimal, str]] = {}

    def price(self, start: dt.datetime, local: dt.datetime, key: int) -> tuple[Decimal, str]:
        """`local` is `start` in the household's zone; `key` its `_quarter_key`."""
        if self.kind == TariffKind.FLAT:
            return self._flat(start)
        if self.kind == TariffKind.DYNAMIC:
            return self._dynamic(start, key)
        return self._windowed(start, local)

    def _flat(self, start: dt.datetime) -> tuple[Decimal, str]:
        if self.version.flat_price_per_kwh is None:
            raise MissingPrice(f"{self.version} has no flat price (slot starting {start}).")
        return self.version.flat_price_per_kwh, "flat"

    def _dynamic(self, start: dt.datetime, key: int) -> tuple[Decimal, str]:
        spot = self.points.get(key)
        if spot is None:
            series = self.version.price_series
            raise MissingPrice(
                f"No price in series {series} for the slot starting {start.isoformat()}.",
                slot_start=start,
            )
        return spot + self.version.markup_per_kwh, "dynamic"

    def _day_type(self, start: dt.datetime, local: dt.datetime) -> str:
        """The day type besides ALL (aware arithmetic on `local` is wall-clock time)."""
        if self.kind == TariffKind.TEMPO:
            tempo_date = (local - TEMPO_DAY_STARTS).date()
            colour = self.tempo.get(tempo_date)
            if colour is None:
                raise MissingPrice(
                    f"No Tempo colour for {tempo_date} (series {self.version.price_series}),"
                    f" needed for the slot starting {start.isoformat()}.",
                    slot_start=start,
                )
            return TEMPO_DAY_TYPE[TempoColour(colour)]
        return DayType.WEEKEND if local.weekday() >= 5 else DayType.WEEKDAY

    def _windowed(self, start: dt.datetime, local: dt.datetime) -> tuple[Decimal, str]:
        day_type = self._day_type(start, local)
        minute = local.hour * 60 + local.minute
        found = self._window_prices.get((day_type, minute))
        if found is None:
            for window in self.windows:
                if window.day_type in (DayType.ALL, day_type) and window.contains(minute):
                    found = self._window_prices[day_type, minute] = window.price, window.name
                    break
            else:
                raise MissingPrice(
                    f"No period of {self.version} covers local time {local.isoformat()}"
                    f" (slot starting {start.isoformat()})."
                )
        return found


def _tempo_colours(versions: list[TariffVersion], first: dt.date, last: dt.date) -> Any:
    series_ids = {v.price_series_id for v in versions if v.tariff.kind == TariffKind.TEMPO}
    colours: dict[Any, dict[dt.date, str]] = {sid: {} for sid in series_ids}
    if series_ids:
        days = TempoDay.objects.filter(
            series_id__in=series_ids, date__gte=first - dt.timedelta(days=1), date__lte=last
        ).values_list("series_id", "date", "colour")
        for series_id, day, colour in days:
            colours[series_id][day] = colour
    return colours


def _spot_prices(
    versions: list[TariffVersion], start: dt.datetime, end: dt.datetime
) -> dict[Any, dict[int, Decimal]]:
    """Day-ahead points of the range, spread over the quarter hours they cover."""
    series_ids = {v.price_series_id for v in versions if v.tariff.kind == TariffKind.DYNAMIC}
    prices: dict[Any, dict[int, Decimal]] = {sid: {} for sid in series_ids}
    for series_id in series_ids:  # usually one; no uuid column to convert per row
        points = PricePoint.objects.filter(
            series_id=series_id, start__lt=end, end__gt=start
        ).values_list("start", "end", "price_per_kwh")
        quarters = prices[series_id]
        for point_start, point_end, price in points:
            for key in range(_quarter_key(point_start), _quarter_key(point_end)):
                quarters[key] = price
    return prices


# The lookup -----------------------------------------------------------------------------


def _slot_bounds(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end) cut at every quarter hour UTC (the first and last may be partial)."""
    bounds = []
    cursor, boundary = start, EPOCH + (_quarter_key(start) + 1) * QUARTER
    while cursor < end:
        following = min(boundary, end)
        bounds.append((cursor, following))
        cursor, boundary = following, boundary + QUARTER
    return bounds


def _check_range(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("price_slots needs aware datetimes (UTC or with an offset).")
    if end < start:
        raise ValueError("price_slots: end is before start.")
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


class _Plan:
    """Everything `price_slots` needs, read in bulk for the local days of the range."""

    def __init__(self, household: Any, start: dt.datetime, end: dt.datetime) -> None:
        self.zone = _zone(household)
        first = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        self.contracts = _contracts(household, first, last)
        self.default = _defaults(household)
        tariff_ids = {c.tariff_id for c in self.contracts}
        tariff_ids |= {c.export_tariff_id for c in self.contracts if c.export_tariff_id}
        if self.default is not None:
            tariff_ids.add(self.default.tariff_id)
            if self.default.export_tariff_id is not None:
                tariff_ids.add(self.default.export_tariff_id)
        versions = _versions(tariff_ids, first, last) if tariff_ids else []
        self.versions = versions
        tempo = _tempo_colours(versions, first, last)
        spot = _spot_prices(versions, start, end)
        self.pricers = {
            v.pk: _Pricer(v, tempo.get(v.price_series_id, {}), spot.get(v.price_series_id, {}))
            for v in versions
        }
        self._by_day: dict[dt.date, tuple[_Pricer, _Pricer | None]] = {}

    def pricers_on(self, day: dt.date, slot_start: dt.datetime) -> tuple[_Pricer, _Pricer | None]:
        if day not in self._by_day:
            contract = _contract_on(day, self.contracts, self.default)
            if contract is None:
                raise NoTariff(
                    f"The household has no tariff on {day}"
                    f" (first slot without one starts {slot_start.isoformat()})."
                )
            try:
                imp = _version_on(day, contract.tariff_id, self.versions)
                exp = None
                if contract.export_tariff_id is not None:
                    exp = _version_on(day, contract.export_tariff_id, self.versions)
            except NoTariff as error:
                raise NoTariff(f"{error} (slot starting {slot_start.isoformat()})") from error
            self._by_day[day] = (
                self.pricers[imp.pk],
                self.pricers[exp.pk] if exp else None,
            )
        return self._by_day[day]


def price_slots(*, household: Any, start: dt.datetime, end: dt.datetime) -> list[PriceSlot]:
    """Import and export prices for every quarter hour of [start, end).

    Slots are aligned on :00/:15/:30/:45 UTC; if `start` or `end` is not, the first or
    last slot is cut to it, so the slots always cover exactly [start, end). Raises
    NoTariff or MissingPrice naming the first slot that cannot be priced.
    """
    start, end = _check_range(start, end)
    if start == end:
        return []
    plan = _Plan(household, start, end)
    slots = []
    first_key = _quarter_key(start)
    for key, (slot_start, slot_end) in enumerate(_slot_bounds(start, end), first_key):
        local = slot_start.astimezone(plan.zone)
        importer, exporter = plan.pricers_on(local.date(), slot_start)
        import_price, period = importer.price(slot_start, local, key)
        if exporter is not None:
            export_price = exporter.price(slot_start, local, key)[0]
        else:
            # No export contract: the import tariff's bundled export price, else unpaid.
            export_price = importer.version.export_price_per_kwh or ZERO
        slots.append(
            PriceSlot(slot_start, slot_end, import_price, export_price, period, importer.version.pk)
        )
    return slots


# Per-day and per-month terms ------------------------------------------------------------


def _import_version_on(household: Any, day: dt.date) -> TariffVersion:
    contract = _contract_on(day, _contracts(household, day, day), None) or _defaults(household)
    if contract is None:
        raise NoTariff(f"The household has no tariff on {day}.")
    return _version_on(day, contract.tariff_id, _versions([contract.tariff_id], day, day))


def tariff_version_at(*, household: Any, at: dt.datetime) -> TariffVersion:
    """The import tariff's version in force at `at` (its day in the household's zone)."""
    if at.tzinfo is None:
        raise ValueError("tariff_version_at needs an aware datetime.")
    return _import_version_on(household, at.astimezone(_zone(household)).date())


def standing_charge(*, household: Any, day: dt.date) -> Decimal:
    """The import tariff's standing charge for one local day, excluding VAT."""
    return _import_version_on(household, day).standing_charge_per_day


def capacity_terms(*, household: Any, month: dt.date) -> tuple[Decimal, Decimal] | None:
    """(price per kW and year, minimum kW) of the capacity tariff for the month, if any.

    The version in force on the month's first day decides; the cost engine takes the
    month's highest 15-minute average import power, at least the minimum.
    """
    version = _import_version_on(household, month.replace(day=1))
    if version.capacity_price_per_kw_year is None:
        return None
    return version.capacity_price_per_kw_year, version.capacity_minimum_kw


def vat_rate(*, household: Any, at: dt.datetime) -> Decimal:
    return tariff_version_at(household=household, at=at).vat_rate


# Console reads --------------------------------------------------------------------------


def tariff_list(*, user: Any) -> QuerySet[Tariff]:
    return (
        Tariff.objects.restrict(user, Action.VIEW)
        .select_related("tenant")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=TariffVersion.objects.select_related("price_series").prefetch_related(
                    Prefetch("periods", queryset=TouPeriod.objects.order_by("day_type", "start"))
                ),
            )
        )
    )
