"""Celery tasks: thin, take ids and ISO dates, call a service; all idempotent."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from apps.forecasting import services
from apps.forecasting.models import Horizon
from apps.households.models import Household

CHUNK = 500


def _day(day_iso: str | None) -> date | None:
    return date.fromisoformat(day_iso) if day_iso else None


@shared_task
def forecast_pv(household_id: str, day_iso: str, horizon: str = Horizon.DAY_AHEAD) -> bool:
    household = Household.objects.filter(pk=household_id).first()
    if household is None:
        return False
    day = date.fromisoformat(day_iso)
    return services.forecast_pv_household(household=household, day=day, horizon=horizon) is not None


@shared_task
def forecast_load(household_id: str, day_iso: str, horizon: str = Horizon.DAY_AHEAD) -> bool:
    household = Household.objects.filter(pk=household_id).first()
    if household is None:
        return False
    day = date.fromisoformat(day_iso)
    forecast = services.forecast_load_household(household=household, day=day, horizon=horizon)
    return forecast is not None


@shared_task
def forecast_chunk(
    household_ids: list[str], horizon: str = Horizon.DAY_AHEAD, day_iso: str | None = None
) -> int:
    return services.forecast_households(
        household_ids=household_ids, horizon=horizon, day=_day(day_iso)
    )


@shared_task
def forecast_day_ahead_all(day_iso: str | None = None) -> int:
    """Fan out every household in chunks of CHUNK; each forecasts its local tomorrow
    (or `day_iso`). Re-running replaces the same forecasts. Returns the chunks queued."""
    chunks = 0
    for ids in services.household_id_chunks(size=CHUNK):
        forecast_chunk.delay(ids, Horizon.DAY_AHEAD, day_iso)
        chunks += 1
    return chunks


@shared_task
def forecast_intraday_all() -> int:
    """Intraday updates of today's PV and load for every household (chunked)."""
    chunks = 0
    for ids in services.household_id_chunks(size=CHUNK):
        forecast_chunk.delay(ids, Horizon.INTRADAY, None)
        chunks += 1
    return chunks
