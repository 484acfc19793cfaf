"""What the energy page shows: the report turned into chart bars, flow arrows and rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from apps.energy.costs import rounded
from apps.energy.reports import Report
from apps.portal.charts import Bar, Flow, bar_chart, flow_diagram

LABEL_FORMAT = {"day": "H", "week": "D", "month": "j", "year": "M"}


def _kwh(wh: int | None) -> Decimal | None:
    return None if wh is None else (Decimal(wh) / 1000).quantize(Decimal("0.01"))


def _bars(report: Report, unit: str) -> list[Bar]:
    bars = []
    for bar in report.bars:
        local = timezone.localtime(bar.start, report.zone)
        label = formats.date_format(local, LABEL_FORMAT[report.period])
        if unit == "money":
            value = None if bar.cost is None or not bar.flows.complete else rounded(bar.cost)
            title = (
                f"{label}: {value} {report.household.tenant.currency}"
                if value is not None
                else _("no data")
            )
        else:
            value = _kwh(bar.flows.house_consumption_wh)
            title = f"{label}: {value} kWh" if value is not None else _("no data")
        bars.append(Bar(label, value, title))
    return bars


def _flows(report: Report) -> list[Flow]:
    t = report.totals
    pv_home = (t.self_consumed_wh or 0) - t.battery_charge_wh
    return [
        Flow("grid", "house", t.import_wh / 1000),
        Flow("pv", "house", max(pv_home, 0) / 1000),
        Flow("pv", "battery", t.battery_charge_wh / 1000),
        Flow("battery", "house", t.battery_discharge_wh / 1000),
        Flow("pv", "export", t.export_wh / 1000),
    ]


def _change(now: Decimal | None, before: Decimal | None) -> float | None:
    if now is None or not before:
        return None
    return float((now - before) / before * 100)


def context(report: Report, unit: str) -> dict[str, Any]:
    currency = report.household.tenant.currency
    cost_total = rounded(report.cost.total) if report.cost else None
    house = _kwh(report.totals.house_wh)
    previous_house = _kwh(report.previous.house_wh) if report.previous else None
    previous_cost = rounded(report.previous_cost) if report.previous_cost is not None else None
    labels = {"grid": _("Grid"), "pv": _("Solar"), "house": _("Home"),
              "battery": _("Battery"), "export": _("To the grid")}  # fmt: skip
    return {
        "report": report,
        "unit": unit,
        "currency": currency,
        "chart": bar_chart(
            _bars(report, unit),
            currency if unit == "money" else "kWh",
            label_every=3 if report.period == "month" else 1,
        ),
        "flow_chart": flow_diagram(_flows(report), labels),
        "house_kwh": house,
        "import_kwh": _kwh(report.totals.import_wh),
        "export_kwh": _kwh(report.totals.export_wh),
        "pv_kwh": _kwh(report.totals.pv_wh),
        "untracked_kwh": _kwh(report.totals.untracked_wh),
        "self_sufficiency": report.totals.self_sufficiency,
        "cost_total": cost_total,
        "previous_house_kwh": previous_house,
        "previous_cost": previous_cost,
        "house_change": _change(house, previous_house),
        "cost_change": _change(cost_total, previous_cost),
        "devices": [
            {
                "device": line.device,
                "kwh": _kwh(line.energy_wh),
                "cost": rounded(line.cost) if line.cost is not None else None,
            }
            for line in report.devices
        ],
    }
