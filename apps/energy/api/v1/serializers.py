"""Energy API: the query (input) and the report as JSON and CSV rows (output)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from apps.energy.costs import rounded
from apps.energy.reports import Report
from apps.privacy.models import Purpose


class EnergyQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(["day", "week", "month", "year"], default="month")
    date = serializers.DateField(required=False, help_text="any day inside the period")
    unit = serializers.ChoiceField(["kwh", "money"], default="kwh")
    purpose = serializers.ChoiceField(
        Purpose.choices, required=False, help_text="why you read (default: your role's)"
    )


def kwh(wh: int | None) -> str | None:
    return None if wh is None else f"{Decimal(wh) / 1000:.3f}"


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(rounded(amount))


def bar_rows(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "start": timezone.localtime(bar.start, report.zone).isoformat(),
            "end": timezone.localtime(bar.end, report.zone).isoformat(),
            "import_kwh": kwh(bar.flows.grid_import_wh),
            "export_kwh": kwh(bar.flows.grid_export_wh),
            "pv_kwh": kwh(bar.flows.pv_wh),
            "house_kwh": kwh(bar.flows.house_consumption_wh),
            "self_consumed_kwh": kwh(bar.flows.self_consumed_wh),
            "battery_charge_kwh": kwh(bar.flows.battery_charge_wh),
            "battery_discharge_kwh": kwh(bar.flows.battery_discharge_wh),
            "untracked_kwh": kwh(bar.flows.untracked_wh),
            "cost": money(bar.cost),
            "complete": bar.flows.complete,
            "devices": {
                str(line.device.pk): kwh(bar.flows.devices.get(line.device.pk))
                for line in report.devices
            },
        }
        for bar in report.bars
    ]


def csv_columns(report_json: dict[str, Any]) -> list[tuple[str, str]]:
    """(header, device id) for each load: a column per device in the CSV."""
    return [(f"{d['name']} kWh ({d['id'][:8]})", d["id"]) for d in report_json["devices"]]


def report_data(report: Report) -> dict[str, Any]:
    totals, cost = report.totals, report.cost
    return {
        "household": str(report.household.pk),
        "period": report.period,
        "start": timezone.localtime(report.start, report.zone).isoformat(),
        "end": timezone.localtime(report.end, report.zone).isoformat(),
        "resolution": report.resolution,
        "currency": report.household.tenant.currency,
        "bars": bar_rows(report),
        "totals": {
            "import_kwh": kwh(totals.import_wh),
            "export_kwh": kwh(totals.export_wh),
            "pv_kwh": kwh(totals.pv_wh),
            "house_kwh": kwh(totals.house_wh),
            "self_consumed_kwh": kwh(totals.self_consumed_wh),
            "untracked_kwh": kwh(totals.untracked_wh),
            "self_sufficiency": totals.self_sufficiency,
            "bars_with_gaps": totals.gap_bars,
        },
        "cost": None if cost is None else {
            "energy": money(cost.import_cost),
            "by_period": {k: {"kwh": f"{v[0]:.3f}", "cost": money(v[1])}
                          for k, v in sorted(cost.by_period.items())},
            "standing_charge": money(cost.standing_charge),
            "capacity_charge": money(cost.capacity_charge),
            "capacity_peak_kw": kwh(None if cost.capacity_peak_kw is None
                                    else int(cost.capacity_peak_kw * 1000)),
            "vat": money(cost.vat),
            "export_revenue": money(cost.export_revenue),
            "total": money(cost.total),
            "quarters_without_data": cost.gap_quarters,
        },
        "cost_unavailable": report.cost_error or None,
        "devices": [
            {"id": str(line.device.pk), "name": line.device.name, "kind": line.device.kind,
             "kwh": kwh(line.energy_wh), "cost": money(line.cost)}
            for line in report.devices
        ],
        "previous": None if report.previous is None else {
            "house_kwh": kwh(report.previous.house_wh),
            "import_kwh": kwh(report.previous.import_wh),
            "cost": money(report.previous_cost),
        },
    }  # fmt: skip
