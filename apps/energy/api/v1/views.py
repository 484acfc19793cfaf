"""GET /api/v1/households/<id>/energy/: a period's energy and cost (JSON, or ?format=csv)."""

from __future__ import annotations

import csv
import io
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.energy import periods
from apps.energy.api.v1.serializers import (
    EnergyQuerySerializer,
    csv_columns,
    report_data,
)
from apps.energy.reports import BAR_RESOLUTION, energy_report
from apps.energy.selectors import period_bounds
from apps.privacy.policy import Resolution, consumption_access

CSV_COLUMNS = (
    "start", "end", "import_kwh", "export_kwh", "pv_kwh", "house_kwh", "self_consumed_kwh",
    "battery_charge_kwh", "battery_discharge_kwh", "untracked_kwh", "cost", "complete",
)  # fmt: skip


class CSVRenderer(BaseRenderer):
    """The bars of the period, one row each, for a spreadsheet."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        out = io.StringIO()
        if isinstance(data, dict) and "bars" in data:
            devices = csv_columns(data)
            writer = csv.writer(out)
            writer.writerow([*CSV_COLUMNS, *(header for header, _ in devices)])
            for bar in data["bars"]:
                writer.writerow(
                    [*(bar[c] for c in CSV_COLUMNS), *(bar["devices"][i] for _, i in devices)]
                )
        else:  # an error: its message, readable in a spreadsheet too
            out.write(f"error\n{data.get('detail', data) if isinstance(data, dict) else data}\n")
        return out.getvalue().encode()


class HouseholdEnergyView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]
    api_scope = "consumption"  # the scope a third party's API token needs (apps.accounts)

    @extend_schema(
        parameters=[EnergyQuerySerializer],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="bars, totals, cost, devices and the previous period",
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="the bars"),
            400: OpenApiResponse(description="a bad period, date or unit, named"),
            403: OpenApiResponse(description="finer than the data-access policy allows"),
            404: OpenApiResponse(description="not a household whose consumption you may see"),
        },
    )
    def get(self, request: Request, household_id: Any) -> Response:
        query = EnergyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        access = consumption_access(
            user=request.user,
            household_id=household_id,
            resolution=Resolution(BAR_RESOLUTION[period]),
            purpose=query.validated_data.get("purpose"),
            what=f"API energy {period}",
        )
        household = access.household
        day = query.validated_data.get("date") or periods.local_date(
            timezone.now(), ZoneInfo(household.timezone)
        )
        report = energy_report(household=household, period=period, day=day)
        access.covering(*period_bounds(household=household, period=period, containing=day))
        response = Response(report_data(report))
        if request.accepted_renderer.format == "csv":
            name = f"energy-{period}-{report.day.isoformat()}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
