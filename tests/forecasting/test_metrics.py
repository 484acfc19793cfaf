"""Forecast versus actual: MAE, RMSE and skill against persistence, by hand."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from apps.energy.models import HouseholdEnergy, Resolution
from apps.forecasting import metrics, selectors
from apps.forecasting.models import Forecast
from tests.factories import HouseholdFactory

Q = timedelta(minutes=15)


def test_metric_functions() -> None:
    assert metrics.mae([1, 3], [2, 1]) == 1.5
    assert metrics.rmse([1, 3], [2, 1]) == pytest.approx(math.sqrt(2.5))
    assert metrics.skill(1.0, 4.0) == 0.75
    assert metrics.mae([], []) is None and metrics.skill(1.0, 0.0) is None


@pytest.mark.django_db
def test_forecast_vs_actual_on_a_tiny_series() -> None:
    home = HouseholdFactory(timezone="Europe/Brussels")
    start = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # 10:00 local
    Forecast.objects.create(
        household=home, kind="load", horizon="day_ahead", day=date(2026, 6, 10),
        issued_at=start - timedelta(hours=20), start=start,
        values_wh=[100, 200, 300, 400, 500],
    )  # fmt: skip
    today, yesterday = [110, 190, 330, 400], [100, 100, 100, 100]  # the 5th: not measured
    for n, (now, before) in enumerate(zip(today, yesterday, strict=True)):
        for moment, wh in ((start + n * Q, now), (start + n * Q - timedelta(days=1), before)):
            HouseholdEnergy.objects.create(
                household=home, resolution=Resolution.QUARTER, start=moment, import_wh=wh,
                complete=True,
            )  # fmt: skip
    result = selectors.forecast_vs_actual(
        household_id=home.pk, kind="load", start=start, end=start + 8 * Q
    )
    assert result["series"] == [
        (start, 100, 110), (start + Q, 200, 190), (start + 2 * Q, 300, 330),
        (start + 3 * Q, 400, 400), (start + 4 * Q, 500, None),
    ]  # fmt: skip
    assert result["mae_wh"] == pytest.approx((10 + 10 + 30 + 0) / 4)  # 12.5
    assert result["rmse_wh"] == pytest.approx(math.sqrt((100 + 100 + 900 + 0) / 4))
    assert result["persistence_mae_wh"] == pytest.approx((10 + 90 + 230 + 300) / 4)  # 157.5
    assert result["skill"] == pytest.approx(1 - 12.5 / 157.5)
    assert result["skill_rmse"] == pytest.approx(
        1 - math.sqrt(275) / math.sqrt((100 + 8100 + 52900 + 90000) / 4)
    )
    assert result["measured_quarters"] == 4 and result["persistence_quarters"] == 4
    assert result["bias_wh"] == pytest.approx((1000 - 1030) / 4)
