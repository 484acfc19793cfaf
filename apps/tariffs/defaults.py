"""Ready-made tariffs of the three energy partners, with realistic 2025 numbers.

All prices per kWh and standing charges per day EXCLUDE VAT. French values are the
regulated "tarif bleu" (9 kVA) as published TTC by data.gouv.fr, divided by 1.20
(see shared/realdata/prices/fr_edf_tempo_tariff_history_datagouv__Gladys.csv);
UK values follow the Ofgem price cap of 2025 at 5 % VAT; Belgian values are typical
Flemish all-in prices (energy, network, levies) at 6 % VAT.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.tariffs.models import (
    DayType,
    Direction,
    PriceSeries,
    SeriesKind,
    Tariff,
    TariffKind,
    TariffVersion,
    TouPeriod,
)

D = Decimal
START_2025 = dt.date(2025, 1, 1)

# (name, day type, start "HH:MM", end "HH:MM", price)
Period = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class VersionSpec:
    valid_from: dt.date
    vat: str
    standing: str = "0"
    valid_until: dt.date | None = None
    flat: str | None = None
    export: str | None = None
    markup: str = "0"
    capacity: str | None = None
    periods: tuple[Period, ...] = ()


@dataclass(frozen=True)
class TariffSpec:
    code: str
    name: str
    kind: str
    versions: tuple[VersionSpec, ...]
    direction: str = Direction.IMPORT
    series: str | None = None
    default: bool = False
    description: str = ""


@dataclass(frozen=True)
class SeriesSpec:
    code: str
    kind: str
    resolution: int
    description: str


@dataclass(frozen=True)
class TenantSpec:
    series: tuple[SeriesSpec, ...] = ()
    tariffs: tuple[TariffSpec, ...] = field(default_factory=tuple)


def _tempo(hc: dict[str, str], hp: dict[str, str]) -> tuple[Period, ...]:
    periods: list[Period] = []
    for colour in ("blue", "white", "red"):
        day_type = f"tempo_{colour}"
        periods.append((f"{colour}_hp", day_type, "06:00", "22:00", hp[colour]))
        periods.append((f"{colour}_hc", day_type, "22:00", "06:00", hc[colour]))
    return tuple(periods)


UK = TenantSpec(
    series=(SeriesSpec("gb-agile", SeriesKind.PRICES, 30, "Octopus Agile-style half hours"),),
    tariffs=(
        TariffSpec("uk-flat", "Standard variable", TariffKind.FLAT, default=True, versions=(
            VersionSpec(START_2025, vat="0.05", standing="0.4872", flat="0.2368"),
        )),
        TariffSpec("uk-e7", "Economy 7", TariffKind.TOU, description="7 night hours", versions=(
            VersionSpec(START_2025, vat="0.05", standing="0.4850", periods=(
                ("night", DayType.ALL, "00:00", "07:00", "0.1420"),
                ("day", DayType.ALL, "07:00", "00:00", "0.2960"),
            )),
        )),
        TariffSpec("uk-e10", "Economy 10", TariffKind.TOU, versions=(
            VersionSpec(START_2025, vat="0.05", standing="0.4850", periods=(
                ("offpeak", DayType.ALL, "00:00", "05:00", "0.1650"),
                ("peak", DayType.ALL, "05:00", "13:00", "0.2900"),
                ("offpeak", DayType.ALL, "13:00", "16:00", "0.1650"),
                ("peak", DayType.ALL, "16:00", "20:00", "0.2900"),
                ("offpeak", DayType.ALL, "20:00", "22:00", "0.1650"),
                ("peak", DayType.ALL, "22:00", "00:00", "0.2900"),
            )),
        )),
        TariffSpec("uk-agile", "Agile (half-hourly)", TariffKind.DYNAMIC, series="gb-agile",
                   versions=(VersionSpec(START_2025, vat="0.05", standing="0.4562"),)),
        TariffSpec("uk-seg", "Smart Export Guarantee", TariffKind.FLAT,
                   direction=Direction.EXPORT, default=True,
                   versions=(VersionSpec(START_2025, vat="0", flat="0.1500"),)),
    ),
)  # fmt: skip

FR = TenantSpec(
    series=(SeriesSpec("fr-tempo", SeriesKind.TEMPO, 1440, "EDF Tempo colour calendar"),),
    tariffs=(
        TariffSpec("fr-base", "Base", TariffKind.FLAT, default=True, versions=(
            VersionSpec(START_2025, vat="0.20", standing="0.5200", flat="0.1627"),
        )),
        TariffSpec("fr-hphc", "Heures Pleines / Heures Creuses", TariffKind.TOU, versions=(
            VersionSpec(START_2025, vat="0.20", standing="0.5400", periods=(
                ("HC", DayType.ALL, "22:00", "06:00", "0.1363"),
                ("HP", DayType.ALL, "06:00", "22:00", "0.1734"),
            )),
        )),
        TariffSpec("fr-tempo", "Tempo", TariffKind.TEMPO, series="fr-tempo", versions=(
            VersionSpec(START_2025, valid_until=dt.date(2025, 7, 31), vat="0.20",
                        standing="0.4821", periods=_tempo(
                hc={"blue": "0.1073", "white": "0.1206", "red": "0.1265"},
                hp={"blue": "0.1293", "white": "0.1493", "red": "0.5488"},
            )),
            VersionSpec(dt.date(2025, 8, 1), vat="0.20", standing="0.5368", periods=_tempo(
                hc={"blue": "0.1027", "white": "0.1159", "red": "0.1217"},
                hp={"blue": "0.1245", "white": "0.1442", "red": "0.5390"},
            )),
        )),
        TariffSpec("fr-surplus", "Surplus buy-back (EDF OA)", TariffKind.FLAT,
                   direction=Direction.EXPORT, default=True,
                   versions=(VersionSpec(START_2025, vat="0", flat="0.0400"),)),
    ),
)  # fmt: skip

BE = TenantSpec(
    series=(SeriesSpec("be-da", SeriesKind.PRICES, 15, "ENTSO-E BE day-ahead"),),
    tariffs=(
        TariffSpec("be-bihoraire", "Bi-horaire (day/night)", TariffKind.TOU, default=True,
                   description="Night 22:00-07:00 on weekdays; the whole weekend is night.",
                   versions=(VersionSpec(START_2025, vat="0.06", standing="0.1500",
                                         capacity="51.9200", periods=(
                ("day", DayType.WEEKDAY, "07:00", "22:00", "0.3100"),
                ("night", DayType.WEEKDAY, "22:00", "07:00", "0.2500"),
                ("night", DayType.WEEKEND, "00:00", "00:00", "0.2500"),
            )),)),
        TariffSpec("be-dynamic", "Dynamic (day-ahead)", TariffKind.DYNAMIC, series="be-da",
                   versions=(VersionSpec(START_2025, vat="0.06", standing="0.1500",
                                         markup="0.1200", capacity="51.9200"),)),
        TariffSpec("be-injection", "Injection", TariffKind.FLAT, direction=Direction.EXPORT,
                   default=True, versions=(VersionSpec(START_2025, vat="0", flat="0.0350"),)),
    ),
)  # fmt: skip

SPECS = {"GB": UK, "FR": FR, "BE": BE}


def _time(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else D(value)


def _create_version(tariff: Tariff, spec: VersionSpec, series: PriceSeries | None) -> None:
    version = TariffVersion.objects.create(
        tariff=tariff,
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
        vat_rate=D(spec.vat),
        standing_charge_per_day=D(spec.standing),
        flat_price_per_kwh=_decimal(spec.flat),
        export_price_per_kwh=_decimal(spec.export),
        markup_per_kwh=D(spec.markup),
        capacity_price_per_kw_year=_decimal(spec.capacity),
        price_series=series,
    )
    TouPeriod.objects.bulk_create(
        TouPeriod(
            version=version,
            name=name,
            day_type=day_type,
            start=_time(start),
            end=_time(end),
            price_per_kwh=D(price),
        )
        for name, day_type, start, end, price in spec.periods
    )


def _ensure_series(tenant: Any, spec: SeriesSpec) -> PriceSeries:
    """The tenant's series; codes are global, so a second tenant's gets its slug first."""
    for code in (spec.code, f"{tenant.slug}-{spec.code}"):
        series, _ = PriceSeries.objects.get_or_create(
            code=code,
            defaults={
                "tenant": tenant,
                "kind": spec.kind,
                "currency": tenant.currency,
                "resolution_minutes": spec.resolution,
                "description": spec.description,
            },
        )
        if series.tenant_id == tenant.pk:
            return series
    raise ValueError(f"Series code {spec.code} is taken by other tenants.")


@transaction.atomic
def ensure_default_tariffs(tenant: Any) -> list[Tariff]:
    """Create the tenant's ready-made tariffs and series if missing (idempotent)."""
    spec = SPECS.get(tenant.country)
    if spec is None:
        return []
    series = {s.code: _ensure_series(tenant, s) for s in spec.series}
    tariffs = []
    for t in spec.tariffs:
        tariff, created = Tariff.objects.get_or_create(
            tenant=tenant,
            code=t.code,
            defaults={
                "name": t.name,
                "kind": t.kind,
                "direction": t.direction,
                "is_default": t.default,
                "description": t.description,
            },
        )
        if created:
            for version in t.versions:
                _create_version(tariff, version, series.get(t.series or ""))
        tariffs.append(tariff)
    return tariffs
