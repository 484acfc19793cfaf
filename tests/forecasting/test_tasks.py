"""The fleet task: chunked, every household's local tomorrow, idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from apps.forecasting import tasks
from apps.forecasting.models import Forecast
from tests.factories import HouseholdFactory, TenantFactory
from tests.forecasting.helpers import load_rollups, pv_home, pv_rollups

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 14, 18, 0, tzinfo=UTC)
TOMORROW = date(2026, 6, 15)


def test_day_ahead_for_the_fleet_in_chunks_and_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "CHUNK", 2)
    tenant = TenantFactory()
    solar, _, system = pv_home(tenant=tenant)
    pv_rollups(system, TOMORROW - timedelta(days=35), 35, 0.7)
    load_rollups(solar, TOMORROW - timedelta(weeks=4), 28, lambda t: 120)
    plain = HouseholdFactory(tenant=tenant)
    load_rollups(plain, TOMORROW - timedelta(weeks=4), 28, lambda t: 80)
    HouseholdFactory(tenant=tenant)  # no data yet: nothing issued, nothing fails

    with time_machine.travel(NOW, tick=False):
        assert tasks.forecast_day_ahead_all.delay().get() == 2  # 3 households, chunks of 2
        assert tasks.forecast_day_ahead_all.delay().get() == 2
    rows = Forecast.objects.order_by("kind")
    assert [(f.household_id, f.kind, f.day) for f in rows.filter(household=solar)] == [
        (solar.pk, "load", TOMORROW), (solar.pk, "pv", TOMORROW)
    ]  # fmt: skip
    assert rows.count() == 3
    assert set(rows.get(household=plain).values_wh) == {80}

    assert tasks.forecast_pv.delay(str(solar.pk), "2026-06-16").get() is True
    assert tasks.forecast_load.delay(str(plain.pk), "2026-06-16").get() is True
    assert tasks.forecast_pv.delay(str(plain.pk), "2026-06-16").get() is False
