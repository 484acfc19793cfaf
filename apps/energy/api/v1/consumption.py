"""GET /api/v1/households/<id>/consumption/: the household's consumption series at one
resolution, for one purpose, as the data-access policy allows.

The one endpoint a recipient (the DSO, a third party) reads time series from: it asks the
policy (consent, access log) and answers at the resolution asked, resampled from the
stored rollups (30-minute periods are two quarters); raw readings only for short spans.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.energy import periods
from apps.energy.flows import Flows
from apps.energy.selectors import flows_series
from apps.households.models import Household
from apps.privacy.models import Purpose, Resolution
from apps.privacy.policy import consumption_access
from apps.telemetry.models import MeterReading

# The longest span one request may ask at each resolution (bounded answers).
MAX_DAYS: dict[str, int] = {
    Resolution.RAW: 2,
    Resolution.QUARTER: 31,
    Resolution.HALF_HOUR: 31,
    Resolution.HOUR: 93,
    Resolution.DAY: 732,
    Resolution.MONTH: 3660,
}


class ConsumptionQuerySerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(Resolution.choices)
    start = serializers.DateField(help_text="first local day")
    end = serializers.DateField(help_text="day after the last local day")
    purpose = serializers.ChoiceField(
        Purpose.choices, required=False, help_text="why you read (default: your role's)"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        days = (attrs["end"] - attrs["start"]).days
        if days <= 0:
            raise serializers.ValidationError("end must be after start.")
        limit = MAX_DAYS[attrs["resolution"]]
        if days > limit:
            raise serializers.ValidationError(
                f"At {attrs['resolution']} one request covers {limit} days at most."
            )
        return attrs


class HouseholdConsumptionView(APIView):
    api_scope = "consumption"  # the scope a third party's API token needs (apps.accounts)

    @extend_schema(
        parameters=[ConsumptionQuerySerializer],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="the series and its basis"),
            400: OpenApiResponse(description="a bad resolution, span or purpose, named"),
            403: OpenApiResponse(description="finer than the household's consent allows"),
            404: OpenApiResponse(description="not a household whose consumption you may see"),
        },
    )
    def get(self, request: Request, household_id: Any) -> Response:
        query = ConsumptionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        resolution = Resolution(asked["resolution"])
        purpose = Purpose(asked["purpose"]) if asked.get("purpose") else None
        access = consumption_access(
            user=request.user,
            household_id=household_id,
            resolution=resolution,
            purpose=purpose,
            what="API consumption series",
        )
        household = access.household
        zone = ZoneInfo(household.timezone)
        start = periods.local_midnight(asked["start"], zone)
        end = periods.local_midnight(asked["end"], zone)
        access.covering(start, end)
        return Response(
            {
                "household": str(household.pk),
                "resolution": resolution.value,
                "purpose": access.purpose.value,
                "basis": access.basis.value,
                "consent": str(access.consent_id) if access.consent_id else None,
                "points": _points(household, resolution, asked["start"], asked["end"]),
            }
        )


def _points(household: Household, resolution: Resolution, first: date, end: date) -> list[Any]:
    zone = ZoneInfo(household.timezone)
    start, stop = periods.local_midnight(first, zone), periods.local_midnight(end, zone)
    if resolution == Resolution.RAW:
        return _raw_points(household, start, stop)
    stored = Resolution.QUARTER if resolution == Resolution.HALF_HOUR else resolution
    series = flows_series(household=household, start=start, end=stop, resolution=stored)
    points = [_point(f.start, f.end, [f], zone) for f in series]
    if resolution == Resolution.HALF_HOUR:
        points = [
            _point(series[i].start, series[i + 1].end, series[i : i + 2], zone)
            for i in range(0, len(series) - 1, 2)
        ]
    return points


def _point(start: Any, end: Any, parts: list[Flows], zone: ZoneInfo) -> dict[str, Any]:
    def total(values: list[int | None]) -> int | None:
        return None if any(v is None for v in values) else sum(v or 0 for v in values)

    return {
        "start": start.astimezone(zone).isoformat(),
        "end": end.astimezone(zone).isoformat(),
        "import_wh": sum(p.grid_import_wh for p in parts),
        "export_wh": sum(p.grid_export_wh for p in parts),
        "pv_wh": sum(p.pv_wh for p in parts),
        "house_wh": total([p.house_consumption_wh for p in parts]),
        "complete": all(p.complete for p in parts),
    }


def _raw_points(household: Household, start: Any, stop: Any) -> list[dict[str, Any]]:
    rows = (
        MeterReading.objects.filter(household=household, time__gte=start, time__lt=stop)
        .order_by("time", "batch_id", "seq")
        .values_list("time", "import_w", "export_w")
    )
    zone = ZoneInfo(household.timezone)
    return [
        {"time": t.astimezone(zone).isoformat(), "import_w": imp, "export_w": exp}
        for t, imp, exp in rows.iterator(chunk_size=5000)
    ]
